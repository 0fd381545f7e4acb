use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{event_followers, event_idempotency, event_log, events};
use crate::models::event::{EventLogRow, EventRow, FollowerRow, IdempotencyRow};

pub fn insert(conn: &mut DbConn, row: &EventRow) -> QueryResult<()> {
    diesel::insert_into(events::table).values(row).execute(conn).map(drop)
}

pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<EventRow>> {
    events::table.find(id).select(EventRow::as_select()).first(conn).optional()
}

/// Writes the row only if nobody changed it since `expected_version` was read; false otherwise.
pub fn update_if_version(conn: &mut DbConn, row: &EventRow, expected_version: i32) -> QueryResult<bool> {
    let n = diesel::update(events::table.find(&row.id).filter(events::version.eq(expected_version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

/// Open events of a category inside a lat/lng box (the caller measures exact distances).
pub fn open_nearby(
    conn: &mut DbConn,
    category: &str,
    terminal: &[&str],
    (lat0, lng0, lat1, lng1): (f64, f64, f64, f64),
) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::category_code.eq(category))
        .filter(events::state.ne_all(terminal))
        .filter(events::lat.between(lat0, lat1))
        .filter(events::lng.between(lng0, lng1))
        .order(events::created_at.asc())
        .select(EventRow::as_select())
        .load(conn)
}

pub fn idempotent(conn: &mut DbConn, user_id: &str, key: &str) -> QueryResult<Option<String>> {
    event_idempotency::table.find((user_id, key)).select(event_idempotency::event_id).first(conn).optional()
}

pub fn remember_key(conn: &mut DbConn, row: &IdempotencyRow) -> QueryResult<()> {
    diesel::insert_into(event_idempotency::table).values(row).execute(conn).map(drop)
}

pub fn follow(conn: &mut DbConn, row: &FollowerRow) -> QueryResult<()> {
    let exists = event_followers::table.find((&row.event_id, &row.user_id)).count().get_result::<i64>(conn)? > 0;
    if !exists {
        diesel::insert_into(event_followers::table).values(row).execute(conn)?;
    }
    Ok(())
}

pub fn followers(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<String>> {
    event_followers::table.filter(event_followers::event_id.eq(event_id)).select(event_followers::user_id).load(conn)
}

pub fn log(conn: &mut DbConn, row: &EventLogRow) -> QueryResult<()> {
    diesel::insert_into(event_log::table).values(row).execute(conn).map(drop)
}

pub fn history(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<EventLogRow>> {
    event_log::table
        .filter(event_log::event_id.eq(event_id))
        .order(event_log::id.asc())
        .select(EventLogRow::as_select())
        .load(conn)
}
