use std::collections::HashMap;

use diesel::prelude::*;
use gridwork_mobile_core::domain::task::TaskState;

use crate::db::DbConn;
use crate::db::schema::tasks;
use crate::models::event::TaskRow;

fn open_states() -> Vec<&'static str> {
    TaskState::open_names()
}

pub fn insert(conn: &mut DbConn, row: &TaskRow) -> QueryResult<()> {
    crate::roster::worker_changed(&row.user_id);
    diesel::insert_into(tasks::table).values(row).execute(conn).map(drop)
}

pub fn for_event(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<TaskRow>> {
    tasks::table
        .filter(tasks::event_id.eq(event_id))
        .order(tasks::created_at.asc())
        .select(TaskRow::as_select())
        .load(conn)
}

/// The tasks of several events, in one query.
pub fn for_events(conn: &mut DbConn, event_ids: &[String]) -> QueryResult<Vec<TaskRow>> {
    tasks::table
        .filter(tasks::event_id.eq_any(event_ids))
        .order(tasks::created_at.asc())
        .select(TaskRow::as_select())
        .load(conn)
}

pub fn update(conn: &mut DbConn, row: &TaskRow) -> QueryResult<()> {
    crate::roster::worker_changed(&row.user_id);
    diesel::update(tasks::table.find(&row.id)).set(row).execute(conn).map(drop)
}

/// Open tasks per user, for the users given (absent = none).
pub fn open_load(conn: &mut DbConn, user_ids: &[String]) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = tasks::table
        .filter(tasks::user_id.eq_any(user_ids))
        .filter(tasks::state.eq_any(open_states()))
        .group_by(tasks::user_id)
        .select((tasks::user_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Every user's open tasks (the duty roster's whole read).
pub fn open_loads(conn: &mut DbConn) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = tasks::table
        .filter(tasks::state.eq_any(open_states()))
        .group_by(tasks::user_id)
        .select((tasks::user_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The users whose tasks changed after `t` (the duty roster's look for changes made elsewhere).
pub fn users_since(conn: &mut DbConn, t: chrono::NaiveDateTime) -> QueryResult<Vec<String>> {
    tasks::table.filter(tasks::updated_at.gt(t)).select(tasks::user_id).distinct().load(conn)
}

/// A user's tasks changed after the cursor (updated_at, id), oldest first: the phone's sync feed.
pub fn changed_for(
    conn: &mut DbConn,
    user_id: &str,
    after: Option<(chrono::NaiveDateTime, String)>,
    open_only: bool,
    limit: i64,
) -> QueryResult<Vec<TaskRow>> {
    let mut q = tasks::table.filter(tasks::user_id.eq(user_id)).into_boxed();
    if let Some((t, id)) = after {
        q = q.filter(tasks::updated_at.gt(t).or(tasks::updated_at.eq(t).and(tasks::id.gt(id))));
    }
    if open_only {
        q = q.filter(tasks::state.eq_any(open_states()));
    }
    q.order((tasks::updated_at.asc(), tasks::id.asc())).limit(limit).select(TaskRow::as_select()).load(conn)
}

/// Tasks still waiting for their handler to acknowledge or claim them.
pub fn awaiting_acknowledgement(conn: &mut DbConn) -> QueryResult<Vec<TaskRow>> {
    tasks::table
        .filter(tasks::state.eq(TaskState::Assigned.as_str()))
        .order(tasks::created_at.asc())
        .select(TaskRow::as_select())
        .load(conn)
}

/// Moves a task from `from` to `to`; false if it was no longer in `from`.
pub fn transition(
    conn: &mut DbConn,
    task: &TaskRow,
    from: TaskState,
    to: TaskState,
    at: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    crate::roster::worker_changed(&task.user_id);
    let n = diesel::update(tasks::table.find(&task.id).filter(tasks::state.eq(from.as_str())))
        .set((tasks::state.eq(to.as_str()), tasks::updated_at.eq(at)))
        .execute(conn)?;
    Ok(n == 1)
}
