use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::audit_log;
use crate::models::audit::AuditEntry;
use crate::models::{new_id, now};

pub fn record(conn: &mut DbConn, actor_id: Option<&str>, action: &str, subject: &str, detail: &str) -> QueryResult<()> {
    let row = AuditEntry {
        id: new_id(),
        actor_id: actor_id.map(str::to_owned),
        action: action.to_owned(),
        subject: subject.to_owned(),
        detail: detail.to_owned(),
        created_at: now(),
    };
    diesel::insert_into(audit_log::table).values(&row).execute(conn).map(drop)
}

pub fn for_subject(conn: &mut DbConn, subject: &str) -> QueryResult<Vec<AuditEntry>> {
    audit_log::table
        .filter(audit_log::subject.eq(subject))
        .order(audit_log::id.asc())
        .select(AuditEntry::as_select())
        .load(conn)
}

/// Deletes audit entries made before `before`; how many went.
pub fn purge(conn: &mut DbConn, before: chrono::NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(audit_log::table.filter(audit_log::created_at.lt(before))).execute(conn)
}
