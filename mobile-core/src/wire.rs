//! The contract between the server and its clients: types both sides build and parse, so a change
//! on one side is a compile error on the other rather than a string that silently stops matching.
//! Starts with the one thing every answer can be — an error — and its one classification.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::domain::area::AreaLevel;
use crate::domain::category::Grade;
use crate::domain::crs::Crs;
use crate::domain::event::{Action, EventState, Source};
use crate::domain::task::TaskState;

/// The stable, machine-readable error codes of the API. Clients switch on these; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidJson,
    InvalidQuery,
    InvalidPath,
    ValidationFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unauthorized,
    InvalidCredentials,
    LoginLocked,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The HTTP status each code is sent with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson | ErrorCode::InvalidQuery | ErrorCode::InvalidPath => 400,
            ErrorCode::ValidationFailed => 422,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Unauthorized | ErrorCode::InvalidCredentials => 401,
            ErrorCode::LoginLocked => 429,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }

    /// What a refusal of the domain (the state machine, a parser) is on the wire — the one
    /// mapping the server, the phone's client and the bindings share: not allowed for this person
    /// is `forbidden`, not in this state `conflict`, anything else about the input
    /// `validation_failed`.
    pub fn of_refusal(code: &str) -> ErrorCode {
        match code {
            "not_permitted" | "not_assignee" | "verifier_is_resolver" => ErrorCode::Forbidden,
            "invalid_transition" | "part_resolved" | "event_finished" => ErrorCode::Conflict,
            _ => ErrorCode::ValidationFailed,
        }
    }
}

/// What is wrong with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub code: String,
    pub message: String,
}

/// The one shape of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
    #[serde(default)]
    pub fields: BTreeMap<String, FieldError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// A structured report that explains the error in full (e.g. every defect of an import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// A point as clients send it: WGS-84 unless `crs` says GCJ-02 or BD-09.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub lat: f64,
    pub lng: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs: Option<Crs>,
}

/// The body of `POST /events/{id}/actions` (and the action of a bulk call): what the server
/// parses and what the phone's queue stores and sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionRequest {
    #[serde(flatten)]
    pub action: Action,
    /// The version the client acted on; a stale one is refused with 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// Where the actor was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Point>,
    /// Dispatch to these departments' pools (the first leads) instead of named assignees.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<String>,
}

/// The most departments one dispatch may name.
pub const MAX_DISPATCH_DEPARTMENTS: usize = 20;

/// A WGS-84 position as the server answers it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

/// The codes of the seven areas an event lies in (the deeper ones may be missing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventAreas {
    pub city: Option<String>,
    pub district: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub grid: Option<String>,
    pub compound: Option<String>,
    pub building: Option<String>,
}

/// An event as every answer about events carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventView {
    pub id: String,
    pub category: String,
    pub grade: Grade,
    pub state: EventState,
    pub source: Source,
    pub description: String,
    pub address: Option<String>,
    pub location: LatLng,
    pub areas: EventAreas,
    /// The handlers it is given to, the lead first.
    pub assignees: Vec<String>,
    pub resolved_by: Option<String>,
    /// Handlers who have resolved their part.
    pub resolved_parts: Vec<String>,
    /// When the running stage is due.
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub warned: bool,
    pub escalation_level: Option<AreaLevel>,
    pub late_stages: i32,
    pub rework_count: i32,
    /// Send it back with an action to be refused (409) if the event changed meanwhile.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of `GET /events`: newest first; `next` is the cursor of the following page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventPage {
    pub events: Vec<EventView>,
    pub limit: i64,
    pub next: Option<String>,
}

/// One of the caller's tasks in the sync feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskItem {
    pub id: String,
    pub event_id: String,
    pub state: TaskState,
    /// The lead handler of a cross-department event.
    pub lead: bool,
    /// Still asks something of the handler; a closed, withdrawn or returned task means "drop it".
    pub open: bool,
    pub assigned_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The event as it is now; none once the handler is off it (withdrawn, returned).
    pub event: Option<EventView>,
}

/// `GET /tasks/mine`: the tasks changed since the cursor. Pass `cursor` back as `since`; `more`
/// says another page is ready now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskFeed {
    pub tasks: Vec<TaskItem>,
    pub cursor: String,
    pub more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_once_and_codes_round_trip() {
        assert_eq!(ErrorCode::of_refusal("invalid_transition"), ErrorCode::Conflict);
        assert_eq!(ErrorCode::of_refusal("not_assignee").status(), 403);
        assert_eq!(ErrorCode::of_refusal("reason_required").status(), 422);
        let body: ErrorBody = serde_json::from_str(
            r#"{"error":"login_locked","message":"wait","fields":{"password":{"code":"x","message":"y"}},"retry_after_seconds":60}"#,
        )
        .unwrap();
        assert_eq!(
            (body.error, body.error.status(), body.retry_after_seconds),
            (ErrorCode::LoginLocked, 429, Some(60))
        );
        assert_eq!(serde_json::to_value(ErrorCode::ValidationFailed).unwrap(), "validation_failed");
    }

    #[test]
    fn an_action_request_is_the_flat_json_clients_always_sent() {
        let raw = serde_json::json!({"action": "resolve", "evidence": ["p1"], "location": {"lat": 30.5, "lng": 114.2}});
        let parsed: ActionRequest = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(parsed.action, Action::Resolve { evidence: vec!["p1".into()] });
        assert_eq!(serde_json::to_value(&parsed).unwrap(), raw);
    }
}
