//! Load generator: starts a real `gridwork demo` server process on a fresh SQLite file or a fresh
//! PostgreSQL database, drives simulated phones over HTTP and prints throughput and latency per
//! operation. With PostgreSQL it also measures the server's raw single-row insert rate with
//! pgbench in the same run, as the yardstick for report intake.
//!
//! ```text
//! cargo build --release -p gridwork-backend --bin gridwork
//! cargo run --release -p gridwork-tests --bin loadgen -- --backend postgres --scenario intake
//! ```

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use diesel::{Connection, RunQueryDsl};
use gridwork_tests::Rng;
use gridwork_tests::demo_server::{Server, login, memory_mb, phone_user, start_server, wait_ready};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// The demo city's bounding box (lat, lng).
const CITY: (f64, f64, f64, f64) = (30.581, 114.271, 30.619, 114.329);

#[derive(Debug, Clone)]
struct Args {
    backend: String,
    scenario: String,
    seconds: u64,
    phones: usize,
    workers: usize,
    /// Push to a local FCM double: field phones register devices; delivery is measured.
    push: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a =
        Args { backend: "sqlite".into(), scenario: "intake".into(), seconds: 20, phones: 32, workers: 16, push: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--backend" => a.backend = value()?,
            "--scenario" => a.scenario = value()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--phones" => a.phones = value()?.parse()?,
            "--workers" => a.workers = value()?.parse()?,
            "--push" => a.push = true,
            "-h" | "--help" => {
                println!(
                    "loadgen [--backend sqlite|postgres] [--scenario intake|mixed] [--seconds N] [--phones N] [--workers N] [--push]\n\
                     intake: every phone files reports; mixed: residents report, grid workers ping, poll tasks and work them;\n\
                     photos: --phones phones upload distinct 12 MP camera photos (the server's photo pipeline and its memory);\n\
                     reads: wrk with --phones connections against /healthz, /api/v1/me and /api/v1/areas/lookup, with the\n\
                     session cache on and off (--seconds per endpoint);\n\
                     cluster: three replicas behind HAProxy, --phones phones filing and an operator accepting, one\n\
                     replica SIGKILLed a third into the run and restarted a fifth later"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if !matches!(a.backend.as_str(), "sqlite" | "postgres")
        || !matches!(a.scenario.as_str(), "intake" | "mixed" | "photos" | "reads" | "cluster")
    {
        bail!("--backend is sqlite or postgres, --scenario intake, mixed, photos, reads or cluster");
    }
    if a.scenario == "cluster" && a.backend != "postgres" {
        bail!("--scenario cluster runs on PostgreSQL (SQLite is one process)");
    }
    Ok(a)
}

/// A point in the demo city; the generator is deterministic, so two runs file the same points.
fn point(rng: &mut Rng) -> (f64, f64) {
    (CITY.0 + (CITY.2 - CITY.0) * rng.unit(), CITY.1 + (CITY.3 - CITY.1) * rng.unit())
}

#[derive(Default)]
struct Stats {
    samples: Mutex<Vec<(&'static str, u32, bool)>>,
    outcomes: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Stats {
    async fn record(&self, op: &'static str, took: Duration, ok: bool) {
        let micros = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        self.samples.lock().await.push((op, micros, ok));
    }

    async fn outcome(&self, what: String) {
        *self.outcomes.lock().await.entry(what).or_default() += 1;
    }
}

fn grids() -> Vec<String> {
    let mut out = vec![];
    for d in ["420102", "420103"] {
        for s in ["003", "004"] {
            for c in ["001", "002"] {
                for g in ["001", "002"] {
                    out.push(format!("{d}{s}{c}{g}"));
                }
            }
        }
    }
    out
}

const CATEGORIES: [&str; 8] = ["E-01-02", "C-03-01", "C-06-01", "E-06-01", "E-02-01", "E-01-01", "C-01-03", "E-04-02"];

async fn report(client: &reqwest::Client, base: &str, token: &str, rng: &mut Rng, n: u64, phone: usize, stats: &Stats) {
    let (lat, lng) = point(rng);
    let category = CATEGORIES[(rng.unit() * CATEGORIES.len() as f64) as usize % CATEGORIES.len()];
    let t = Instant::now();
    let r = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .header("Idempotency-Key", format!("load-{phone}-{n}"))
        .json(&json!({"category": category, "lat": lat, "lng": lng, "description": "负载测试上报"}))
        .send()
        .await;
    let ok = match r {
        Ok(r) if r.status().is_success() => {
            let body: Value = r.json().await.unwrap_or_default();
            stats.outcome(format!("report {}", body["filed"].as_str().unwrap_or("?"))).await;
            true
        }
        Ok(r) => {
            stats.outcome(format!("report HTTP {}", r.status().as_u16())).await;
            false
        }
        Err(_) => false,
    };
    stats.record("report", t.elapsed(), ok).await;
}

async fn timed(stats: &Stats, op: &'static str, req: reqwest::RequestBuilder) -> Option<Value> {
    let t = Instant::now();
    let r = req.send().await;
    let (ok, body) = match r {
        Ok(r) if r.status().is_success() => (true, r.json::<Value>().await.ok()),
        Ok(r) => {
            stats.outcome(format!("{op} HTTP {}", r.status().as_u16())).await;
            (false, None)
        }
        Err(_) => (false, None),
    };
    stats.record(op, t.elapsed(), ok).await;
    body
}

/// A grid worker's phone: on duty, pings in batches of 5, polls its queue and works its tasks.
async fn worker_loop(
    client: reqwest::Client,
    base: String,
    token: String,
    seed: u64,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
) {
    let mut rng = Rng(seed);
    let _ =
        client.put(format!("{base}/api/v1/me/duty")).bearer_auth(&token).json(&json!({"on_duty": true})).send().await;
    let mut tick = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick += 1;
        let now = chrono::Utc::now();
        let pings: Vec<Value> = (0..5)
            .map(|i| {
                let (lat, lng) = point(&mut rng);
                json!({"lat": lat, "lng": lng, "recorded_at": (now - chrono::Duration::seconds(5 - i)).to_rfc3339()})
            })
            .collect();
        timed(
            &stats,
            "location (5 pings)",
            client.post(format!("{base}/api/v1/me/location")).bearer_auth(&token).json(&json!({"pings": pings})),
        )
        .await;
        let Some(q) =
            timed(&stats, "tasks/mine", client.get(format!("{base}/api/v1/tasks/mine")).bearer_auth(&token)).await
        else {
            continue;
        };
        if tick.is_multiple_of(2) {
            // Work the oldest task one step further.
            if let Some(task) = q["tasks"].as_array().and_then(|t| t.first()) {
                let id = task["event_id"].as_str().unwrap_or_default();
                let action = match task["state"].as_str() {
                    Some("assigned") => json!({"action": "claim"}),
                    Some("claimed") => json!({"action": "start"}),
                    _ => {
                        // A small after-photo first, as a phone uploads it.
                        let form = reqwest::multipart::Form::new()
                            .text("kind", "after")
                            .text("event_id", id.to_owned())
                            .part("file", reqwest::multipart::Part::bytes(gridwork_tests::unique_jpeg()));
                        let req = client.post(format!("{base}/api/v1/evidence")).bearer_auth(&token).multipart(form);
                        let Some(photo) = timed(&stats, "evidence upload", req).await else { continue };
                        json!({"action": "resolve", "evidence": [photo["id"]]})
                    }
                };
                timed(
                    &stats,
                    "action",
                    client.post(format!("{base}/api/v1/events/{id}/actions")).bearer_auth(&token).json(&action),
                )
                .await;
            }
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// pgbench's raw single-row insert rate on a scratch database, with as many clients as phones.
fn pgbench(admin_url: &str, clients: usize, seconds: u64) -> anyhow::Result<f64> {
    let name = format!("gw_pgbench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::PgConnection::establish(admin_url)?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    let url = format!("{}/{name}", admin_url.rsplit_once('/').map_or(admin_url, |(r, _)| r));
    let result = (|| -> anyhow::Result<f64> {
        let mut conn = diesel::PgConnection::establish(&url)?;
        diesel::sql_query("CREATE TABLE raw_insert (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL, at TIMESTAMP NOT NULL DEFAULT now())").execute(&mut conn)?;
        let script = tempfile::NamedTempFile::new()?;
        std::fs::write(script.path(), "INSERT INTO raw_insert (payload) VALUES ('raw single-row insert');\n")?;
        let out = Command::new("pgbench")
            .args(["-n", "-c", &clients.to_string(), "-j", "2", "-T", &seconds.to_string(), "-f"])
            .arg(script.path())
            .arg(&url)
            .output()
            .context("running pgbench")?;
        let text = String::from_utf8_lossy(&out.stdout);
        let tps = text
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("no tps in pgbench output: {text}{}", String::from_utf8_lossy(&out.stderr)))?;
        Ok(tps)
    })();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin)?;
    result
}

/// SQLite's raw single-row insert rate on a scratch file beside the run's, with the server's
/// settings (WAL, `synchronous = NORMAL`): one writer (SQLite has one), one row per transaction.
fn sqlite_raw_inserts(dir: &std::path::Path, seconds: u64) -> anyhow::Result<f64> {
    let conn = rusqlite::Connection::open(dir.join("raw.sqlite"))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE raw_insert (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);",
    )?;
    let mut insert = conn.prepare("INSERT INTO raw_insert (payload) VALUES ('raw single-row insert')")?;
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        insert.execute([])?;
        conn.execute_batch("COMMIT")?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let pg_admin = gridwork_tests::pg_admin_url();
    let (url, pg_db) = match args.backend.as_str() {
        "postgres" => {
            let name = format!("gw_load_{}", uuid::Uuid::new_v4().simple());
            let mut admin = diesel::PgConnection::establish(&pg_admin)?;
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
            (format!("{}/{name}", pg_admin.rsplit_once('/').map_or(pg_admin.as_str(), |(r, _)| r)), Some(name))
        }
        _ => (String::new(), None),
    };
    let sqlite_dir = tempfile::tempdir()?;
    let url = if url.is_empty() { sqlite_dir.path().join("load.sqlite").display().to_string() } else { url };
    if args.scenario == "reads" || args.scenario == "cluster" {
        if args.scenario == "reads" {
            reads(&args, &url).await?;
        } else {
            cluster(&args, &url).await?;
        }
        if let Some(name) = pg_db {
            let mut admin = diesel::PgConnection::establish(&pg_admin)?;
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin)?;
        }
        return Ok(());
    }
    let fcm = if args.push { Some(gridwork_tests::fcm::FcmDouble::start().await) } else { None };
    let server = start_server(&url, fcm.as_ref())?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.phones * 2).build()?;
    wait_ready(&client, &server.base).await?;
    let base = server.base.clone();
    let admin = login(&client, &base, "admin", "gridwork-demo").await?;
    if args.scenario == "photos" {
        return photos(&client, &base, &admin, &server, args.phones).await;
    }

    // Phones: residents report; in the mixed scenario grid workers (one or more per grid) too.
    let grids = grids();
    let workers = if args.scenario == "mixed" { args.workers } else { 0 };
    let mut reporters = vec![];
    for i in 0..args.phones {
        reporters.push(phone_user(&client, &base, &admin, &format!("load.resident{i}"), "resident", "420100").await?);
    }
    let mut field = vec![];
    for i in 0..workers {
        let token =
            phone_user(&client, &base, &admin, &format!("load.worker{i}"), "grid_worker", &grids[i % grids.len()])
                .await?;
        if args.push {
            let device = json!({"fcm_token": format!("load-fcm-token-{i:024}"), "platform": "android", "app_version": "loadgen"});
            let r = client.post(format!("{base}/api/v1/devices")).bearer_auth(&token).json(&device).send().await?;
            if !r.status().is_success() {
                bail!("device registration: {}", r.text().await?);
            }
        }
        field.push(token);
    }
    eprintln!(
        "{} reporting phones, {} field phones, {} s on {} ({})",
        reporters.len(),
        field.len(),
        args.seconds,
        args.backend,
        args.scenario
    );

    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let filed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = vec![];
    for (i, token) in reporters.into_iter().enumerate() {
        let (client, base, stats, stop, filed) =
            (client.clone(), base.clone(), stats.clone(), stop.clone(), filed.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                report(&client, &base, &token, &mut rng, n, i, &stats).await;
                filed.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    if args.scenario == "mixed" {
        // The city ops centre accepts what comes in; acceptance dispatches to the workers.
        let token = login(&client, &base, "city.op", "gridwork-demo").await?;
        let (client, base, stats, stop) = (client.clone(), base.clone(), stats.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let list = timed(
                    &stats,
                    "list reported",
                    client.get(format!("{base}/api/v1/events?state=reported&limit=20")).bearer_auth(&token),
                )
                .await;
                let ids: Vec<String> = list
                    .and_then(|l| l["events"].as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|e| e["id"].as_str().map(str::to_owned))
                    .collect();
                if ids.is_empty() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                for id in ids {
                    timed(
                        &stats,
                        "accept (+dispatch)",
                        client
                            .post(format!("{base}/api/v1/events/{id}/actions"))
                            .bearer_auth(&token)
                            .json(&json!({"action": "accept"})),
                    )
                    .await;
                }
            }
        }));
    }
    for (i, token) in field.into_iter().enumerate() {
        tasks.push(tokio::spawn(worker_loop(
            client.clone(),
            base.clone(),
            token,
            0xDEAD_BEEF ^ (i as u64 + 7),
            stop.clone(),
            stats.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();

    let samples = stats.samples.lock().await.clone();
    println!(
        "\n{:<20} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "operation", "count", "per s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    let mut ops: Vec<&str> = samples.iter().map(|s| s.0).collect();
    ops.sort_unstable();
    ops.dedup();
    let mut report_rate = 0.0;
    let mut report_p99 = 0.0;
    for op in ops {
        let mut lat: Vec<u32> = samples.iter().filter(|s| s.0 == op && s.2).map(|s| s.1).collect();
        let errors = samples.iter().filter(|s| s.0 == op && !s.2).count();
        lat.sort_unstable();
        let rate = lat.len() as f64 / elapsed;
        if op == "report" {
            report_rate = rate;
            report_p99 = percentile(&lat, 0.99);
        }
        println!(
            "{op:<20} {:>9} {:>9.0} {:>9.1} {:>9.1} {:>9.1} {errors:>7}",
            lat.len(),
            rate,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            lat.last().map_or(0.0, |m| f64::from(*m) / 1000.0)
        );
    }
    println!("\noutcomes: {:?}", stats.outcomes.lock().await);
    if let Some(fcm) = &fcm {
        push_report(fcm, &url, workers).await?;
    }
    drop(server);
    if let Some(name) = pg_db {
        let mut admin = diesel::PgConnection::establish(&pg_admin)?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin)?;
        match pgbench(&pg_admin, args.phones, args.seconds.min(15)) {
            Ok(tps) => println!(
                "\nPostgreSQL raw single-row inserts (pgbench, {} clients): {tps:.0}/s; report intake {report_rate:.0}/s = {:.0} % of it, report p99 {report_p99:.1} ms",
                args.phones,
                100.0 * report_rate / tps
            ),
            Err(e) => println!("\npgbench unavailable: {e:#}"),
        }
    } else if args.scenario == "intake" {
        let rate = sqlite_raw_inserts(sqlite_dir.path(), args.seconds.min(10))?;
        println!(
            "\nSQLite raw single-row inserts (one writer, WAL, synchronous=NORMAL): {rate:.0}/s; report intake {report_rate:.0}/s = {:.1} % of it, report p99 {report_p99:.1} ms",
            100.0 * report_rate / rate
        );
    }
    Ok(())
}

/// Assignment-to-push latency of what the run produced, then a burst of 5,000 notifications.
async fn push_report(fcm: &gridwork_tests::fcm::FcmDouble, url: &str, workers: usize) -> anyhow::Result<()> {
    use diesel::prelude::*;
    use gridwork::db::schema::notifications as n;
    let db =
        gridwork::db::Db::connect(&gridwork::db::DbUrl::parse(url).map_err(anyhow::Error::msg)?, &Default::default())?;
    // Let the sender drain what the run queued.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let outbox: Vec<(String, Option<String>, i64)> = db
        .run(|conn| {
            Ok(n::table
                .group_by((n::state, n::last_error))
                .select((n::state, n::last_error, diesel::dsl::count_star()))
                .load(conn)?)
        })
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    println!("\noutbox after the run (state, last error, count): {outbox:?}");
    let devices: Vec<(bool, Option<String>, i64)> = db
        .run(|conn| {
            use gridwork::db::schema::devices::dsl as d;
            Ok(d::devices
                .group_by((d::active, d::deactivated_reason))
                .select((d::active, d::deactivated_reason, diesel::dsl::count_star()))
                .load(conn)?)
        })
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    println!("devices (active, reason, count): {devices:?}");
    let got = fcm.received();
    let ids: Vec<String> = got.iter().map(|r| r.notification_id().to_owned()).collect();
    let created: Vec<(String, chrono::NaiveDateTime)> = db
        .run(move |conn| {
            let mut out = vec![];
            for chunk in ids.chunks(500) {
                out.extend(n::table.filter(n::id.eq_any(chunk)).select((n::id, n::created_at)).load::<(
                    String,
                    chrono::NaiveDateTime,
                )>(
                    conn
                )?);
            }
            Ok(out)
        })
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let created: std::collections::HashMap<String, chrono::NaiveDateTime> = created.into_iter().collect();
    let mut lat: Vec<u32> = got
        .iter()
        .filter_map(|r| {
            created
                .get(r.notification_id())
                .map(|c| (r.wall.naive_utc() - *c).num_microseconds().unwrap_or(0).max(0) as u32)
        })
        .collect();
    lat.sort_unstable();
    println!(
        "\npush during the run: {} messages to the FCM double; change → push p50 {:.1} ms, p99 {:.1} ms",
        lat.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    // A burst straight into the outbox, round robin over the field phones' users.
    let users: Vec<String> = db
        .run(|conn| {
            use gridwork::db::schema::users::dsl as u;
            Ok(u::users.filter(u::username.like("load.worker%")).select(u::id).load::<String>(conn)?)
        })
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    anyhow::ensure!(users.len() == workers, "expected {workers} field users");
    let before = fcm.received().len();
    let t0 = Instant::now();
    db.run(move |conn| {
        for i in 0..5000 {
            let row = gridwork::models::push::NotificationRow::new(
                &users[i % users.len()],
                None,
                "deadline_warning",
                json!({"seq": i}).to_string(),
            );
            diesel::insert_into(n::table).values(&row).execute(conn)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let queued = t0.elapsed();
    let done = fcm.wait_for(300, "the burst", |r| r.len() >= before + 5000).await;
    let took = done.last().map_or(Duration::ZERO, |r| r.at.duration_since(t0));
    println!(
        "push burst: 5,000 notifications queued in {:.2} s, all delivered after {:.2} s: {:.0} notifications/s",
        queued.as_secs_f64(),
        took.as_secs_f64(),
        5000.0 / took.as_secs_f64()
    );
    Ok(())
}

/// A memory field of the server process in MB.
fn server_memory_mb(server: &Server, field: &str) -> f64 {
    memory_mb(&server.child.id().to_string(), field)
}

/// The server's photo path: distinct 12 MP camera JPEGs uploaded by `phones` phones at once,
/// each decoded, re-stripped, thumbnailed and stored; latency per upload and the server's memory.
async fn photos(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    server: &Server,
    phones: usize,
) -> anyhow::Result<()> {
    const PER_PHONE: usize = 6;
    let n = phones * PER_PHONE;
    eprintln!("making {n} distinct 12 MP photos …");
    let images: Vec<Vec<u8>> = (0..n as u64).map(gridwork_mobile_core::photo_fixtures::camera_photo_seeded).collect();
    let mb = images[0].len() as f64 / 1e6;
    let mut tokens = vec![];
    for i in 0..phones {
        tokens.push(phone_user(client, base, admin, &format!("load.photo{i}"), "resident", "420100").await?);
    }
    let rss_before = server_memory_mb(server, "VmRSS:");
    let started = Instant::now();
    let mut tasks = vec![];
    for (phone, token) in tokens.into_iter().enumerate() {
        let mine: Vec<Vec<u8>> = images[phone * PER_PHONE..(phone + 1) * PER_PHONE].to_vec();
        let (client, base) = (client.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut took = vec![];
            for bytes in mine {
                let form = reqwest::multipart::Form::new()
                    .text("kind", "before")
                    .part("file", reqwest::multipart::Part::bytes(bytes).file_name("photo.jpg"));
                let t = Instant::now();
                let r = client.post(format!("{base}/api/v1/evidence")).bearer_auth(&token).multipart(form).send().await;
                match r {
                    Ok(r) if r.status().as_u16() == 201 => {
                        took.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX))
                    }
                    Ok(r) => eprintln!("upload: HTTP {} {}", r.status(), r.text().await.unwrap_or_default()),
                    Err(e) => eprintln!("upload: {e}"),
                }
            }
            took
        }));
    }
    let mut lat = vec![];
    for t in tasks {
        lat.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    println!(
        "\n{} of {n} uploads of {mb:.1} MB 12 MP JPEGs by {phones} phones at once: {:.1} photos/s, p50 {:.0} ms, p99 {:.0} ms",
        lat.len(),
        lat.len() as f64 / elapsed,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
    );
    println!(
        "server memory: {rss_before:.0} MB resident before, peak {:.0} MB (+{:.0} MB), {:.0} MB after",
        server_memory_mb(server, "VmHWM:"),
        server_memory_mb(server, "VmHWM:") - rss_before,
        server_memory_mb(server, "VmRSS:"),
    );
    if lat.len() != n {
        bail!("{} uploads failed", n - lat.len());
    }
    Ok(())
}

/// Authenticated reads against the liveness probe, with a real HTTP load tool (wrk), on one server
/// with the session cache and one without (same binary, same database, one after the other).
async fn reads(args: &Args, url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let lookup = "/api/v1/areas/lookup?lat=30.5841&lng=114.2762";
    let mut rows = vec![];
    for cache in [true, false] {
        let env =
            [("GRIDWORK_SESSION_CACHE", cache.to_string()), ("GRIDWORK_LIMIT_LOOKUPS_PER_MINUTE", "0".to_owned())];
        let server = gridwork_tests::demo_server::start_server_with(url, None, &env)?;
        wait_ready(&client, &server.base).await?;
        let token = login(&client, &server.base, "admin", "gridwork-demo").await?;
        let auth = vec![format!("Authorization: Bearer {token}")];
        let mut targets: Vec<(&str, &str, Vec<String>)> = vec![];
        if cache {
            targets.push(("/healthz", "/healthz", vec![]));
        }
        targets.push(("/api/v1/me", "/api/v1/me", auth.clone()));
        targets.push(("/api/v1/areas/lookup", lookup, auth.clone()));
        for (name, path, headers) in targets {
            let base = server.base.clone();
            let (phones, seconds) = (args.phones, args.seconds);
            let run = tokio::task::spawn_blocking(move || {
                gridwork_tests::wrk::run(&format!("{base}{path}"), &headers, 2, phones, seconds)
            })
            .await??;
            let label = if name == "/healthz" {
                "none (anchor)"
            } else if cache {
                "cached"
            } else {
                "read from the database"
            };
            rows.push((name, label, run));
        }
        drop(server);
    }
    println!("\n{} connections, {} s each, on {} (wrk -t2)", args.phones, args.seconds, args.backend);
    println!("| endpoint | session | requests/s | p50 / p99 | failures |");
    println!("|---|---|---|---|---|");
    let anchor = rows.first().map_or(1.0, |(_, _, r)| r.requests_per_sec);
    for (name, label, r) in &rows {
        println!(
            "| `{name}` | {label} | {:.0} ({:.0} % of /healthz) | {:.2} / {:.2} ms | {} |",
            r.requests_per_sec,
            100.0 * r.requests_per_sec / anchor,
            r.p50_ms,
            r.p99_ms,
            r.failures
        );
    }
    Ok(())
}

/// Three replicas behind HAProxy on one PostgreSQL database; one killed and restarted mid-run.
async fn cluster(args: &Args, url: &str) -> anyhow::Result<()> {
    use gridwork_tests::cluster_scenario::{Plan, run, seed_demo, summary};
    let bin = std::env::current_exe()?.with_file_name("gridwork");
    seed_demo(&bin, url).await?;
    let env = [
        ("GRIDWORK_LIMIT_REPORTS_PER_MINUTE", "0".to_owned()),
        ("GRIDWORK_LIMIT_SIGN_INS_PER_MINUTE", "0".to_owned()),
        ("GRIDWORK_DB_POOL_SIZE", "16".to_owned()),
    ];
    let mut cluster = gridwork_tests::cluster::Cluster::start(&bin, url, 3, &env)?;
    let plan = Plan {
        phones: args.phones,
        seconds: args.seconds,
        victim: 1,
        kill_at: Duration::from_secs(args.seconds / 3),
        down_for: Duration::from_secs((args.seconds / 5).max(1)),
    };
    let out = run(&mut cluster, &plan).await?;
    println!(
        "\ncluster: 3 replicas behind HAProxy, {} phones, {} s, replica 1 killed at {:?} for {:?}",
        plan.phones, plan.seconds, plan.kill_at, plan.down_for
    );
    println!("| measure | value |\n|---|---|");
    for (k, v) in summary(&out, plan.seconds) {
        println!("| {k} | {v} |");
    }
    Ok(())
}
