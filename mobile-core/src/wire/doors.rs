//! The standard doors to other systems: the client applications of the Open311 door.

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
