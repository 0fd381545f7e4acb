use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{location_pings, worker_status};

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
