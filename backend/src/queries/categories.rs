use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::categories;
use crate::models::category::CategoryRow;

pub fn all(conn: &mut DbConn) -> QueryResult<Vec<CategoryRow>> {
    categories::table.order(categories::code.asc()).select(CategoryRow::as_select()).load(conn)
}

pub fn by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<CategoryRow>> {
    categories::table.find(code).select(CategoryRow::as_select()).first(conn).optional()
}

pub fn insert(conn: &mut DbConn, row: &CategoryRow) -> QueryResult<()> {
    crate::db::changed(crate::db::Topic::Standing);
    diesel::insert_into(categories::table).values(row).execute(conn).map(drop)
}

pub fn update(conn: &mut DbConn, row: &CategoryRow) -> QueryResult<()> {
    crate::db::changed(crate::db::Topic::Standing);
    diesel::update(categories::table.find(&row.code)).set(row).execute(conn).map(drop)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    categories::table.count().get_result(conn)
}
