use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{deliveries, devices, notifications};
use crate::models::push::{DeliveryRow, DeviceRow, NotificationRow};

/// Takes up to `limit` due notifications for this sender until `lease_until`. On PostgreSQL the
/// candidates are locked with SKIP LOCKED, so concurrent senders take disjoint batches; SQLite
/// callers hold the write lock (`write_tx`).
pub fn claim(
    conn: &mut DbConn,
    at: chrono::NaiveDateTime,
    lease_until: chrono::NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    let due = notifications::table
        .filter(notifications::state.eq("pending"))
        .filter(notifications::next_attempt_at.le(at))
        .filter(notifications::lease_until.is_null().or(notifications::lease_until.lt(at)))
        .order(notifications::next_attempt_at.asc())
        .limit(limit)
        .select(notifications::id);
    let ids: Vec<String> = match conn {
        DbConn::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(lite) => due.load(lite)?,
    };
    if ids.is_empty() {
        return Ok(vec![]);
    }
    diesel::update(notifications::table.filter(notifications::id.eq_any(&ids)))
        .set(notifications::lease_until.eq(lease_until))
        .execute(conn)?;
    notifications::table.filter(notifications::id.eq_any(&ids)).select(NotificationRow::as_select()).load(conn)
}

/// Writes the sender's columns only (the app may acknowledge meanwhile).
/// Queues a notification in the outbox.
pub fn insert_notification(conn: &mut DbConn, row: &NotificationRow) -> QueryResult<()> {
    diesel::insert_into(notifications::table).values(row).execute(conn).map(drop)
}

pub fn save_delivery_state(conn: &mut DbConn, row: &NotificationRow) -> QueryResult<()> {
    diesel::update(notifications::table.find(&row.id))
        .set((
            notifications::state.eq(&row.state),
            notifications::attempts.eq(row.attempts),
            notifications::next_attempt_at.eq(row.next_attempt_at),
            notifications::lease_until.eq(row.lease_until),
            notifications::last_error.eq(&row.last_error),
            notifications::sent_at.eq(row.sent_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Writes the app's acknowledgement columns only.
pub fn save_acknowledgement(conn: &mut DbConn, row: &NotificationRow) -> QueryResult<()> {
    diesel::update(notifications::table.find(&row.id))
        .set((notifications::received_at.eq(row.received_at), notifications::read_at.eq(row.read_at)))
        .execute(conn)
        .map(drop)
}

pub fn active_devices(conn: &mut DbConn, user_ids: &[String]) -> QueryResult<Vec<DeviceRow>> {
    devices::table
        .filter(devices::user_id.eq_any(user_ids))
        .filter(devices::active.eq(true))
        .select(DeviceRow::as_select())
        .load(conn)
}

/// (notification, device) pairs already done, for the notifications given.
pub fn delivered(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    deliveries::table
        .filter(deliveries::notification_id.eq_any(ids))
        .select((deliveries::notification_id, deliveries::device_id))
        .load(conn)
}

pub fn record(conn: &mut DbConn, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(deliveries::table).values(row).execute(conn).map(drop)
}

pub fn device_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<DeviceRow>> {
    devices::table.filter(devices::fcm_token.eq(token)).select(DeviceRow::as_select()).first(conn).optional()
}

pub fn device(conn: &mut DbConn, id: &str) -> QueryResult<Option<DeviceRow>> {
    devices::table.find(id).select(DeviceRow::as_select()).first(conn).optional()
}

pub fn insert_device(conn: &mut DbConn, row: &DeviceRow) -> QueryResult<()> {
    diesel::insert_into(devices::table).values(row).execute(conn).map(drop)
}

pub fn save_device(conn: &mut DbConn, row: &DeviceRow) -> QueryResult<()> {
    diesel::update(devices::table.find(&row.id)).set(row).execute(conn).map(drop)
}

pub fn devices_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<DeviceRow>> {
    devices::table
        .filter(devices::user_id.eq(user_id))
        .order(devices::created_at.asc())
        .select(DeviceRow::as_select())
        .load(conn)
}

pub fn deactivate(conn: &mut DbConn, id: &str, reason: &str, at: chrono::NaiveDateTime) -> QueryResult<()> {
    diesel::update(devices::table.find(id))
        .set((devices::active.eq(false), devices::deactivated_reason.eq(reason), devices::updated_at.eq(at)))
        .execute(conn)
        .map(drop)
}

/// Unregisters the devices signed in with these sessions.
pub fn deactivate_for_sessions(
    conn: &mut DbConn,
    session_ids: &[String],
    reason: &str,
    at: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(devices::table.filter(devices::session_id.eq_any(session_ids)).filter(devices::active.eq(true)))
        .set((devices::active.eq(false), devices::deactivated_reason.eq(reason), devices::updated_at.eq(at)))
        .execute(conn)
}

pub fn inbox(conn: &mut DbConn, user_id: &str, unread_only: bool, limit: i64) -> QueryResult<Vec<NotificationRow>> {
    let mut q = notifications::table.filter(notifications::user_id.eq(user_id)).into_boxed();
    if unread_only {
        q = q.filter(notifications::read_at.is_null());
    }
    q.order(notifications::created_at.desc()).limit(limit).select(NotificationRow::as_select()).load(conn)
}

pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<NotificationRow>> {
    notifications::table.find(id).select(NotificationRow::as_select()).first(conn).optional()
}

/// Whether the assignment notice of a task (sent at or after `since`) was acknowledged.
pub fn assignment_acknowledged(
    conn: &mut DbConn,
    user_id: &str,
    event_id: &str,
    since: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    let n: i64 = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::event_id.eq(event_id))
        .filter(notifications::kind.eq("task_assigned"))
        .filter(notifications::created_at.ge(since))
        .filter(notifications::received_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Deletes notifications made before `before`, their delivery records first; how many went.
pub fn purge_notifications(conn: &mut DbConn, before: chrono::NaiveDateTime) -> QueryResult<usize> {
    let old: Vec<String> =
        notifications::table.filter(notifications::created_at.lt(before)).select(notifications::id).load(conn)?;
    let mut n = 0;
    for chunk in old.chunks(500) {
        diesel::delete(deliveries::table.filter(deliveries::notification_id.eq_any(chunk))).execute(conn)?;
        n += diesel::delete(notifications::table.filter(notifications::id.eq_any(chunk))).execute(conn)?;
    }
    Ok(n)
}

/// Deletes devices deactivated (and untouched) since before `before`, with their push tokens and
/// delivery records; how many went.
pub fn purge_deactivated_devices(conn: &mut DbConn, before: chrono::NaiveDateTime) -> QueryResult<usize> {
    let gone: Vec<String> = devices::table
        .filter(devices::active.eq(false))
        .filter(devices::updated_at.lt(before))
        .select(devices::id)
        .load(conn)?;
    let mut n = 0;
    for chunk in gone.chunks(500) {
        diesel::delete(deliveries::table.filter(deliveries::device_id.eq_any(chunk))).execute(conn)?;
        n += diesel::delete(devices::table.filter(devices::id.eq_any(chunk))).execute(conn)?;
    }
    Ok(n)
}
