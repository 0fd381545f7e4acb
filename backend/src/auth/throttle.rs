//! Failed-login throttling per account and per client address. Counters live in the database so
//! that a lockout survives restarts and holds across several server processes.

use chrono::{Duration, NaiveDateTime};

use crate::db::DbConn;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::models::throttle::LoginThrottle;
use crate::queries::throttle as q;

#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    pub max_failures_per_account: i32,
    pub max_failures_per_ip: i32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_ip: 20,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
        }
    }
}

pub fn account_key(username: &str) -> String {
    format!("user:{username}")
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// Refuses the attempt if any key is locked, with the seconds until it opens.
pub fn check(conn: &mut DbConn, keys: &[String], now: NaiveDateTime) -> ApiResult<()> {
    let mut wait = None::<i64>;
    for key in keys {
        if let Some(until) = q::get(conn, key)?.and_then(|row| row.locked_until).filter(|u| *u > now) {
            let secs = (until - now).num_seconds().max(1);
            wait = Some(wait.map_or(secs, |w| w.max(secs)));
        }
    }
    match wait {
        None => Ok(()),
        Some(secs) => {
            let mut e = ApiError::new(
                ErrorCode::LoginLocked,
                format!("too many failed sign-in attempts; try again in {} minute(s)", (secs + 59) / 60),
            );
            e.retry_after = u64::try_from(secs).ok();
            Err(e)
        }
    }
}

/// Counts a failure against a key and locks it once the limit is reached within the window.
pub fn record_failure(
    conn: &mut DbConn,
    key: &str,
    limit: i32,
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
) -> ApiResult<()> {
    let row = match q::get(conn, key)? {
        Some(row) if row.window_started_at + policy.window > now && row.locked_until.is_none_or(|u| u > now) => {
            LoginThrottle { failures: row.failures + 1, ..row }
        }
        // A new window: the old one ran out, or a lockout expired.
        _ => LoginThrottle { key: key.to_owned(), failures: 1, window_started_at: now, locked_until: None },
    };
    let locked_until = (row.failures >= limit).then(|| now + policy.lockout);
    q::put(conn, &LoginThrottle { locked_until, ..row })?;
    Ok(())
}

/// Counts an attempt as a failure before its password is checked, atomically with the lock
/// check: concurrent guesses each take a slot, so no more than the limit are ever verified.
/// A successful attempt then takes its slot back ([`forgive`]). Call inside a write transaction.
pub fn take_attempt(
    conn: &mut DbConn,
    keys: &[(String, i32)],
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
) -> ApiResult<()> {
    for (key, _) in keys {
        q::lock(conn, key, now)?;
    }
    let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    check(conn, &names, now)?;
    for (key, limit) in keys {
        record_failure(conn, key, *limit, policy, now)?;
    }
    Ok(())
}

/// Gives back the slot a successful attempt took: the account starts afresh, the address keeps
/// its other failures.
pub fn forgive(conn: &mut DbConn, account: &str, address: Option<(&str, i32)>) -> ApiResult<()> {
    q::clear(conn, account)?;
    if let Some((key, limit)) = address
        && let Some(row) = q::get(conn, key)?
    {
        let failures = (row.failures - 1).max(0);
        let locked_until = row.locked_until.filter(|_| failures >= limit);
        q::put(conn, &LoginThrottle { failures, locked_until, ..row })?;
    }
    Ok(())
}
