use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{area_cells, areas};
use crate::models::area::{AreaCellRow, AreaRow};

pub fn current_all(conn: &mut DbConn) -> QueryResult<Vec<AreaRow>> {
    areas::table.filter(areas::valid_to.is_null()).order(areas::id.asc()).select(AreaRow::as_select()).load(conn)
}

pub fn current_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<AreaRow>> {
    areas::table
        .filter(areas::code.eq(code))
        .filter(areas::valid_to.is_null())
        .select(AreaRow::as_select())
        .first(conn)
        .optional()
}

/// The current areas directly under `parent`, by code.
pub fn current_children(conn: &mut DbConn, parent: &str) -> QueryResult<Vec<AreaRow>> {
    areas::table
        .filter(areas::parent_code.eq(parent))
        .filter(areas::valid_to.is_null())
        .order(areas::code.asc())
        .select(AreaRow::as_select())
        .load(conn)
}

/// Every version of an area, oldest first.
pub fn history(conn: &mut DbConn, code: &str) -> QueryResult<Vec<(NaiveDateTime, Option<NaiveDateTime>)>> {
    areas::table
        .filter(areas::code.eq(code))
        .order(areas::valid_from.asc())
        .select((areas::valid_from, areas::valid_to))
        .load(conn)
}

pub fn close(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(areas::table.find(id)).set(areas::valid_to.eq(at)).execute(conn)
}

pub fn insert(conn: &mut DbConn, row: &AreaRow) -> QueryResult<()> {
    diesel::insert_into(areas::table).values(row).execute(conn).map(drop)
}

/// Inserts cells, 400 to a statement.
pub fn insert_cells(conn: &mut DbConn, area_id: &str, cells: &[i64]) -> QueryResult<()> {
    let rows: Vec<AreaCellRow> = cells.iter().map(|&cell| AreaCellRow { area_id, cell }).collect();
    insert_rows!(conn, area_cells::table, rows, 400);
    Ok(())
}

pub fn cell_count(conn: &mut DbConn, area_id: &str) -> QueryResult<i64> {
    area_cells::table.filter(area_cells::area_id.eq(area_id)).count().get_result(conn)
}
