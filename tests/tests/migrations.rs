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
    use gridwork::models::event::{EventLinkRow, SupervisionOrderRow, TaskRow};
    use gridwork::models::push::{DeliveryRow, DeviceRow, NotificationRow};
    use gridwork::models::worker::{PingRow, WorkerStatusRow};
    schema::tasks::table.select(TaskRow::as_select()).load(conn).unwrap();
    schema::supervision_orders::table.select(SupervisionOrderRow::as_select()).load(conn).unwrap();
    schema::event_links::table.select(EventLinkRow::as_select()).load(conn).unwrap();
    schema::worker_status::table.select(WorkerStatusRow::as_select()).load(conn).unwrap();
    schema::location_pings::table.select(PingRow::as_select()).load(conn).unwrap();
    schema::notifications::table.select(NotificationRow::as_select()).load(conn).unwrap();
    schema::devices::table.select(DeviceRow::as_select()).load(conn).unwrap();
    schema::deliveries::table.select(DeliveryRow::as_select()).load(conn).unwrap();
    use gridwork::models::evidence::{BlobRow, EvidenceRow, UploadRow};
    schema::evidence_blobs::table.select(BlobRow::as_select()).load(conn).unwrap();
    schema::evidence::table.select(EvidenceRow::as_select()).load(conn).unwrap();
    schema::evidence_uploads::table.select(UploadRow::as_select()).load(conn).unwrap();
    schema::action_idempotency::table.select(gridwork::models::event::ActionKeyRow::as_select()).load(conn).unwrap();
    schema::erasure_requests::table
        .select(gridwork::models::erasure::ErasureRequestRow::as_select())
        .load(conn)
        .unwrap();
}

/// Timelines written before the hash chain existed are sealed when the chain's migration runs,
/// and verify afterwards.
fn legacy_timelines_are_sealed(backend: Backend) {
    let Some(db) = TestDb::new(backend) else { return };
    let pool = db.pool();
    let mut conn = pool.get().unwrap();
    while !migrate::run_next(&mut conn).unwrap().starts_with("20261130000004") {}
    let ts = |m: u32| format!("'2026-11-30 08:{m:02}:00'");
    let statements = [
        format!(
            "INSERT INTO users (id, username, display_name, password_hash, is_active, created_at, updated_at) VALUES ('u1', 'wang', 'wang', 'x', TRUE, {0}, {0})",
            ts(0)
        ),
        format!(
            "INSERT INTO events (id, category_code, grade, state, source, description, lat, lng, reporter_id, assignees, version, created_at, updated_at) VALUES ('e1', 'C-03-01', 'general', 'accepted', 'resident', 'old', 30.5, 114.3, 'u1', '[]', 2, {0}, {1})",
            ts(1),
            ts(2)
        ),
        format!(
            "INSERT INTO event_log (id, event_id, actor_id, action, from_state, to_state, created_at) VALUES ('l1', 'e1', 'u1', 'report', NULL, 'reported', {})",
            ts(1)
        ),
        format!(
            "INSERT INTO event_log (id, event_id, actor_id, action, from_state, to_state, created_at) VALUES ('l2', 'e1', 'u1', 'accept', 'reported', 'accepted', {})",
            ts(2)
        ),
    ];
    gridwork::catalog::seed_default(&mut conn).unwrap();
    for sql in statements {
        diesel::sql_query(sql).execute(&mut *conn).unwrap();
    }
    migrate::run_pending(&mut conn).unwrap();
    let report = gridwork::events::timeline::verify(&mut conn).unwrap();
    assert_eq!((report.events, report.entries), (1, 2));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let seqs: Vec<i32> = schema::event_log::table
        .order(schema::event_log::seq.asc())
        .select(schema::event_log::seq)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(seqs, [1, 2]);
}

#[test]
fn legacy_timelines_are_sealed_sqlite() {
    legacy_timelines_are_sealed(Backend::Sqlite);
}

#[test]
fn legacy_timelines_are_sealed_postgres() {
    legacy_timelines_are_sealed(Backend::Postgres);
}

