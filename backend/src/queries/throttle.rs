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
