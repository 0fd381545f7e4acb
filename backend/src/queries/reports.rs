use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::reports;
use crate::models::report::{ReportEntry, ReportRow};

/// Whether the report for this area and period exists already.
pub fn exists(conn: &mut DbConn, kind: &str, area: &str, from: chrono::NaiveDateTime) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        reports::table
            .filter(reports::kind.eq(kind))
            .filter(reports::area_code.eq(area))
            .filter(reports::period_from.eq(from)),
    ))
    .get_result(conn)
}

/// Stores a report unless another server stored the same one first (then false). Not inside a
/// transaction: on PostgreSQL the refused insert would end it.
pub fn insert(conn: &mut DbConn, row: &ReportRow) -> QueryResult<bool> {
    use diesel::result::{DatabaseErrorKind, Error};
    match diesel::insert_into(reports::table).values(row).execute(conn) {
        Ok(_) => Ok(true),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reports newest period first, optionally of one kind and one area; without their files.
pub fn list(conn: &mut DbConn, kind: Option<&str>, area: Option<&str>) -> QueryResult<Vec<ReportEntry>> {
    let mut q = reports::table.into_boxed();
    if let Some(k) = kind {
        q = q.filter(reports::kind.eq(k.to_owned()));
    }
    if let Some(a) = area {
        q = q.filter(reports::area_code.eq(a.to_owned()));
    }
    q.order((reports::period_from.desc(), reports::area_code.asc())).select(ReportEntry::as_select()).load(conn)
}

pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<ReportRow>> {
    reports::table.find(id).select(ReportRow::as_select()).first(conn).optional()
}
