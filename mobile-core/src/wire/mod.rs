//! The contract between the server and its clients: the body of every request and answer, which
//! the server builds and the phone parses (and the OpenAPI document describes), so a change on one
//! side is a compile error on the other rather than a string that silently stops matching.
//! Here: errors (every answer can be one), points, and the module per part of the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::crs::Crs;

/// Every wire type: printable, comparable, serde both ways, and a schema for the OpenAPI document.
macro_rules! wire {
    ($($item:item)*) => { $(
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        $item
    )* };
}

mod catalog;
mod doors;
mod emergency;
mod events;
mod evidence;
mod map;
mod people;
mod sensing;
mod volunteers;

pub use catalog::*;
pub use doors::*;
pub use emergency::*;
pub use events::*;
pub use evidence::*;
pub use map::*;
pub use people::*;
pub use sensing::*;
pub use volunteers::*;

/// Refuses text that is only whitespace (a description of spaces says nothing).
#[cfg(feature = "validate")]
pub fn not_blank(value: &str) -> Result<(), validator::ValidationError> {
    if value.trim().is_empty() {
        let mut e = validator::ValidationError::new("blank");
        e.message = Some("must not be blank".into());
        return Err(e);
    }
    Ok(())
}

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
    /// Too many requests from this client for an endpoint anyone can reach (`Retry-After` says
    /// when to come back).
    RateLimited,
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
            ErrorCode::LoginLocked | ErrorCode::RateLimited => 429,
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
            "invalid_transition"
            | "part_resolved"
            | "event_finished"
            | "extension_pending"
            | "no_extension_requested"
            | "already_decided"
            | "case_open"
            | "nothing_to_excuse" => ErrorCode::Conflict,
            _ => ErrorCode::ValidationFailed,
        }
    }
}

/// What is wrong with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// The one shape of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorCode,
    #[serde(default)]
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

/// A WGS-84 position as the server answers it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

wire! {
    /// An answer that only says what happened (`ok`, `ready`, `signed_out` …).
    pub struct Status {
        pub status: String,
        /// Which database a ready server runs on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub database: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::Action;

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
