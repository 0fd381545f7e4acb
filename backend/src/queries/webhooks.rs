use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{webhook_deliveries, webhook_subscriptions};
use crate::models::webhook::{DeliveryRow, SubscriptionRow};

pub fn insert_subscription(conn: &mut DbConn, row: &SubscriptionRow) -> QueryResult<()> {
    crate::db::changed(crate::db::Topic::Standing);
    diesel::insert_into(webhook_subscriptions::table).values(row).execute(conn).map(drop)
}

pub fn subscriptions(conn: &mut DbConn) -> QueryResult<Vec<SubscriptionRow>> {
    webhook_subscriptions::table.order(webhook_subscriptions::id.asc()).select(SubscriptionRow::as_select()).load(conn)
}

pub fn active(conn: &mut DbConn) -> QueryResult<Vec<SubscriptionRow>> {
    webhook_subscriptions::table
        .filter(webhook_subscriptions::disabled_at.is_null())
        .select(SubscriptionRow::as_select())
        .load(conn)
}

pub fn subscription(conn: &mut DbConn, id: &str) -> QueryResult<Option<SubscriptionRow>> {
    webhook_subscriptions::table.find(id).select(SubscriptionRow::as_select()).first(conn).optional()
}

pub fn delete_subscription(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    crate::db::changed(crate::db::Topic::Standing);
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::subscription_id.eq(id))).execute(conn)?;
    diesel::delete(webhook_subscriptions::table.find(id)).execute(conn)
}

pub fn set_disabled(
    conn: &mut DbConn,
    id: &str,
    at: Option<NaiveDateTime>,
    reason: Option<&str>,
) -> QueryResult<usize> {
    crate::db::changed(crate::db::Topic::Standing);
    diesel::update(webhook_subscriptions::table.find(id))
        .set((
            webhook_subscriptions::disabled_at.eq(at),
            webhook_subscriptions::disabled_reason.eq(reason),
            webhook_subscriptions::consecutive_failures.eq(0),
        ))
        .execute(conn)
}

/// Counts a failed attempt; the failures in a row after it.
pub fn failed_attempt(conn: &mut DbConn, id: &str) -> QueryResult<i32> {
    diesel::update(webhook_subscriptions::table.find(id))
        .set(webhook_subscriptions::consecutive_failures.eq(webhook_subscriptions::consecutive_failures + 1))
        .execute(conn)?;
    webhook_subscriptions::table.find(id).select(webhook_subscriptions::consecutive_failures).first(conn)
}

pub fn succeeded(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::update(webhook_subscriptions::table.find(id))
        .set(webhook_subscriptions::consecutive_failures.eq(0))
        .execute(conn)
}

pub fn insert_deliveries(conn: &mut DbConn, rows: &[DeliveryRow]) -> QueryResult<usize> {
    Ok(insert_rows!(conn, webhook_deliveries::table, rows, 64))
}

/// Leases up to `limit` due deliveries of enabled subscriptions (SKIP LOCKED on PostgreSQL, so
/// several servers share the work), with their subscriptions.
pub fn claim(
    conn: &mut DbConn,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(DeliveryRow, SubscriptionRow)>> {
    let enabled = webhook_subscriptions::table
        .filter(webhook_subscriptions::disabled_at.is_null())
        .select(webhook_subscriptions::id);
    let due = webhook_deliveries::table
        .filter(webhook_deliveries::state.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(at))
        .filter(webhook_deliveries::lease_until.is_null().or(webhook_deliveries::lease_until.lt(at)))
        .filter(webhook_deliveries::subscription_id.eq_any(enabled))
        .order(webhook_deliveries::next_attempt_at.asc())
        .limit(limit)
        .select(webhook_deliveries::id);
    let ids: Vec<String> = match conn {
        DbConn::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(lite) => due.load(lite)?,
    };
    if ids.is_empty() {
        return Ok(vec![]);
    }
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
        .set(webhook_deliveries::lease_until.eq(lease_until))
        .execute(conn)?;
    webhook_deliveries::table
        .inner_join(webhook_subscriptions::table.on(webhook_subscriptions::id.eq(webhook_deliveries::subscription_id)))
        .filter(webhook_deliveries::id.eq_any(&ids))
        .order(webhook_deliveries::id.asc())
        .select((DeliveryRow::as_select(), SubscriptionRow::as_select()))
        .load(conn)
}

/// Gives leased deliveries back unattempted.
pub fn release(conn: &mut DbConn, ids: &[String]) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids)))
        .set(webhook_deliveries::lease_until.eq(None::<NaiveDateTime>))
        .execute(conn)
}

/// Saves a delivery's state after an attempt.
pub fn save(conn: &mut DbConn, d: &DeliveryRow) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(&d.id))
        .set((
            webhook_deliveries::state.eq(&d.state),
            webhook_deliveries::attempts.eq(d.attempts),
            webhook_deliveries::next_attempt_at.eq(d.next_attempt_at),
            webhook_deliveries::lease_until.eq(d.lease_until),
            webhook_deliveries::last_status.eq(d.last_status),
            webhook_deliveries::last_error.eq(&d.last_error),
            webhook_deliveries::delivered_at.eq(d.delivered_at),
        ))
        .execute(conn)
}

/// A subscription's deliveries, newest first.
pub fn deliveries(conn: &mut DbConn, subscription: &str, limit: i64) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription))
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
}

/// Sends a delivery again from the start (manual replay); false when it is not the
/// subscription's.
pub fn replay(conn: &mut DbConn, subscription: &str, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(webhook_deliveries::table.find(id).filter(webhook_deliveries::subscription_id.eq(subscription)))
        .set((
            webhook_deliveries::state.eq("pending"),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(at),
            webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn delivery(conn: &mut DbConn, id: &str) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table.find(id).select(DeliveryRow::as_select()).first(conn).optional()
}
