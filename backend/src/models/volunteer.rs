use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{service_records, volunteer_applications};

/// A volunteer sign-up and the coordinator's decision on it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = volunteer_applications)]
pub struct ApplicationRow {
    pub id: String,
    pub user_id: String,
    pub community_code: String,
    pub street_code: String,
    pub phone: String,
    pub note: String,
    pub state: String,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = volunteer_applications)]
pub struct ApplicationDecisionForm {
    pub state: String,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
}

/// What one verified, closed task earned its volunteer.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_records)]
pub struct ServiceRow {
    pub user_id: String,
    pub event_id: String,
    pub community_code: String,
    pub street_code: String,
    pub points: i32,
    pub minutes: i32,
    pub claimed_at: NaiveDateTime,
    pub resolved_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}
