//! Both migration folders stay in step, and every migration runs up, down and up again.

use diesel::prelude::*;
use gridwork::db::{DbConn, migrate, schema};
use gridwork_tests::{Backend, TestDb};

fn names(folder: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(folder);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_migration_names() {
    let sqlite = names("sqlite");
    let postgres = names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must hold the same migrations");
    for folder in ["sqlite", "postgres"] {
        for name in names(folder) {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(folder).join(&name);
            assert!(
                dir.join("up.sql").is_file() && dir.join("down.sql").is_file(),
                "{folder}/{name} needs up.sql and down.sql"
            );
        }
    }
}

/// Reads every table through `schema.rs`, so a column that the SQL and the schema disagree on fails.
fn schema_matches(conn: &mut DbConn) {
    use gridwork::models::{
        audit::AuditEntry, department::Department, role_assignment::RoleAssignment, session::Session,
        throttle::LoginThrottle, user::User,
    };
    schema::users::table.select(User::as_select()).load(conn).unwrap();
    schema::sessions::table.select(Session::as_select()).load(conn).unwrap();
    schema::departments::table.select(Department::as_select()).load(conn).unwrap();
    schema::role_assignments::table.select(RoleAssignment::as_select()).load(conn).unwrap();
    schema::login_throttle::table.select(LoginThrottle::as_select()).load(conn).unwrap();
    schema::audit_log::table.select(AuditEntry::as_select()).load(conn).unwrap();
    schema::areas::table.select(gridwork::models::area::AreaRow::as_select()).load(conn).unwrap();
    schema::area_cells::table
        .select((schema::area_cells::area_id, schema::area_cells::cell))
        .load::<(String, i64)>(conn)
        .unwrap();
    schema::categories::table.select(gridwork::models::category::CategoryRow::as_select()).load(conn).unwrap();
    use gridwork::models::event::{EventLogRow, EventRow, FollowerRow, IdempotencyRow};
    schema::events::table.select(EventRow::as_select()).load(conn).unwrap();
    schema::event_idempotency::table.select(IdempotencyRow::as_select()).load(conn).unwrap();
    schema::event_followers::table.select(FollowerRow::as_select()).load(conn).unwrap();
    schema::event_log::table.select(EventLogRow::as_select()).load(conn).unwrap();
}

fn up_down_up(backend: Backend) {
    let Some(db) = TestDb::new(backend) else { return };
    let pool = db.pool();
    let mut conn = pool.get().unwrap();
    let applied = migrate::run_pending(&mut conn).unwrap();
    assert_eq!(applied.len(), names("sqlite").len());
    assert!(!migrate::has_pending(&mut conn).unwrap());
    schema_matches(&mut conn);
    let reverted = migrate::revert_all(&mut conn).unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert!(migrate::has_pending(&mut conn).unwrap());
    assert!(schema::users::table.count().get_result::<i64>(&mut *conn).is_err(), "down must drop the tables");
    let again = migrate::run_pending(&mut conn).unwrap();
    assert_eq!(again, applied);
    schema_matches(&mut conn);
    // Applying again is a no-op.
    assert!(migrate::run_pending(&mut conn).unwrap().is_empty());
}

#[test]
fn up_down_up_sqlite() {
    up_down_up(Backend::Sqlite);
}

#[test]
fn up_down_up_postgres() {
    up_down_up(Backend::Postgres);
}

#[test]
fn sqlite_connections_use_wal_busy_timeout_and_foreign_keys() {
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    #[derive(QueryableByName)]
    struct Num {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        v: i32,
    }
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let pool = db.pool();
    let mut conn = pool.get().unwrap();
    let DbConn::Sqlite(c) = &mut *conn else { panic!("expected SQLite") };
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(c).unwrap();
    assert_eq!(mode.journal_mode, "wal");
    let fk: Num = diesel::sql_query("SELECT foreign_keys AS v FROM pragma_foreign_keys").get_result(c).unwrap();
    assert_eq!(fk.v, 1);
    let busy: Num = diesel::sql_query("SELECT timeout AS v FROM pragma_busy_timeout").get_result(c).unwrap();
    assert!(busy.v >= 5000);
}
