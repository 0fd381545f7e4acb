use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{duty_periods, location_pings, worker_status};

/// A field worker's duty status and last position.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = worker_status)]
#[diesel(treat_none_as_null = true)]
pub struct WorkerStatusRow {
    pub user_id: String,
    pub on_duty: bool,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// H3 cell at the finest area resolution, as stored (a signed 64-bit integer).
    pub cell: Option<i64>,
    pub located_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = location_pings)]
pub struct PingRow {
    pub user_id: String,
    pub recorded_at: NaiveDateTime,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub received_at: NaiveDateTime,
}

/// A stretch of time a field worker was on duty (`ended_at` none: still on duty).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = duty_periods)]
pub struct DutyPeriodRow {
    pub user_id: String,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

impl DutyPeriodRow {
    /// Whether `t` falls inside the period, `grace` either side (phone clocks drift).
    pub fn covers(&self, t: NaiveDateTime, now: NaiveDateTime, grace: chrono::Duration) -> bool {
        t >= self.started_at - grace && t <= self.ended_at.unwrap_or(now) + grace
    }
}