/// The first scheme's hash of an entry: every field, the personal ones included.
#[allow(clippy::too_many_arguments)]
fn first_scheme(
    prev: &str,
    id: (&str, i32),
    actor: &str,
    action: &str,
    states: (Option<&str>, &str),
    reason: Option<&str>,
    at: &str,
    detail: Option<&str>,
) -> String {
    use sha2::Digest;
    let canonical = serde_json::json!([
        prev, id.0, id.1, actor, "resident", action, states.0, states.1, reason, at, 30.5, 114.3, detail
    ]);
    gridwork_mobile_core::hash::hex(&sha2::Sha256::digest(canonical.to_string().as_bytes()))
}

/// Timelines hashed before personal parts were committed to separately are re-sealed by the
/// migration that added the commitment — unless their old chain does not verify: that one is
/// left, and still reported at the entry that was edited.
fn timelines_are_resealed_with_personal_commitments(backend: Backend) {
    let Some(db) = TestDb::new(backend) else { return };
    let pool = db.pool();
    let mut conn = pool.get().unwrap();
    while !migrate::run_next(&mut conn).unwrap().starts_with("20261202000018") {}
    gridwork::catalog::seed_default(&mut conn).unwrap();
    diesel::sql_query("INSERT INTO users (id, username, display_name, password_hash, is_active, created_at, updated_at) VALUES ('u1', 'zhao', '赵六', 'x', TRUE, '2026-11-30 08:00:00', '2026-11-30 08:00:00')")
        .execute(&mut *conn)
        .unwrap();
    let (t1, t2) = ("2026-11-30T08:01:00.000000Z", "2026-11-30T08:02:00.000000Z");
    for (event, tamper) in [("e1", false), ("e2", true)] {
        let detail = r#"{"description":"电话 13900000000"}"#;
        let h1 = first_scheme("", (event, 1), "u1", "report", (None, "reported"), None, t1, Some(detail));
        let h2 = first_scheme(&h1, (event, 2), "u1", "note", (Some("reported"), "reported"), Some("ok"), t2, None);
        let stored_reason = if tamper { "tampered" } else { "ok" };
        for sql in [
            format!(
                "INSERT INTO events (id, category_code, grade, state, source, description, lat, lng, reporter_id, version, created_at, updated_at, log_head) VALUES ('{event}', 'C-03-01', 'general', 'reported', 'resident', 'old', 30.5, 114.3, 'u1', 1, '2026-11-30 08:01:00', '2026-11-30 08:02:00', '{h2}')"
            ),
            format!(
                "INSERT INTO event_log (id, event_id, actor_id, actor_role, action, from_state, to_state, created_at, lat, lng, detail, seq, hash) VALUES ('{event}-1', '{event}', 'u1', 'resident', 'report', NULL, 'reported', '2026-11-30 08:01:00', 30.5, 114.3, '{detail}', 1, '{h1}')"
            ),
            format!(
                "INSERT INTO event_log (id, event_id, actor_id, actor_role, action, from_state, to_state, reason, created_at, lat, lng, seq, hash) VALUES ('{event}-2', '{event}', 'u1', 'resident', 'note', 'reported', 'reported', '{stored_reason}', '2026-11-30 08:02:00', 30.5, 114.3, 2, '{h2}')"
            ),
        ] {
            diesel::sql_query(sql).execute(&mut *conn).unwrap();
        }
    }
    migrate::run_pending(&mut conn).unwrap();
    let after = gridwork::events::timeline::verify(&mut conn).unwrap();
    assert_eq!(after.entries, 4);
    let problems: Vec<_> = after.problems.iter().map(|p| (p.event_id.as_str(), p.seq, p.problem)).collect();
    assert_eq!(problems, [("e2", Some(2), "edited")], "the untouched chain is still reported where it was edited");
    let committed: Vec<(String, bool)> = schema::event_log::table
        .order(schema::event_log::id.asc())
        .select((schema::event_log::id, schema::event_log::personal_commitment.is_not_null()))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(
        committed,
        [("e1-1".into(), true), ("e1-2".into(), true), ("e2-1".into(), false), ("e2-2".into(), false)]
    );
    // The re-sealed chain keeps its personal parts apart: erasing them leaves it verifying.
    gridwork::events::timeline::erase_actor(&mut conn, "u1", gridwork::models::now()).unwrap();
    let erased = gridwork::events::timeline::verify(&mut conn).unwrap();
    assert_eq!(erased.problems.len(), 1, "{:?}", erased.problems);
    assert_eq!(erased.problems[0].event_id, "e2");
}

