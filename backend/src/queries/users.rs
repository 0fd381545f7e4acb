use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::users;
use crate::error::ApiResult;
use crate::models::user::{User, UserInsertForm, UserUpdateForm};

pub fn insert(conn: &mut DbConn, form: &UserInsertForm) -> ApiResult<User> {
    diesel::insert_into(users::table).values(form).execute(conn)?;
    Ok(by_id(conn, &form.id)?)
}

pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<User> {
    users::table.find(id).select(User::as_select()).first(conn)
}

pub fn by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::username.eq(username)).select(User::as_select()).first(conn).optional()
}

pub fn update(conn: &mut DbConn, id: &str, form: &UserUpdateForm) -> QueryResult<User> {
    crate::db::changed(crate::db::Topic::Auth);
    diesel::update(users::table.find(id)).set(form).execute(conn)?;
    by_id(conn, id)
}

pub fn list(conn: &mut DbConn, limit: i64, offset: i64) -> QueryResult<Vec<User>> {
    users::table.order(users::username.asc()).limit(limit).offset(offset).select(User::as_select()).load(conn)
}

pub fn by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<User>> {
    users::table.filter(users::id.eq_any(ids)).order(users::username.asc()).select(User::as_select()).load(conn)
}
