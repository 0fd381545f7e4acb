use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::departments;
use crate::models::department::Department;

pub fn insert(conn: &mut DbConn, row: &Department) -> QueryResult<()> {
    diesel::insert_into(departments::table).values(row).execute(conn).map(drop)
}

pub fn by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<Department>> {
    departments::table.filter(departments::code.eq(code)).select(Department::as_select()).first(conn).optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Department>> {
    departments::table.order(departments::code.asc()).select(Department::as_select()).load(conn)
}
