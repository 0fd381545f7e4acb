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

/// Filters for listing events; `areas` are (level column, code) pairs, any of which may match.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub state: Option<String>,
    pub areas: Vec<(gridwork_mobile_core::AreaLevel, String)>,
    pub everywhere: bool,
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    /// Only events due before this instant.
    pub overdue_at: Option<chrono::NaiveDateTime>,
    pub limit: i64,
    pub offset: i64,
}

pub fn list(conn: &mut DbConn, f: &EventFilter) -> QueryResult<Vec<EventRow>> {
    use gridwork_mobile_core::AreaLevel as L;
    let mut q = events::table.into_boxed();
    if let Some(s) = &f.state {
        q = q.filter(events::state.eq(s.clone()));
    }
    if let Some(a) = &f.assignee {
        // Assignees are a JSON array of ids; ids are UUIDs, so the quoted id cannot match by accident.
        q = q.filter(events::assignees.like(format!("%\"{a}\"%")));
    }
    if let Some(t) = f.overdue_at {
        q = q.filter(events::due_at.lt(t));
    }
    if let Some(r) = &f.reporter {
        q = q.filter(events::reporter_id.eq(r.clone()));
    }
    if !f.everywhere {
        // No scope, no rows: start from a false condition and widen per scope.
        let mut cond: Box<dyn BoxableExpression<events::table, _, SqlType = diesel::sql_types::Bool>> =
            Box::new(events::id.eq("").and(events::id.ne("")));
        for (level, code) in &f.areas {
            let c = code.clone();
            let one: Box<dyn BoxableExpression<events::table, _, SqlType = diesel::sql_types::Bool>> = match level {
                L::City => Box::new(events::city_code.eq(c).assume_not_null()),
                L::District => Box::new(events::district_code.eq(c).assume_not_null()),
                L::Street => Box::new(events::street_code.eq(c).assume_not_null()),
                L::Community => Box::new(events::community_code.eq(c).assume_not_null()),
                L::Grid => Box::new(events::grid_code.eq(c).assume_not_null()),
                L::Compound => Box::new(events::compound_code.eq(c).assume_not_null()),
                L::Building => Box::new(events::building_code.eq(c).assume_not_null()),
            };
            cond = Box::new(cond.or(one));
        }
        q = q.filter(cond);
    }
    q.order(events::created_at.desc()).limit(f.limit).offset(f.offset).select(EventRow::as_select()).load(conn)
}
