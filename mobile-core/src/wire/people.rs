//! People: signing in, accounts and their grants, duty and location, devices and notifications.

use chrono::{DateTime, Utc};

use super::LatLng;
use crate::domain::crs::Crs;
use crate::domain::role::{Role, Scope};

wire! {
    /// The body of `POST /auth/login`.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct LoginRequest {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 64, message = "username is required")))]
        pub username: String,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 256, message = "password is required")))]
        pub password: String,
    }

    /// A person's account as the API shows it. The phone number only to the person and to
    /// those who manage them.
    pub struct UserView {
        pub id: String,
        pub username: String,
        pub display_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub phone: Option<String>,
        pub is_active: bool,
        pub created_at: DateTime<Utc>,
    }

    /// A role held over a scope (and, for department handlers, for a department).
    pub struct Grant {
        pub id: String,
        pub role: Role,
        pub scope: Scope,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub department: Option<String>,
    }

    /// The answer to a sign-in.
    pub struct LoginAnswer {
        pub token: String,
        /// Always `Bearer`.
        pub token_type: String,
        pub expires_at: DateTime<Utc>,
        pub user: UserView,
    }

    /// `GET /me`: who the caller is and what they may do where.
    pub struct Me {
        pub user: UserView,
        pub roles: Vec<Grant>,
    }

    /// An account with its grants, as its managers see it.
    pub struct UserWithRoles {
        #[serde(flatten)]
        pub user: UserView,
        pub roles: Vec<Grant>,
    }

    /// `GET /users`: one page.
    pub struct UserPage {
        pub users: Vec<UserWithRoles>,
        pub limit: i64,
        pub offset: i64,
    }

    /// Sessions ended by a password change or by a manager.
    pub struct SessionsRevoked {
        /// `password_changed` after one's own change.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub status: Option<String>,
        pub sessions_revoked: usize,
    }

    /// A grant taken away.
    pub struct GrantRevoked {
        pub revoked: String,
        pub user_id: String,
    }

    /// The body of `PUT /me/duty`.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct DutyRequest {
        pub on_duty: bool,
        /// When the worker switched, on the phone's clock (an offline queue sends it later);
        /// the server's time otherwise. Pings are judged against these times.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub at: Option<DateTime<Utc>>,
    }

    /// Whether a field worker is on duty, and where they were last.
    pub struct DutyView {
        pub on_duty: bool,
        pub location: Option<LatLng>,
        pub located_at: Option<DateTime<Utc>>,
        pub updated_at: DateTime<Utc>,
    }

    /// Where the phone was at one moment.
    #[serde(deny_unknown_fields)]
    pub struct Ping {
        pub lat: f64,
        pub lng: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub crs: Option<Crs>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub accuracy_m: Option<f64>,
        pub recorded_at: DateTime<Utc>,
    }

    /// The body of `POST /me/location`: pings, batched.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct LocationBatch {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 500, message = "send 1 to 500 pings per batch")))]
        pub pings: Vec<Ping>,
    }

    /// What became of a batch of pings (a resent batch is all duplicates).
    pub struct PingsStored {
        pub accepted: usize,
        pub duplicates: usize,
        /// Recorded while the sender was off duty: not kept (positions are tracked on duty only).
        #[serde(default)]
        pub off_duty: usize,
    }

    /// A field worker as the ops centre over their area sees them (where they were last is
    /// personal data: only for those who steer the area).
    pub struct WorkerView {
        pub user_id: String,
        pub display_name: String,
        pub role: Role,
        /// The area the role is held over.
        pub area_code: Option<String>,
        pub on_duty: bool,
        /// Open tasks now.
        pub open_tasks: i64,
        pub location: Option<LatLng>,
        pub located_at: Option<DateTime<Utc>>,
    }

    /// `GET /workforce`: the field workers of the caller's area, on duty first.
    pub struct Workforce {
        pub workers: Vec<WorkerView>,
    }

    /// The body of `POST /devices`: this phone's push token.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct DeviceRequest {
        #[cfg_attr(feature = "validate", validate(length(min = 20, max = 4096, message = "fcm_token is the registration token the FCM SDK gave the app")))]
        pub fcm_token: String,
        /// `android` or `ios`.
        pub platform: String,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 40, message = "app_version is 1 to 40 characters")))]
        pub app_version: String,
        #[cfg_attr(feature = "validate", validate(length(min = 2, max = 20, message = "locale is a language tag such as zh-CN")))]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub locale: Option<String>,
    }

    /// A registered phone (the token itself is never shown again).
    pub struct DeviceView {
        pub id: String,
        pub platform: String,
        pub app_version: String,
        pub locale: String,
        pub active: bool,
        pub deactivated_reason: Option<String>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }

    /// `GET /devices`.
    pub struct DeviceList {
        pub devices: Vec<DeviceView>,
    }

    /// A notification in the caller's inbox, with how far its delivery got.
    pub struct NotificationView {
        pub id: String,
        pub event_id: Option<String>,
        /// `assigned`, `warning`, `overdue`, `supervised`, `pool` …
        pub kind: String,
        /// Title, body and data as pushed.
        pub payload: serde_json::Value,
        pub created_at: DateTime<Utc>,
        /// `pending`, `sent`, `failed` …
        pub delivery: String,
        pub sent_at: Option<DateTime<Utc>>,
        pub received_at: Option<DateTime<Utc>>,
        pub read_at: Option<DateTime<Utc>>,
    }

    /// `GET /notifications`.
    pub struct Inbox {
        pub notifications: Vec<NotificationView>,
    }
}

wire! {
    /// A request to erase one's personal data, as the person and the administrators over their
    /// area see it.
    pub struct ErasureRequestView {
        pub id: String,
        pub user_id: String,
        /// The account's name now (after erasure, an anonymous one).
        pub username: String,
        pub state: crate::domain::erasure::ErasureState,
        /// The areas the person held roles in when asking (empty: system-wide administrators only).
        pub areas: Vec<String>,
        pub created_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub decided_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub decided_by: Option<String>,
        /// Why it was declined.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub decision_reason: Option<String>,
        /// What the erasure changed: rows per kind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub summary: Option<std::collections::BTreeMap<String, i64>>,
    }

    /// `GET /erasure-requests` and `GET /me/erasure-requests`.
    pub struct ErasureRequestList {
        pub requests: Vec<ErasureRequestView>,
    }

    /// The body of `POST /erasure-requests/{id}/decision`.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct ErasureDecisionRequest {
        pub decision: crate::domain::erasure::ErasureDecision,
        /// Required to decline: the person reads it.
        #[cfg_attr(feature = "validate", validate(length(max = 500, message = "reason is at most 500 characters")))]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reason: Option<String>,
    }
}
