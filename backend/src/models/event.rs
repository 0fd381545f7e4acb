use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{event_followers, event_idempotency, event_log, events};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable, AsChangeset)]
#[diesel(table_name = events)]
#[diesel(treat_none_as_null = true)]
pub struct EventRow {
    pub id: String,
    pub category_code: String,
    pub grade: String,
    pub state: String,
    pub source: String,
    pub description: String,
    pub address: Option<String>,
    pub lat: f64,
    pub lng: f64,
    pub city_code: Option<String>,
    pub district_code: Option<String>,
    pub street_code: Option<String>,
    pub community_code: Option<String>,
    pub grid_code: Option<String>,
    pub compound_code: Option<String>,
    pub building_code: Option<String>,
    pub reporter_id: String,
    /// JSON array of user ids.
    pub assignees: String,
    pub resolved_by: Option<String>,
    pub due_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EventRow {
    /// The deepest area the event was filed under.
    pub fn area_code(&self) -> Option<&str> {
        [
            &self.building_code,
            &self.compound_code,
            &self.grid_code,
            &self.community_code,
            &self.street_code,
            &self.district_code,
            &self.city_code,
        ]
        .into_iter()
        .find_map(|c| c.as_deref())
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_idempotency)]
pub struct IdempotencyRow {
    pub user_id: String,
    pub key: String,
    pub event_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_followers)]
pub struct FollowerRow {
    pub event_id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = event_log)]
pub struct EventLogRow {
    pub id: String,
    pub event_id: String,
    pub actor_id: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub reason: Option<String>,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
}
