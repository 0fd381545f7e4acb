use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{duty_periods, location_pings, role_assignments, users, worker_status};
use crate::models::worker::{DutyPeriodRow, PingRow, WorkerStatusRow};

pub fn status(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<WorkerStatusRow>> {
    worker_status::table.find(user_id).select(WorkerStatusRow::as_select()).first(conn).optional()
}

pub fn save_status(conn: &mut DbConn, row: &WorkerStatusRow) -> QueryResult<()> {
    crate::roster::status_saved(row);
    let n = diesel::update(worker_status::table.find(&row.user_id)).set(row).execute(conn)?;
    if n == 0 {
        diesel::insert_into(worker_status::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// Opens a duty period at `at` (none is open: the caller checked).
pub fn start_duty(conn: &mut DbConn, user_id: &str, at: chrono::NaiveDateTime) -> QueryResult<()> {
    let row = DutyPeriodRow { user_id: user_id.to_owned(), started_at: at, ended_at: None };
    diesel::insert_into(duty_periods::table).values(&row).execute(conn).map(|_| ())
}

/// The newest duty period (the open one, if on duty).
pub fn last_duty(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<DutyPeriodRow>> {
    duty_periods::table
        .filter(duty_periods::user_id.eq(user_id))
        .order(duty_periods::started_at.desc())
        .select(DutyPeriodRow::as_select())
        .first(conn)
        .optional()
}

/// Closes the open duty period, if any.
pub fn end_duty(conn: &mut DbConn, user_id: &str, at: chrono::NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        duty_periods::table.filter(duty_periods::user_id.eq(user_id)).filter(duty_periods::ended_at.is_null()),
    )
    .set(duty_periods::ended_at.eq(Some(at)))
    .execute(conn)
}

/// The duty periods that reach into [from, to].
pub fn duty_between(
    conn: &mut DbConn,
    user_id: &str,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> QueryResult<Vec<DutyPeriodRow>> {
    duty_periods::table
        .filter(duty_periods::user_id.eq(user_id))
        .filter(duty_periods::started_at.le(to))
        .filter(duty_periods::ended_at.is_null().or(duty_periods::ended_at.ge(from)))
        .select(DutyPeriodRow::as_select())
        .load(conn)
}

/// Deletes pings recorded before `before` (retention); how many went.
pub fn purge_pings(conn: &mut DbConn, before: chrono::NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(location_pings::table.filter(location_pings::recorded_at.lt(before))).execute(conn)
}

/// Of the pings given, the recorded times already stored (a resent batch).
pub fn known_pings(
    conn: &mut DbConn,
    user_id: &str,
    times: &[chrono::NaiveDateTime],
) -> QueryResult<Vec<chrono::NaiveDateTime>> {
    location_pings::table
        .filter(location_pings::user_id.eq(user_id))
        .filter(location_pings::recorded_at.eq_any(times))
        .select(location_pings::recorded_at)
        .load(conn)
}

pub fn insert_pings(conn: &mut DbConn, rows: &[PingRow]) -> QueryResult<()> {
    // One statement per ping: a multi-row insert is not portable through MultiConnection.
    for row in rows {
        diesel::insert_into(location_pings::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// Active holders of `role` on duty whose grant lies in one of `areas`, with that area: a street's
/// workers without reading the whole city's (`AreaIndex::line_of` gives the areas).
pub fn on_duty_in(
    conn: &mut DbConn,
    role: &str,
    areas: &[&str],
) -> QueryResult<Vec<(Option<String>, WorkerStatusRow)>> {
    let mut out = vec![];
    // Bound parameters per statement (SQLite's limit is per statement).
    for chunk in areas.chunks(900) {
        out.extend(
            role_assignments::table
                .inner_join(worker_status::table.on(worker_status::user_id.eq(role_assignments::user_id)))
                .inner_join(users::table)
                .filter(users::is_active.eq(true))
                .filter(role_assignments::role.eq(role))
                .filter(role_assignments::area_code.eq_any(chunk))
                .filter(worker_status::on_duty.eq(true))
                .select((role_assignments::area_code, WorkerStatusRow::as_select()))
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Active holders of `role` on duty (of these users, or all), with each grant's area: the duty
/// roster's whole read.
pub fn on_duty(
    conn: &mut DbConn,
    role: &str,
    user_ids: Option<&[String]>,
) -> QueryResult<Vec<(Option<String>, WorkerStatusRow)>> {
    let q = || {
        role_assignments::table
            .inner_join(worker_status::table.on(worker_status::user_id.eq(role_assignments::user_id)))
            .inner_join(users::table)
            .filter(users::is_active.eq(true))
            .filter(role_assignments::role.eq(role))
            .filter(worker_status::on_duty.eq(true))
            .select((role_assignments::area_code, WorkerStatusRow::as_select()))
            .into_boxed()
    };
    let Some(ids) = user_ids else { return q().load(conn) };
    let mut out = vec![];
    for chunk in ids.chunks(900) {
        out.extend(q().filter(role_assignments::user_id.eq_any(chunk)).load(conn)?);
    }
    Ok(out)
}

/// Statuses saved after `t` (the duty roster's look for changes made elsewhere).
pub fn statuses_since(conn: &mut DbConn, t: chrono::NaiveDateTime) -> QueryResult<Vec<WorkerStatusRow>> {
    worker_status::table.filter(worker_status::updated_at.gt(t)).select(WorkerStatusRow::as_select()).load(conn)
}

/// Holders of `role` (for department handlers, of that department) with their scope areas.
pub fn holders(
    conn: &mut DbConn,
    role: &str,
    department_id: Option<&str>,
) -> QueryResult<Vec<(String, Option<String>)>> {
    let mut q = role_assignments::table
        .inner_join(users::table)
        .filter(users::is_active.eq(true))
        .filter(role_assignments::role.eq(role))
        .into_boxed();
    if let Some(d) = department_id {
        q = q.filter(role_assignments::department_id.eq(d));
    }
    q.select((role_assignments::user_id, role_assignments::area_code)).load(conn)
}

/// A field role held somewhere, with the holder's name and duty status (none if never on duty).
pub type FieldStaffRow =
    (String, String, String, Option<String>, Option<bool>, Option<f64>, Option<f64>, Option<chrono::NaiveDateTime>);

/// Active holders of `roles`: (user id, display name, role, area, on duty, lat, lng, located at).
pub fn field_staff(conn: &mut DbConn, roles: &[&str]) -> QueryResult<Vec<FieldStaffRow>> {
    role_assignments::table
        .inner_join(users::table)
        .left_join(worker_status::table.on(worker_status::user_id.eq(role_assignments::user_id)))
        .filter(users::is_active.eq(true))
        .filter(role_assignments::role.eq_any(roles))
        .order((users::display_name.asc(), role_assignments::user_id.asc()))
        .select((
            role_assignments::user_id,
            users::display_name,
            role_assignments::role,
            role_assignments::area_code,
            worker_status::on_duty.nullable(),
            worker_status::lat.nullable(),
            worker_status::lng.nullable(),
            worker_status::located_at.nullable(),
        ))
        .load(conn)
}

/// A worker's pings recorded in `[from, to]`, oldest first, at most `limit`.
pub fn track(
    conn: &mut DbConn,
    user_id: &str,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<PingRow>> {
    location_pings::table
        .filter(location_pings::user_id.eq(user_id))
        .filter(location_pings::recorded_at.between(from, to))
        .order(location_pings::recorded_at.asc())
        .limit(limit)
        .select(PingRow::as_select())
        .load(conn)
}
