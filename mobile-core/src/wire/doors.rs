//! The standard doors to other systems: the client applications of the Open311 door, and calls
//! to the 12345 hotline with their callbacks.

use chrono::{DateTime, Utc};

wire! {
    /// The body of `POST /open311/clients`: a client application of the Open311 door.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct Open311ClientRequest {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 100, message = "name is 1 to 100 characters")))]
        pub name: String,
        /// Its jurisdiction: the area code its requests must lie in (and its `jurisdiction_id`).
        pub area: String,
    }

    /// A client application of the Open311 door.
    pub struct Open311Client {
        pub id: String,
        pub name: String,
        /// The jurisdiction (`jurisdiction_id` in Open311 calls).
        pub area: String,
        pub created_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub revoked_at: Option<DateTime<Utc>>,
        /// The `api_key`: only in the answer to the registration; kept only as its hash.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub api_key: Option<String>,
    }

    /// `GET /open311/clients`.
    pub struct Open311ClientList {
        pub clients: Vec<Open311Client>,
    }
}

wire! {
    /// The body of `POST /hotline/calls`: a call to the 12345 hotline, filed by its operator.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct HotlineCallRequest {
        /// The hotline system's reference number of the call; filing it again is the same call.
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 64, message = "reference is 1 to 64 characters")))]
        pub reference: String,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 64, message = "caller_name is 1 to 64 characters")))]
        pub caller_name: String,
        pub caller_phone: String,
        pub category: String,
        pub lat: f64,
        pub lng: f64,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 2000, message = "description is 1 to 2000 characters")))]
        pub description: String,
        #[cfg_attr(feature = "validate", validate(length(max = 200, message = "address is at most 200 characters")))]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub address: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub grade: Option<crate::domain::category::Grade>,
    }

    /// A call to the hotline. The caller's name and phone in full only for ops staff over the
    /// case (`masked` false); masked for everyone else; none once purged.
    pub struct HotlineCallView {
        pub id: String,
        pub reference: String,
        pub event_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub caller_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub caller_phone: Option<String>,
        pub masked: bool,
        pub created_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub callback_at: Option<DateTime<Utc>>,
        /// Whether the caller was satisfied, once called back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub satisfied: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub callback_note: Option<String>,
    }

    /// `GET /hotline/calls`.
    pub struct HotlineCallList {
        pub calls: Vec<HotlineCallView>,
    }

    /// The body of `POST /hotline/calls/{id}/callback` (回访).
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct CallbackRequest {
        pub satisfied: bool,
        #[cfg_attr(feature = "validate", validate(length(max = 500, message = "note is at most 500 characters")))]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub note: Option<String>,
    }
}

wire! {
    /// The body of `POST /webhooks`: a department system's subscription to the state changes
    /// of an area's events.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct WebhookRequest {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 100, message = "name is 1 to 100 characters")))]
        pub name: String,
        /// Where to POST each message (http or https).
        #[cfg_attr(feature = "validate", validate(length(min = 8, max = 1024, message = "url is 8 to 1024 characters")))]
        pub url: String,
        /// Only events inside this area.
        pub area: String,
        /// Only changes to these states [default: every state].
        #[serde(default)]
        pub states: Vec<crate::domain::event::EventState>,
        /// Only events of these categories [default: every category].
        #[serde(default)]
        pub categories: Vec<String>,
    }

    /// A webhook subscription.
    pub struct Webhook {
        pub id: String,
        pub name: String,
        pub url: String,
        pub area: String,
        pub states: Vec<crate::domain::event::EventState>,
        pub categories: Vec<String>,
        pub created_at: DateTime<Utc>,
        /// Set when it was switched off after failing again and again (or by hand).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub disabled_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub disabled_reason: Option<String>,
        pub consecutive_failures: i32,
        /// The signing secret (`whsec_…`): only in the answer to the registration.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub secret: Option<String>,
    }

    /// `GET /webhooks`.
    pub struct WebhookList {
        pub webhooks: Vec<Webhook>,
    }

    /// One message to a subscription and how its sending went.
    pub struct WebhookDelivery {
        /// The `webhook-id` header: the same on every retry.
        pub id: String,
        pub event_id: String,
        /// `event.created` or `event.state_changed`.
        pub kind: String,
        /// `pending`, `delivered` or `failed`.
        pub state: String,
        pub attempts: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_status: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_error: Option<String>,
        pub created_at: DateTime<Utc>,
        pub next_attempt_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub delivered_at: Option<DateTime<Utc>>,
    }

    /// `GET /webhooks/{id}/deliveries`: the delivery log, newest first.
    pub struct WebhookDeliveryList {
        pub deliveries: Vec<WebhookDelivery>,
    }
}

wire! {
    /// The body of `POST /departments/{code}/systems`: a department's own system that acts on the
    /// department's tasks with an API key.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct DepartmentSystemRequest {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 100, message = "name is 1 to 100 characters")))]
        pub name: String,
        /// The area whose tasks it handles (inside the department's area).
        pub area: String,
    }

    /// A department's system. Its `id` is its account: timelines name it as the actor.
    pub struct DepartmentSystem {
        pub id: String,
        pub name: String,
        pub department: String,
        pub area: String,
        pub created_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub revoked_at: Option<DateTime<Utc>>,
        /// The API key (`Authorization: Bearer …`): only in the answer to the registration.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub api_key: Option<String>,
    }

    /// `GET /departments/{code}/systems`.
    pub struct DepartmentSystemList {
        pub systems: Vec<DepartmentSystem>,
    }
}
