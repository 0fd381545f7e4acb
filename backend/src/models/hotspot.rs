use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::hotspots;

/// A category recurring in one small H3 cell (研判·热点), as the scheduler found it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = hotspots)]
pub struct HotspotRow {
    pub id: String,
    pub category_code: String,
    /// The H3 cell, as its hexadecimal index.
    pub cell: String,
    /// The cell's centre (WGS-84).
    pub lat: f64,
    pub lng: f64,
    pub street_code: Option<String>,
    pub district_code: Option<String>,
    pub event_count: i32,
    pub first_event_at: NaiveDateTime,
    pub last_event_at: NaiveDateTime,
    /// `active` or `cooled`.
    pub state: String,
    pub detected_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
