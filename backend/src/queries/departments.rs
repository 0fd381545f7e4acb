use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{department_systems, departments};
use crate::models::department::{Department, SystemRow};

pub fn insert(conn: &mut DbConn, row: &Department) -> QueryResult<()> {
    diesel::insert_into(departments::table).values(row).execute(conn).map(drop)
}

pub fn by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Department>> {
    departments::table.filter(departments::code.eq(code)).select(Department::as_select()).first(conn).optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Department>> {
    departments::table.order(departments::code.asc()).select(Department::as_select()).load(conn)
}

pub fn insert_system(conn: &mut DbConn, row: &SystemRow) -> QueryResult<()> {
    diesel::insert_into(department_systems::table).values(row).execute(conn).map(drop)
}

pub fn systems(conn: &mut DbConn, department_id: &str) -> QueryResult<Vec<SystemRow>> {
    department_systems::table
        .filter(department_systems::department_id.eq(department_id))
        .order(department_systems::created_at.asc())
        .select(SystemRow::as_select())
        .load(conn)
}

pub fn system(conn: &mut DbConn, department_id: &str, user_id: &str) -> QueryResult<Option<SystemRow>> {
    department_systems::table
        .filter(department_systems::department_id.eq(department_id))
        .filter(department_systems::user_id.eq(user_id))
        .select(SystemRow::as_select())
        .first(conn)
        .optional()
}

pub fn revoke_system(conn: &mut DbConn, user_id: &str, at: chrono::NaiveDateTime) -> QueryResult<bool> {
    diesel::update(department_systems::table.find(user_id).filter(department_systems::revoked_at.is_null()))
        .set(department_systems::revoked_at.eq(Some(at)))
        .execute(conn)
        .map(|n| n == 1)
}
