use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::erasure_requests;

/// A person's request to erase their personal data, and what became of it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = erasure_requests)]
pub struct ErasureRequestRow {
    pub id: String,
    pub user_id: String,
    /// JSON list of the areas the person held roles in when asking.
    pub areas: String,
    pub state: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    /// JSON: rows changed per kind.
    pub summary: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = erasure_requests)]
pub struct ErasureDecisionForm {
    pub state: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    pub summary: Option<String>,
}
