use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{erasure_requests, users};
use crate::models::erasure::{ErasureDecisionForm, ErasureRequestRow};

pub fn insert(conn: &mut DbConn, row: &ErasureRequestRow) -> QueryResult<()> {
    diesel::insert_into(erasure_requests::table).values(row).execute(conn).map(drop)
}

/// A request with its person's current account name.
pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<(ErasureRequestRow, String)>> {
    erasure_requests::table
        .inner_join(users::table.on(users::id.eq(erasure_requests::user_id)))
        .filter(erasure_requests::id.eq(id))
        .select((ErasureRequestRow::as_select(), users::username))
        .first(conn)
        .optional()
}

pub fn of_user(conn: &mut DbConn, user: &str) -> QueryResult<Vec<(ErasureRequestRow, String)>> {
    erasure_requests::table
        .inner_join(users::table.on(users::id.eq(erasure_requests::user_id)))
        .filter(erasure_requests::user_id.eq(user))
        .order(erasure_requests::id.desc())
        .select((ErasureRequestRow::as_select(), users::username))
        .load(conn)
}

/// Requests in a state (or all), newest first, up to `limit`.
pub fn list(conn: &mut DbConn, state: Option<&str>, limit: i64) -> QueryResult<Vec<(ErasureRequestRow, String)>> {
    let mut q = erasure_requests::table
        .inner_join(users::table.on(users::id.eq(erasure_requests::user_id)))
        .select((ErasureRequestRow::as_select(), users::username))
        .order(erasure_requests::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(state) = state {
        q = q.filter(erasure_requests::state.eq(state.to_owned()));
    }
    q.load(conn)
}

pub fn waiting_of(conn: &mut DbConn, user: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        erasure_requests::table
            .filter(erasure_requests::user_id.eq(user))
            .filter(erasure_requests::state.eq("requested")),
    ))
    .get_result(conn)
}

/// Decides a waiting request; false when it was decided meanwhile.
pub fn decide(conn: &mut DbConn, id: &str, form: &ErasureDecisionForm) -> QueryResult<bool> {
    diesel::update(erasure_requests::table.find(id).filter(erasure_requests::state.eq("requested")))
        .set(form)
        .execute(conn)
        .map(|n| n == 1)
}
