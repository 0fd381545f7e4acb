//! Volunteers: signing up, the coordinator's decision, service records and rankings; and a
//! field worker's track as their coordinator sees it.

use chrono::{DateTime, Utc};

use crate::domain::volunteer::{ApplicationState, Decision};

wire! {
    /// The body of `POST /volunteers/sign-up`: a new account that asks to volunteer in one
    /// community. It can sign in at once, and holds no role until the street's coordinator
    /// approves.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct SignUpRequest {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 64, message = "username is required")))]
        pub username: String,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 256, message = "password is required")))]
        pub password: String,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 64, message = "display_name is 1 to 64 characters")))]
        pub display_name: String,
        /// A mobile number the coordinator can call.
        pub phone: String,
        /// The code of the community (社区) to volunteer in.
        pub community: String,
        /// Anything the coordinator should know (skills, hours free).
        #[cfg_attr(feature = "validate", validate(length(max = 500, message = "note is at most 500 characters")))]
        #[serde(default)]
        pub note: String,
    }

    /// The body of `POST /me/volunteer-applications`: a signed-in person (a resident, say) asks
    /// to volunteer in a community with their existing account.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct ApplyRequest {
        pub phone: String,
        pub community: String,
        #[cfg_attr(feature = "validate", validate(length(max = 500, message = "note is at most 500 characters")))]
        #[serde(default)]
        pub note: String,
    }

    /// A community one may volunteer in, as the sign-up form offers it (public: the names of
    /// administrative areas).
    pub struct CommunityChoice {
        pub code: String,
        pub name: String,
        pub street_name: Option<String>,
        pub district_name: Option<String>,
    }

    /// `GET /volunteers/communities?q=`: communities whose name (or street's name) holds `q`.
    pub struct CommunityChoices {
        pub communities: Vec<CommunityChoice>,
    }

    /// A sign-up as the applicant and the coordinator see it.
    pub struct ApplicationView {
        pub id: String,
        pub user_id: String,
        pub username: String,
        pub display_name: String,
        /// Shown to the applicant and to the coordinators who decide (each read is audited).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub phone: Option<String>,
        pub community_code: String,
        pub community_name: Option<String>,
        pub street_code: String,
        pub note: String,
        pub state: ApplicationState,
        /// Why it was declined.
        pub reason: Option<String>,
        pub decided_by: Option<String>,
        pub decided_at: Option<DateTime<Utc>>,
        pub created_at: DateTime<Utc>,
    }

    /// `GET /volunteer-applications`: oldest first, so nobody waits longest.
    pub struct ApplicationList {
        pub applications: Vec<ApplicationView>,
    }

    /// The body of `POST /volunteer-applications/{id}/decision`.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct DecisionRequest {
        pub decision: Decision,
        /// Required to decline: the applicant reads it.
        #[cfg_attr(feature = "validate", validate(length(max = 500, message = "reason is at most 500 characters")))]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reason: Option<String>,
    }

    /// One verified, closed task of a volunteer.
    pub struct ServiceRecordView {
        pub event_id: String,
        pub community_code: String,
        pub points: i32,
        pub minutes: i32,
        pub claimed_at: DateTime<Utc>,
        pub resolved_at: DateTime<Utc>,
        /// When the event was verified and closed.
        pub awarded_at: DateTime<Utc>,
    }

    /// `GET /me/service`: a volunteer's points (积分) and service hours, newest record first.
    pub struct ServiceSummary {
        pub points: i64,
        pub minutes: i64,
        pub hours: f64,
        pub tasks: i64,
        pub records: Vec<ServiceRecordView>,
    }

    /// One volunteer's line in a ranking.
    pub struct RankingRow {
        /// 1 for the most points; equal points share a rank.
        pub rank: i64,
        pub user_id: String,
        pub display_name: String,
        pub points: i64,
        pub hours: f64,
        pub tasks: i64,
    }

    /// `GET /volunteers/ranking`: the volunteers who served in a community or street.
    pub struct Ranking {
        pub area_code: String,
        pub since: Option<DateTime<Utc>>,
        pub rows: Vec<RankingRow>,
    }

    /// Where a field worker's phone was at one moment.
    pub struct TrackPoint {
        pub lat: f64,
        pub lng: f64,
        pub accuracy_m: Option<f64>,
        pub recorded_at: DateTime<Utc>,
    }

    /// `GET /users/{id}/track`: where a worker was while on duty, oldest first (personal data:
    /// for the coordinators over their area, and each read is audited).
    pub struct Track {
        pub user_id: String,
        pub from: DateTime<Utc>,
        pub to: DateTime<Utc>,
        pub points: Vec<TrackPoint>,
    }
}
