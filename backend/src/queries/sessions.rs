use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{sessions, users};
use crate::models::session::{Session, SessionInsertForm};
use crate::models::user::User;

pub fn insert(conn: &mut DbConn, form: &SessionInsertForm) -> QueryResult<()> {
    diesel::insert_into(sessions::table).values(form).execute(conn).map(drop)
}

/// The live session for a token hash, with its active user: not revoked, not expired.
pub fn live_by_token_hash(conn: &mut DbConn, hash: &str, now: NaiveDateTime) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(hash))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::is_active.eq(true))
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// The user of a session if it is still live (not revoked or expired, the account enabled).
pub fn live_user(conn: &mut DbConn, session_id: &str, now: NaiveDateTime) -> QueryResult<Option<User>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::is_active.eq(true))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn touch(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id)).set(sessions::last_used_at.eq(now)).execute(conn).map(drop)
}

pub fn revoke(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    crate::db::changed(crate::db::Topic::Auth);
    let n = diesel::update(sessions::table.find(id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)?;
    // A signed-out phone gets no more pushes.
    super::push::deactivate_for_sessions(conn, &[id.to_owned()], "signed_out", now)?;
    Ok(n)
}

/// Revokes every live session of a user (a lost phone, a password change). Returns how many.
pub fn revoke_all_for_user(conn: &mut DbConn, user_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    revoke_all_for_user_but(conn, user_id, None, now)
}

/// Revokes every live session of a user except `keep`. Returns how many.
pub fn revoke_all_for_user_but(
    conn: &mut DbConn,
    user_id: &str,
    keep: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    crate::db::changed(crate::db::Topic::Auth);
    let live = sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null());
    let n = match keep {
        Some(keep) => {
            diesel::update(live.filter(sessions::id.ne(keep))).set(sessions::revoked_at.eq(now)).execute(conn)?
        }
        None => diesel::update(live).set(sessions::revoked_at.eq(now)).execute(conn)?,
    };
    let revoked: Vec<String> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_not_null())
        .select(sessions::id)
        .load(conn)?;
    super::push::deactivate_for_sessions(conn, &revoked, "session_revoked", now)?;
    Ok(n)
}

/// Deletes sessions that ended long ago, so the table does not grow without bound.
pub fn purge_ended_before(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.lt(cutoff).or(sessions::revoked_at.lt(cutoff))))
        .execute(conn)
}
