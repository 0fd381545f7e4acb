use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::login_throttle;
use crate::models::throttle::LoginThrottle;

pub fn get(conn: &mut DbConn, key: &str) -> QueryResult<Option<LoginThrottle>> {
    login_throttle::table.find(key).select(LoginThrottle::as_select()).first(conn).optional()
}

/// Insert-or-update without backend-specific upsert syntax: callers run it in a transaction.
pub fn put(conn: &mut DbConn, row: &LoginThrottle) -> QueryResult<()> {
    let updated = diesel::update(login_throttle::table.find(&row.key)).set(row).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(login_throttle::table).values(row).execute(conn)?;
    }
    Ok(())
}

pub fn clear(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.find(key)).execute(conn).map(drop)
}

/// Takes the row lock of a key (creating the row if needed), so that concurrent sign-ins of one
/// account or address are counted one after another on PostgreSQL too. (SQLite's writers are
/// already serialised by `write_tx`.)
pub fn lock(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> QueryResult<()> {
    let touch = |conn: &mut DbConn| {
        diesel::update(login_throttle::table.find(key)).set(login_throttle::key.eq(key)).execute(conn)
    };
    if touch(conn)? > 0 {
        return Ok(());
    }
    let fresh = LoginThrottle { key: key.to_owned(), failures: 0, window_started_at: now, locked_until: None };
    // A concurrent first attempt may insert the same key; the savepoint keeps our transaction alive.
    let inserted = conn.transaction(|conn| diesel::insert_into(login_throttle::table).values(&fresh).execute(conn));
    match inserted {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            touch(conn).map(drop)
        }
        Err(e) => Err(e),
    }
}
