use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{emergencies, events, special_operation_tasks, special_operations};
use crate::models::emergency::{EmergencyRow, OperationRow, OperationTaskRow};
use crate::models::event::EventRow;

pub fn insert(conn: &mut DbConn, row: &EmergencyRow) -> QueryResult<()> {
    crate::db::changed(crate::db::Topic::Standing);
    diesel::insert_into(emergencies::table).values(row).execute(conn).map(drop)
}

pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<EmergencyRow>> {
    emergencies::table.find(id).select(EmergencyRow::as_select()).first(conn).optional()
}

/// Every running emergency.
pub fn running(conn: &mut DbConn) -> QueryResult<Vec<EmergencyRow>> {
    emergencies::table.filter(emergencies::ended_at.is_null()).select(EmergencyRow::as_select()).load(conn)
}

/// Running emergencies declared on one of these areas (an event's city, district and street).
pub fn running_on(conn: &mut DbConn, areas: &[String]) -> QueryResult<Vec<EmergencyRow>> {
    emergencies::table
        .filter(emergencies::ended_at.is_null())
        .filter(emergencies::area_code.eq_any(areas))
        .select(EmergencyRow::as_select())
        .load(conn)
}

/// Every running emergency, and those ended since `since`, newest first.
pub fn recent(conn: &mut DbConn, since: NaiveDateTime) -> QueryResult<Vec<EmergencyRow>> {
    emergencies::table
        .filter(emergencies::ended_at.is_null().or(emergencies::ended_at.ge(since)))
        .order(emergencies::declared_at.desc())
        .select(EmergencyRow::as_select())
        .load(conn)
}

pub fn set_counts(conn: &mut DbConn, id: &str, shortened: i64, told: i64) -> QueryResult<usize> {
    diesel::update(emergencies::table.find(id))
        .set((emergencies::events_shortened.eq(shortened), emergencies::people_told.eq(told)))
        .execute(conn)
}

/// Ends a running emergency (`false`: it had ended already).
pub fn end(conn: &mut DbConn, id: &str, by: &str, reason: &str, at: NaiveDateTime) -> QueryResult<bool> {
    crate::db::changed(crate::db::Topic::Standing);
    let n = diesel::update(emergencies::table.find(id).filter(emergencies::ended_at.is_null()))
        .set((emergencies::ended_at.eq(at), emergencies::ended_by.eq(by), emergencies::end_reason.eq(reason)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Open events of an ops centre's area (city, district or street), with a running deadline or not.
pub fn open_events_in(conn: &mut DbConn, area: &str, terminal: &[&str]) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::city_code.eq(area).or(events::district_code.eq(area)).or(events::street_code.eq(area)))
        .filter(events::state.ne_all(terminal))
        .select(EventRow::as_select())
        .load(conn)
}

pub fn set_due(
    conn: &mut DbConn,
    event: &str,
    version: i32,
    due: NaiveDateTime,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(events::table.find(event).filter(events::version.eq(version)))
        .set((events::due_at.eq(due), events::version.eq(version + 1), events::updated_at.eq(at)))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn insert_operation(conn: &mut DbConn, row: &OperationRow) -> QueryResult<()> {
    diesel::insert_into(special_operations::table).values(row).execute(conn).map(drop)
}

pub fn insert_task(conn: &mut DbConn, row: &OperationTaskRow) -> QueryResult<()> {
    diesel::insert_into(special_operation_tasks::table).values(row).execute(conn).map(drop)
}

pub fn operation(conn: &mut DbConn, id: &str) -> QueryResult<Option<OperationRow>> {
    special_operations::table.find(id).select(OperationRow::as_select()).first(conn).optional()
}

pub fn operations(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<OperationRow>> {
    special_operations::table
        .order(special_operations::created_at.desc())
        .limit(limit)
        .select(OperationRow::as_select())
        .load(conn)
}

/// An operation's tasks with their events' states.
pub fn tasks_of(conn: &mut DbConn, id: &str) -> QueryResult<Vec<(String, String, String)>> {
    special_operation_tasks::table
        .inner_join(events::table.on(events::id.eq(special_operation_tasks::event_id)))
        .filter(special_operation_tasks::operation_id.eq(id))
        .order(special_operation_tasks::area_code.asc())
        .select((special_operation_tasks::area_code, special_operation_tasks::event_id, events::state))
        .load(conn)
}
