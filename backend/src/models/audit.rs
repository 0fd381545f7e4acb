use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::audit_log;

/// Who changed accounts, roles or sessions, and when. Never holds a secret.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub created_at: NaiveDateTime,
}
