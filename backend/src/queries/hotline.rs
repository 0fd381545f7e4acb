use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{events, hotline_calls};
use crate::models::event::EventRow;
use crate::models::hotline::CallRow;

pub fn insert(conn: &mut DbConn, row: &CallRow) -> QueryResult<()> {
    diesel::insert_into(hotline_calls::table).values(row).execute(conn).map(drop)
}

pub fn by_reference(conn: &mut DbConn, reference: &str) -> QueryResult<Option<CallRow>> {
    hotline_calls::table
        .filter(hotline_calls::reference.eq(reference))
        .select(CallRow::as_select())
        .first(conn)
        .optional()
}

pub fn with_event(conn: &mut DbConn, id: &str) -> QueryResult<Option<(CallRow, EventRow)>> {
    hotline_calls::table
        .inner_join(events::table.on(events::id.eq(hotline_calls::event_id)))
        .filter(hotline_calls::id.eq(id))
        .select((CallRow::as_select(), EventRow::as_select()))
        .first(conn)
        .optional()
}

pub fn of_events(conn: &mut DbConn, event_ids: &[String]) -> QueryResult<Vec<CallRow>> {
    hotline_calls::table
        .filter(hotline_calls::event_id.eq_any(event_ids))
        .order(hotline_calls::id.asc())
        .select(CallRow::as_select())
        .load(conn)
}

/// Calls whose case is closed and whose caller has not been called back, oldest first, with
/// their events (the caller keeps those in reach).
pub fn awaiting_callback(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<(CallRow, EventRow)>> {
    hotline_calls::table
        .inner_join(events::table.on(events::id.eq(hotline_calls::event_id)))
        .filter(hotline_calls::callback_at.is_null())
        .filter(events::state.eq_any(["closed", "rejected"]))
        .order(hotline_calls::id.asc())
        .limit(limit)
        .select((CallRow::as_select(), EventRow::as_select()))
        .load(conn)
}

/// Records the callback once; false when someone recorded it first.
pub fn record_callback(
    conn: &mut DbConn,
    id: &str,
    by: &str,
    satisfied: bool,
    note: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(hotline_calls::table.find(id).filter(hotline_calls::callback_at.is_null()))
        .set((
            hotline_calls::callback_at.eq(Some(at)),
            hotline_calls::callback_by.eq(Some(by)),
            hotline_calls::satisfied.eq(Some(satisfied)),
            hotline_calls::callback_note.eq(note),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Drops callers' names and phones of calls filed before `before` whose case is over (called
/// back, or closed without a callback); how many calls.
pub fn purge_callers(conn: &mut DbConn, before: NaiveDateTime, at: NaiveDateTime) -> QueryResult<usize> {
    let finished = events::table.filter(events::state.eq_any(["closed", "rejected"])).select(events::id);
    diesel::update(
        hotline_calls::table
            .filter(hotline_calls::purged_at.is_null())
            .filter(hotline_calls::created_at.lt(before))
            .filter(hotline_calls::callback_at.is_not_null().or(hotline_calls::event_id.eq_any(finished))),
    )
    .set((
        hotline_calls::caller_name.eq(None::<String>),
        hotline_calls::caller_phone.eq(None::<String>),
        hotline_calls::purged_at.eq(Some(at)),
    ))
    .execute(conn)
}
