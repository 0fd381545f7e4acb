//! Evaluation over a city-year on PostgreSQL. Generates, in SQL on a scratch database, a year of a
//! city (1,000,000 events by default across 10 districts, 150 streets, 1,500 communities and 12,000
//! grids, 2,000 handlers) with each event's timeline, task, supervision orders and excuses, then
//! times the evaluation statement (`queries::evaluation::tally`, what `GET /evaluation` runs) for
//! the questions an ops centre asks. The anchor, measured in the same run on the same data: one
//! sequential count over the timeline table.
//!
//! Then the hot reads of the same city-year, each 30 times over different streets, grids, people
//! and pages (p50 and p99): listings by scope and filter, a deep page, the task feed and the live
//! stream's catch-up. `--explain 1` prints PostgreSQL's plan of each (auto_explain, to stderr).
//!
//! ```text
//! cargo run --release -p gridwork-tests --bin citybench -- --events 1000000
//! ```

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};
use gridwork::db::{Db, DbConn, DbUrl};
use gridwork::queries::evaluation::{Reach, Unit, tally};
use gridwork_mobile_core::AreaLevel;
use gridwork_tests::arg;

/// The scratch database: the city-year in SQL, set-based (no row-by-row round trips).
const GENERATE: &[(&str, &str)] = &[
    (
        "handlers",
        "INSERT INTO users (id, username, display_name, phone, password_hash, is_active, created_at, updated_at)
         SELECT 'u' || g, 'handler' || g, '处置人' || g, NULL, 'x', TRUE, TIMESTAMP '2025-12-31 16:00', TIMESTAMP '2025-12-31 16:00'
         FROM generate_series(0, 1999) g",
    ),
    (
        "events",
        "INSERT INTO events (id, category_code, grade, state, source, description, address, lat, lng, city_code,
             district_code, street_code, community_code, grid_code, reporter_id, due_at, version, created_at,
             updated_at, late_stages, rework_count, extension_count)
         SELECT 'e' || lpad(g::text, 8, '0'), 'C-03-01', 'general',
             CASE WHEN g % 100 < 90 THEN 'closed' WHEN g % 100 < 93 THEN 'rejected' ELSE 'in_progress' END,
             'resident', 'city-year', NULL, 30.6, 114.3, '420100', d, d || s, d || s || c,
             d || s || c || lpad((h % 8)::text, 3, '0'),
             'u' || (h % 2000), t + INTERVAL '2 days', 1, t, t + INTERVAL '1 day',
             CASE WHEN h % 10 = 0 THEN 1 ELSE 0 END, CASE WHEN h % 20 = 1 THEN 1 ELSE 0 END,
             CASE WHEN h % 25 = 2 THEN 1 ELSE 0 END
         FROM (
             SELECT g, h, TIMESTAMP '2025-12-31 16:00' + (g::double precision / $N) * INTERVAL '365 days' AS t,
                 '4201' || lpad((h % 10 + 2)::text, 2, '0') AS d, lpad(((h / 10) % 15)::text, 3, '0') AS s,
                 lpad(((h / 150) % 10)::text, 3, '0') AS c
             FROM (SELECT g, (g::bigint * 7919) % 1000003 AS h FROM generate_series(0, $N - 1) g) x
         ) y",
    ),
    (
        "timelines",
        "INSERT INTO event_log (id, event_id, actor_id, action, from_state, to_state, reason, created_at, seq)
         SELECT e.id || '-' || s.seq, e.id, e.reporter_id, s.action, s.from_state, s.to_state, NULL,
             e.created_at + s.minutes * INTERVAL '1 minute'
                 + CASE WHEN s.seq >= 6 THEN (hashtext(e.id) % 2880 + 2880) * INTERVAL '1 minute' ELSE INTERVAL '0' END,
             s.seq
         FROM events e JOIN (VALUES
             (0, 'report', NULL, 'reported', 0, 'any'),
             (1, 'reject', 'reported', 'rejected', 45, 'rejected'),
             (1, 'accept', 'reported', 'accepted', 30, 'kept'),
             (2, 'dispatch_pending', 'accepted', 'accepted', 30, 'kept'),
             (3, 'dispatch', 'accepted', 'dispatched', 55, 'kept'),
             (4, 'claim', 'dispatched', 'claimed', 80, 'kept'),
             (5, 'start', 'claimed', 'in_progress', 120, 'kept'),
             (6, 'resolve', 'in_progress', 'resolved', 0, 'closed'),
             (7, 'verify', 'resolved', 'closed', 180, 'closed')
         ) s(seq, action, from_state, to_state, minutes, applies)
         ON s.applies = 'any' OR (s.applies = 'rejected' AND e.state = 'rejected')
             OR (s.applies = 'kept' AND e.state <> 'rejected') OR (s.applies = 'closed' AND e.state = 'closed')",
    ),
    (
        "returns",
        "INSERT INTO event_log (id, event_id, actor_id, action, from_state, to_state, reason, created_at, seq)
         SELECT e.id || '-r', e.id, e.reporter_id, 'return', 'claimed', 'accepted', '不属于本网格',
             e.created_at + INTERVAL '100 minutes', 100
         FROM events e WHERE e.state <> 'rejected' AND hashtext(e.id) % 30 = 0",
    ),
    (
        "tasks",
        "INSERT INTO tasks (id, event_id, user_id, department_id, lead, state, why, assigned_by, created_at, updated_at)
         SELECT 't' || e.id, e.id, 'u' || abs(hashtext(e.id) % 2000), NULL, TRUE,
             CASE WHEN e.state = 'closed' THEN 'closed' ELSE 'in_progress' END, '{}', e.reporter_id,
             e.created_at + INTERVAL '55 minutes', e.updated_at
         FROM events e WHERE e.state <> 'rejected'",
    ),
    (
        "supervision orders",
        "INSERT INTO supervision_orders (id, event_id, level, area_code, automatic, reason, issued_by, created_at,
             state, due_at, reply_evidence, decided_at)
         SELECT 'o' || e.id, e.id, 'street', e.street_code, TRUE, 'overdue', e.reporter_id,
             e.created_at + INTERVAL '3 days', CASE WHEN e.state = 'closed' THEN 'closed' ELSE 'open' END,
             e.created_at + INTERVAL '4 days', '[]',
             CASE WHEN e.state = 'closed' THEN e.created_at + INTERVAL '4 days' END
         FROM events e WHERE e.late_stages > 0 AND hashtext(e.id) % 5 = 0",
    ),
    (
        "excuses",
        "INSERT INTO event_excuses (event_id, excused_at, excused_by, reason)
         SELECT e.id, e.updated_at, e.reporter_id, '暴雨停工' FROM events e
         WHERE e.late_stages > 0 AND e.state = 'closed' AND hashtext(e.id) % 3 = 0",
    ),
    (
        // What the server keeps as it writes timelines; from the timelines here, as the migration
        // that introduced it does.
        "milestones",
        "INSERT INTO event_milestones (event_id, accepted_at, dispatched_at, resolved_at, closed_at, returns)
         SELECT l.event_id,
             MIN(CASE WHEN l.action = 'accept' THEN l.created_at END),
             MIN(CASE WHEN l.action = 'dispatch' THEN l.created_at END),
             MAX(CASE WHEN l.action = 'resolve' THEN l.created_at END),
             MIN(CASE WHEN l.to_state = 'closed' AND l.from_state <> 'closed' AND l.action <> 'merge' THEN l.created_at END),
             SUM(CASE WHEN l.action = 'return' THEN 1 ELSE 0 END)
         FROM event_log l GROUP BY l.event_id",
    ),
    ("analyze", "ANALYZE"),
];

