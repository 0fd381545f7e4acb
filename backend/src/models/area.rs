use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{area_cells, areas};

/// One version of an area. The current version has `valid_to = NULL`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = areas)]
pub struct AreaRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub geometry: String,
    pub radius_m: Option<f64>,
    pub area_m2: f64,
    pub content_hash: String,
    pub valid_from: NaiveDateTime,
    pub valid_to: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Copy, Queryable, Selectable, Insertable)]
#[diesel(table_name = area_cells)]
pub struct AreaCellRow<'a> {
    pub area_id: &'a str,
    pub cell: i64,
}
