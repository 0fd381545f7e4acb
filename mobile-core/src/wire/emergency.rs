//! Emergency mode (急时) and special operations (专项).

use chrono::{DateTime, Utc};

use crate::domain::emergency::DeadlineFactors;

wire! {
    /// The body of `POST /emergencies`: an ops centre switches its area to emergency mode.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct EmergencyRequest {
        /// A city, district or street the caller runs the ops centre of.
        pub area: String,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 500, message = "reason is 1 to 500 characters")))]
        pub reason: String,
        pub expected_end_at: DateTime<Utc>,
        /// How much of its normal time each grade gets [default: ½, ½, ½, ¼].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deadline_factors: Option<DeadlineFactors>,
        /// Also ask every off-duty field worker of the area to come on duty.
        #[serde(default)]
        pub call_on_duty: bool,
    }

    /// An emergency, running or ended.
    pub struct EmergencyView {
        pub id: String,
        pub area: String,
        pub reason: String,
        pub declared_by: String,
        pub declared_at: DateTime<Utc>,
        pub expected_end_at: DateTime<Utc>,
        pub deadline_factors: DeadlineFactors,
        /// Open events whose running deadline was shortened when it was declared.
        pub events_shortened: i64,
        /// People told: everyone working in the area (and, when called, off-duty workers).
        pub people_told: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ended_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub end_reason: Option<String>,
    }

    /// `GET /emergencies`.
    pub struct EmergencyList {
        pub emergencies: Vec<EmergencyView>,
    }

    /// The body of `POST /emergencies/{id}/end`: back to normal (平时).
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct EndEmergencyRequest {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 500, message = "reason is 1 to 500 characters")))]
        pub reason: String,
    }

    /// The body of `POST /special-operations`: one task per area of a level inside an area
    /// (e.g. check every compound of a grid), grouped under a named operation with a period.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct SpecialOperationRequest {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 100, message = "name is 1 to 100 characters")))]
        pub name: String,
        pub area: String,
        /// The level whose every area inside `area` gets a task.
        pub target_level: crate::AreaLevel,
        /// The category of the tasks (a check, a clean-up …).
        pub category: String,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 2000, message = "description is 1 to 2000 characters")))]
        pub description: String,
        pub ends_at: DateTime<Utc>,
        /// The emergency it belongs to, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub emergency_id: Option<String>,
    }

    /// One task of an operation.
    pub struct OperationTask {
        pub area: String,
        pub area_name: String,
        pub event_id: String,
        pub state: crate::domain::event::EventState,
    }

    /// A special operation with the state of each of its tasks.
    pub struct SpecialOperationView {
        pub id: String,
        pub name: String,
        pub area: String,
        pub target_level: crate::AreaLevel,
        pub category: String,
        pub starts_at: DateTime<Utc>,
        pub ends_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub emergency_id: Option<String>,
        pub created_by: String,
        /// Tasks in all, and how many are closed.
        pub total: i64,
        pub closed: i64,
        pub tasks: Vec<OperationTask>,
    }

    /// `GET /special-operations`.
    pub struct SpecialOperationList {
        pub operations: Vec<SpecialOperationView>,
    }
}
