use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::categories;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable, AsChangeset)]
#[diesel(table_name = categories, primary_key(code))]
pub struct CategoryRow {
    pub code: String,
    pub family: String,
    pub major_code: String,
    pub major_name: String,
    pub minor_code: String,
    pub minor_name: String,
    pub default_grade: String,
    /// JSON: minutes per stage and grade.
    pub deadlines: String,
    pub handler_kind: String,
    pub department_code: Option<String>,
    pub after_photo_required: bool,
    pub duplicate_radius_m: i32,
    pub active: bool,
    pub updated_at: NaiveDateTime,
}
