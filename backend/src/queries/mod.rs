//! Queries, written once against `db::schema` and run on either backend. Each takes a
//! `&mut DbConn` so callers choose the transaction.

/// Inserts `rows` (a slice of one row type) in multi-row statements of at most `per` rows, which
/// the caller picks to stay under SQLite's bound-parameter limit. diesel's multi-backend
/// connection cannot batch, so each backend gets its own call.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr, $per:expr) => {{
        let mut n = 0;
        for chunk in $rows.chunks($per) {
            let insert = diesel::insert_into($table).values(chunk);
            n += match $conn {
                crate::db::DbConn::Sqlite(c) => insert.execute(c)?,
                crate::db::DbConn::Postgres(c) => insert.execute(c)?,
            };
        }
        n
    }};
}

pub mod areas;
pub mod audit;
pub mod categories;
pub mod cluster;
pub mod departments;
pub mod emergency;
pub mod erasure;
pub mod evaluation;
pub mod events;
pub mod evidence;
pub mod hotline;
pub mod hotspots;
pub mod milestones;
pub mod open311;
pub mod open_data;
pub mod personal_data;
pub mod push;
pub mod reports;
pub mod roles;
pub mod sensing;
pub mod sessions;
pub mod tasks;
pub mod throttle;
pub mod users;
pub mod volunteers;
pub mod webhooks;
pub mod workers;
