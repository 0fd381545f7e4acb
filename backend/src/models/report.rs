use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::reports;

/// A finished evaluation report for one area and period, with its two files.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reports)]
pub struct ReportRow {
    pub id: String,
    /// `weekly` or `monthly`.
    pub kind: String,
    pub area_code: String,
    pub period_from: NaiveDateTime,
    pub period_to: NaiveDateTime,
    /// Units listed (the area itself, its parts and its handlers).
    pub rows: i32,
    pub csv: Vec<u8>,
    pub xlsx: Vec<u8>,
    pub created_at: NaiveDateTime,
}

/// What a listing shows of a report (not its files).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
pub struct ReportEntry {
    pub id: String,
    pub kind: String,
    pub area_code: String,
    pub period_from: NaiveDateTime,
    pub period_to: NaiveDateTime,
    pub rows: i32,
    pub created_at: NaiveDateTime,
}
