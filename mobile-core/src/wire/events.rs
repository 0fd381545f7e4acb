//! Events and tasks: reporting, acting, the event with its history, the phone's task feed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ErrorBody, EvidenceGroups, LatLng, Point};
use crate::domain::area::AreaLevel;
use crate::domain::category::Grade;
use crate::domain::crs::Crs;
use crate::domain::event::{Action, EventState, Source};
use crate::domain::supervision::OrderState;
use crate::domain::task::TaskState;

wire! {
    /// The body of `POST /events`: a problem seen somewhere.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct ReportRequest {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 16, message = "category is required")))]
        pub category: String,
        /// Who reports in which capacity; the server checks it against the caller's roles.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub source: Option<Source>,
        pub lat: f64,
        pub lng: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub crs: Option<Crs>,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 2000, message = "description must be 1 to 2000 characters")))]
        #[cfg_attr(feature = "validate", validate(custom(function = "crate::wire::not_blank")))]
        pub description: String,
        #[cfg_attr(feature = "validate", validate(length(max = 200, message = "address is at most 200 characters")))]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub address: Option<String>,
        /// The reporter's suggestion; the category's default otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub grade: Option<Grade>,
        /// Where the reporter stood, if not at the problem.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reporter_location: Option<Point>,
        /// Before-photos uploaded ahead of the report (`POST /evidence` without an event).
        #[serde(default)]
        #[cfg_attr(feature = "validate", validate(length(max = 20, message = "at most 20 photos")))]
        pub evidence: Vec<String>,
    }
}

/// What became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Filed {
    /// A new event was opened.
    Created,
    /// An open event of the same category was nearby: the reporter now follows it.
    Duplicate,
    /// The same Idempotency-Key was sent before: the event it made.
    Replayed,
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
    /// The grade the reporter suggested; the ops centre sets `grade` (`regrade`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_grade: Option<Grade>,
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
    /// A handler asked for more time on the running stage; the ops centre has not answered.
    #[serde(default)]
    pub extension_requested: bool,
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

/// One event of the volunteer pool, with how far it is from the volunteer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolItem {
    #[serde(flatten)]
    pub event: EventView,
    /// Metres from where the volunteer said they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

/// One page of `GET /pool`: nearest first; `next` is the cursor of the following page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolPage {
    pub events: Vec<PoolItem>,
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

wire! {
    /// The answer to a report: the event it was filed as, and how.
    pub struct ReportAnswer {
        #[serde(flatten)]
        pub event: EventView,
        pub filed: Filed,
    }

    /// The answer to an action: the event after it.
    pub struct ActionAnswer {
        #[serde(flatten)]
        pub event: EventView,
        /// The same Idempotency-Key was sent before; nothing new happened.
        pub replayed: bool,
    }

    /// One step of an event's timeline. Who acted, where, and the step's detail only to staff
    /// over the event's area.
    pub struct TimelineEntry {
        pub seq: i32,
        /// The action or the system's step (`report`, `dispatch`, `escalate`, `evidence_flagged` …).
        pub action: String,
        pub from: Option<EventState>,
        pub to: EventState,
        pub reason: Option<String>,
        /// The role the actor acted in.
        pub role: Option<String>,
        pub at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub actor: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub location: Option<LatLng>,
        /// What else the step decided (why a handler was chosen, the merge target …).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub detail: Option<serde_json::Value>,
    }

    /// One handler's task on an event.
    pub struct EventTask {
        pub user: String,
        pub lead: bool,
        pub state: TaskState,
        pub department: Option<String>,
        pub assigned_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        /// Why this handler was chosen (staff only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub why: Option<serde_json::Value>,
    }

    /// A supervision order (督办) on an event.
    pub struct SupervisionOrder {
        pub id: String,
        pub event_id: String,
        /// The level of the ops centre that issued it.
        pub level: AreaLevel,
        pub area_code: Option<String>,
        /// Issued by the scheduler on an overdue stage, not by a person.
        pub automatic: bool,
        pub reason: String,
        pub issued_by: String,
        pub created_at: DateTime<Utc>,
        /// `open` (a reply is due), `replied`, `closed` or `escalated` (past due, a higher
        /// level's order took over).
        pub state: OrderState,
        pub due_at: Option<DateTime<Utc>>,
        /// Open past its due time.
        pub overdue: bool,
        pub reply: Option<String>,
        /// Photos (evidence ids) of the reply.
        pub reply_evidence: Vec<String>,
        pub replied_by: Option<String>,
        pub replied_at: Option<DateTime<Utc>>,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTime<Utc>>,
        /// Why the issuing level sent the last reply back.
        pub send_back_reason: Option<String>,
        /// The higher level's order this one escalated into.
        pub escalated_to: Option<String>,
    }

    /// An order with the event it is about, as the supervision list shows it.
    pub struct SupervisionItem {
        pub order: SupervisionOrder,
        pub event: EventView,
    }

    /// `GET /supervision-orders`: newest first.
    pub struct SupervisionList {
        pub orders: Vec<SupervisionItem>,
        pub limit: i64,
        pub next: Option<String>,
    }

    /// A link between two events (a duplicate merged into another, a split part).
    pub struct EventLink {
        pub event_id: String,
        pub other_id: String,
        pub kind: String,
        pub created_at: DateTime<Utc>,
    }

    /// `GET /events/{id}`: the event with everything that happened to it.
    pub struct EventDetail {
        #[serde(flatten)]
        pub event: EventView,
        pub timeline: Vec<TimelineEntry>,
        pub tasks: Vec<EventTask>,
        pub supervision_orders: Vec<SupervisionOrder>,
        pub links: Vec<EventLink>,
        pub evidence: EvidenceGroups,
        /// The display names of the people the timeline and tasks name, by user id (staff over
        /// the area only; others see no actors).
        #[serde(default)]
        pub names: std::collections::BTreeMap<String, String>,
        /// Calls to the 12345 hotline about it (callers masked except for ops staff).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub hotline_calls: Vec<super::HotlineCallView>,
    }

    /// What one event of a bulk action came to.
    pub struct BulkItem {
        pub id: String,
        pub ok: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub state: Option<EventState>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub version: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error: Option<ErrorBody>,
    }

    /// `POST /events/bulk`: each event is its own transaction.
    pub struct BulkAnswer {
        pub done: usize,
        pub failed: usize,
        pub results: Vec<BulkItem>,
    }

    /// Someone the event may be dispatched to, as an ops centre chooses.
    pub struct DispatchCandidate {
        pub user_id: String,
        pub display_name: String,
        /// A department's pool: dispatch names the department (`departments`), and its
        /// least-loaded handler (this one, now) takes it.
        pub department: Option<String>,
        /// A grid worker of the event's own grid.
        pub in_grid: bool,
        /// Open tasks now.
        pub load: i64,
        /// From the worker's last position.
        pub distance_m: Option<f64>,
        /// Why here: `grid_on_duty`, `nearest_in_street`, `at_task_limit`, `department_pool`.
        pub rule: String,
        /// Whom automatic dispatch would pick.
        pub recommended: bool,
    }

    /// `GET /events/{id}/candidates`: best first.
    pub struct DispatchCandidates {
        pub event_id: String,
        /// Open tasks at which a grid worker is no longer picked automatically.
        pub max_load: i64,
        pub candidates: Vec<DispatchCandidate>,
    }

    /// `POST /events/{id}/split`: the new events.
    pub struct SplitAnswer {
        pub events: Vec<EventView>,
    }
}