fn month(m: u32) -> (NaiveDateTime, NaiveDateTime) {
    let day = |y: i32, m: u32| {
        NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default().and_time(chrono::NaiveTime::MIN)
            - chrono::Duration::hours(8)
    };
    (day(2026, m), if m == 12 { day(2027, 1) } else { day(2026, m + 1) })
}

fn main() -> anyhow::Result<()> {
    let events: u64 = arg("--events").map_or(Ok(1_000_000), |v| v.parse()).context("--events N")?;
    let admin = gridwork_tests::pg_admin_url();
    let mut root = diesel::PgConnection::establish(&admin).context("PostgreSQL")?;
    // `--database NAME`: time again over a city-year kept by `--keep 1`.
    if let Some(name) = arg("--database") {
        return run(&admin, &name, None);
    }
    let name = format!("gw_citybench_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut root)?;
    let result = run(&admin, &name, Some(events));
    if arg("--keep").is_none() {
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut root)?;
    }
    result
}

fn run(admin: &str, name: &str, generate: Option<u64>) -> anyhow::Result<()> {
    let root = admin.rsplit_once('/').map_or(admin, |(r, _)| r);
    let url = DbUrl::parse(&format!("{root}/{name}")).map_err(anyhow::Error::msg)?;
    let db = Db::connect(&url, &Default::default())?;
    let mut conn = db.get().map_err(|e| anyhow::anyhow!("{}", e.message))?;
    // The schema only: the generated timelines carry no hash chain, and sealing 7.7 million
    // entries (what a server's start does for legacy entries) is not what is measured here.
    if let DbConn::Postgres(pg) = &mut *conn {
        use diesel_migrations::MigrationHarness;
        pg.run_pending_migrations(gridwork::db::migrate::POSTGRES).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if let Some(events) = generate {
        gridwork::catalog::seed_default(&mut conn).map_err(|e| anyhow::anyhow!("{}", e.message))?;
        println!("generating a city-year of {events} events in {name}");
        let started = Instant::now();
        for (what, sql) in GENERATE {
            let t = Instant::now();
            let n = diesel::sql_query(sql.replace("$N", &events.to_string())).execute(&mut *conn)?;
            println!("  {what:<20} {n:>10} rows  {:>7.1} s", t.elapsed().as_secs_f64());
        }
        println!("  generated in {:.0} s", started.elapsed().as_secs_f64());
    }
    let counts: Vec<(String, i64)> = ["events", "event_log", "tasks", "supervision_orders", "event_excuses"]
        .iter()
        .map(|t| Ok(((*t).to_owned(), count(&mut conn, &format!("SELECT COUNT(*) AS n FROM {t}"))?)))
        .collect::<anyhow::Result<_>>()?;
    println!("  {counts:?}");

    let now = month(12).0;
    let everywhere = Reach { everywhere: true, ..Reach::default() };
    let street = Reach { everywhere: true, areas: vec![], within: Some((AreaLevel::Street, "420102000".into())) };
    let june = month(6);
    let year = (month(1).0, month(12).1);
    let cases: [(&str, Unit, &Reach, (NaiveDateTime, NaiveDateTime)); 5] = [
        ("city ops: June, per street", Unit::Area(AreaLevel::Street), &everywhere, june),
        ("city ops: June, per handler", Unit::Handler, &everywhere, june),
        ("city ops: June, per grid", Unit::Area(AreaLevel::Grid), &everywhere, june),
        ("city ops: the year, per district", Unit::Area(AreaLevel::District), &everywhere, year),
        ("one street: June, per community", Unit::Area(AreaLevel::Community), &street, june),
    ];
    hot_reads(&mut conn)?;
    let (anchor, logged) = gridwork_tests::median_of_three(|| count(&mut conn, "SELECT COUNT(*) AS n FROM event_log"))?;
    println!("\n| question | units | events closed | median of 3 |\n|---|---|---|---|");
    for (what, unit, reach, (from, to)) in cases {
        let (took, tallies) = gridwork_tests::median_of_three(|| Ok(tally(&mut conn, unit, reach, from, to, now)?))?;
        let closed: i64 = tallies.iter().map(|t| t.closed).sum();
        println!("| {what} | {} | {closed} | {:.0} ms |", tallies.len(), took.as_secs_f64() * 1000.0);
    }
    println!(
        "| anchor: `SELECT COUNT(*) FROM event_log` ({logged} rows) | | | {:.0} ms |",
        anchor.as_secs_f64() * 1000.0
    );
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut DbConn, sql: &str) -> anyhow::Result<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

#[derive(diesel::QueryableByName)]
struct Code {
    #[diesel(sql_type = diesel::sql_types::Text)]
    code: String,
}

fn codes(conn: &mut DbConn, sql: &str) -> anyhow::Result<Vec<String>> {
    Ok(diesel::sql_query(sql).load::<Code>(conn)?.into_iter().map(|c| c.code).collect())
}

/// One hot read: what it is, and how to run its `i`th variant (returning the rows it read).
type Read<'a> = (&'static str, Box<dyn FnMut(&mut DbConn, usize) -> anyhow::Result<usize> + 'a>);

/// The reads people make all day, each 30 times (p50, p99), on the same city-year.
fn hot_reads(conn: &mut DbConn) -> anyhow::Result<()> {
    use gridwork::queries::events::{EventFilter, changed_since, list};
    let streets = codes(conn, "SELECT DISTINCT street_code AS code FROM events ORDER BY 1 LIMIT 30")?;
    let grids = codes(conn, "SELECT DISTINCT grid_code AS code FROM events ORDER BY 1 LIMIT 30")?;
    let deep = codes(conn, "SELECT id AS code FROM events ORDER BY id DESC OFFSET 5000 LIMIT 30")?;
    let communities = codes(conn, "SELECT DISTINCT community_code AS code FROM events ORDER BY 1 LIMIT 30")?;
    let latest = codes(
        conn,
        "SELECT to_char(MAX(updated_at) - INTERVAL '1 hour', 'YYYY-MM-DD HH24:MI:SS') AS code FROM events",
    )?;
    let since = NaiveDateTime::parse_from_str(latest.first().context("no events")?, "%Y-%m-%d %H:%M:%S")?;
    let pick = |v: &[String], i: usize| v[i % v.len()].clone();
    let person = |i: usize| format!("u{}", (i * 67) % 2000);
    let page = |f: EventFilter| EventFilter { limit: 50, ..f };
    let open: Vec<String> =
        ["reported", "accepted", "dispatched", "claimed", "in_progress", "resolved"].map(str::to_owned).into();
    let mut reads: Vec<Read<'_>> = vec![
        (
            "city operator: the newest 50",
            Box::new(|c, _| Ok(list(c, &page(EventFilter { everywhere: true, ..Default::default() }))?.len())),
        ),
        (
            "street coordinator: the newest 50 of the street and their own",
            Box::new(|c, i| {
                Ok(list(
                    c,
                    &page(EventFilter {
                        scope: vec![(AreaLevel::Street, pick(&streets, i))],
                        own: Some(person(i)),
                        ..Default::default()
                    }),
                )?
                .len())
            }),
        ),
        (
            "grid worker: the newest 50 of the grid and their own",
            Box::new(|c, i| {
                Ok(list(
                    c,
                    &page(EventFilter {
                        scope: vec![(AreaLevel::Grid, pick(&grids, i))],
                        own: Some(person(i)),
                        ..Default::default()
                    }),
                )?
                .len())
            }),
        ),
        (
            "community: the newest 50",
            Box::new(|c, i| {
                let scope = vec![(AreaLevel::Community, pick(&communities, i))];
                Ok(list(c, &page(EventFilter { scope, ..Default::default() }))?.len())
            }),
        ),
        (
            "street: in progress, the newest 50",
            Box::new(|c, i| {
                Ok(list(
                    c,
                    &page(EventFilter {
                        scope: vec![(AreaLevel::Street, pick(&streets, i))],
                        states: vec!["in_progress".into()],
                        ..Default::default()
                    }),
                )?
                .len())
            }),
        ),
        (
            "city: a page 5,000 events deep",
            Box::new(|c, i| {
                Ok(list(
                    c,
                    &page(EventFilter { everywhere: true, before_id: Some(pick(&deep, i)), ..Default::default() }),
                )?
                .len())
            }),
        ),
        (
            "city: open and overdue, the newest 50",
            Box::new(|c, _| {
                Ok(list(
                    c,
                    &page(EventFilter {
                        everywhere: true,
                        states: open.clone(),
                        overdue_at: Some(since),
                        ..Default::default()
                    }),
                )?
                .len())
            }),
        ),
        (
            "street: June, one category, the newest 50",
            Box::new(|c, i| {
                let (from, to) = month(6);
                Ok(list(
                    c,
                    &page(EventFilter {
                        scope: vec![(AreaLevel::Street, pick(&streets, i))],
                        category: Some("C-03-01".into()),
                        created_from: Some(from),
                        created_to: Some(to),
                        ..Default::default()
                    }),
                )?
                .len())
            }),
        ),
        (
            "task feed: a handler's open tasks",
            Box::new(|c, i| Ok(gridwork::queries::tasks::changed_for(c, &person(i), None, true, 100)?.len())),
        ),
        (
            "stream catch-up: the city's last hour",
            Box::new(|c, _| {
                let f = EventFilter { everywhere: true, limit: 500, ..Default::default() };
                Ok(changed_since(c, &f, (since, String::new()))?.len())
            }),
        ),
        (
            "stream catch-up: a district's last hour",
            Box::new(|c, i| {
                let scope = vec![(AreaLevel::District, format!("4201{:02}", i % 10 + 2))];
                let f = EventFilter { scope, limit: 500, ..Default::default() };
                Ok(changed_since(c, &f, (since, String::new()))?.len())
            }),
        ),
    ];
    let explain = arg("--explain").is_some();
    println!("\n| read (30 variants) | rows | p50 | p99 |\n|---|---|---|---|");
    for (what, run) in &mut reads {
        if explain {
            eprintln!("\n=== {what}");
            conn.batch_execute(
                "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; \
                 SET auto_explain.log_buffers = on; SET client_min_messages = log",
            )?;
            run(conn, 0)?;
            conn.batch_execute("SET client_min_messages = notice; SET auto_explain.log_min_duration = -1")?;
        }
        let mut took = vec![];
        let mut rows = 0;
        for i in 0..30 {
            let t = Instant::now();
            rows = run(conn, i)?;
            took.push(t.elapsed());
        }
        took.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("| {what} | {rows} | {:.1} ms | {:.1} ms |", ms(took[14]), ms(took[29]));
    }
    Ok(())
}