#[test]
fn timelines_are_resealed_with_personal_commitments_sqlite() {
    timelines_are_resealed_with_personal_commitments(Backend::Sqlite);
}

#[test]
fn timelines_are_resealed_with_personal_commitments_postgres() {
    timelines_are_resealed_with_personal_commitments(Backend::Postgres);
}

/// Assignment lists kept as JSON become task rows (the lead first, a resolved part resolved), the
/// lists go, and the database refuses a state the machine does not know.
fn assignment_lists_become_task_rows(backend: Backend) {
    use gridwork::models::event::TaskRow;
    let Some(db) = TestDb::new(backend) else { return };
    let pool = db.pool();
    let mut conn = pool.get().unwrap();
    while !migrate::run_next(&mut conn).unwrap().starts_with("20261130000008") {}
    gridwork::catalog::seed_default(&mut conn).unwrap();
    let at = "'2026-11-30 08:00:00'";
    for u in ["u1", "u2", "u3"] {
        diesel::sql_query(format!(
            "INSERT INTO users (id, username, display_name, password_hash, is_active, created_at, updated_at) VALUES ('{u}', '{u}', '{u}', 'x', TRUE, {at}, {at})"
        ))
        .execute(&mut *conn)
        .unwrap();
    }
    for (id, state, assignees, parts) in
        [("e1", "in_progress", r#"["u1","u2"]"#, r#"["u2"]"#), ("e2", "closed", r#"["u1"]"#, r#"["u1"]"#)]
    {
        diesel::sql_query(format!(
            "INSERT INTO events (id, category_code, grade, state, source, description, lat, lng, reporter_id, assignees, resolved_parts, version, created_at, updated_at) VALUES ('{id}', 'C-03-01', 'general', '{state}', 'resident', 'old', 30.5, 114.3, 'u3', '{assignees}', '{parts}', 5, {at}, {at})"
        ))
        .execute(&mut *conn)
        .unwrap();
    }
    migrate::run_pending(&mut conn).unwrap();
    let tasks: Vec<TaskRow> = schema::tasks::table
        .order((schema::tasks::event_id.asc(), schema::tasks::user_id.asc()))
        .select(TaskRow::as_select())
        .load(&mut *conn)
        .unwrap();
    let got: Vec<(&str, &str, bool, &str)> =
        tasks.iter().map(|t| (t.event_id.as_str(), t.user_id.as_str(), t.lead, t.state.as_str())).collect();
    assert_eq!(got, [("e1", "u1", true, "in_progress"), ("e1", "u2", false, "resolved"), ("e2", "u1", true, "closed")]);
    let row = schema::events::table
        .find("e1")
        .select(gridwork::models::event::EventRow::as_select())
        .first(&mut *conn)
        .unwrap();
    let on = gridwork::events::on_event(&mut conn, &row).unwrap();
    assert_eq!((on.assignees, on.resolved_parts), (vec!["u1".to_owned(), "u2".to_owned()], vec!["u2".to_owned()]));
    for bad in ["state = 'done'", "source = 'twitter'", "escalation_level = 'province'"] {
        let refused = diesel::sql_query(format!("UPDATE events SET {bad} WHERE id = 'e1'")).execute(&mut *conn);
        assert!(refused.is_err(), "the database took {bad}");
    }
}

#[test]
fn assignment_lists_become_task_rows_sqlite() {
    assignment_lists_become_task_rows(Backend::Sqlite);
}

#[test]
fn assignment_lists_become_task_rows_postgres() {
    assignment_lists_become_task_rows(Backend::Postgres);
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
