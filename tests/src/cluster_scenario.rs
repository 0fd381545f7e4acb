//! The cluster scenario, shared by `tests/cluster.rs` (short, asserted) and `loadgen --scenario
//! cluster` (long, reported): phones file reports through HAProxy and resend on any failure with
//! the same idempotency key; a city operator accepts each acknowledged report, also resending;
//! the operator's event stream starts on the replica that gets SIGKILLed mid-run and resumes
//! through HAProxy with `Last-Event-ID`. Afterwards the database is read to see that every
//! acknowledged report and action is there exactly once and no notice was doubled.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc};

use crate::Rng;
use crate::cluster::Cluster;
use crate::demo_server::{login, phone_user};

#[derive(Debug, Clone)]
pub struct Plan {
    pub phones: usize,
    pub seconds: u64,
    /// The replica killed, when, and for how long.
    pub victim: usize,
    pub kill_at: Duration,
    pub down_for: Duration,
}

/// Sorted latencies in ms (shown as their count and percentiles, not one by one).
#[derive(Default)]
pub struct Latencies(pub Vec<f64>);

impl std::fmt::Debug for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (p50 {:.1} ms, p99 {:.1} ms)", self.0.len(), percentile(&self.0, 0.5), percentile(&self.0, 0.99))
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub reports_acknowledged: usize,
    /// Reports a phone filed near an open one of the same category join it (duplicate linking):
    /// the events behind the acknowledged reports.
    pub distinct_events: usize,
    pub report_latencies_ms: Latencies,
    /// Attempts that failed (a cut connection, a 502 from HAProxy, a 503) and were sent again.
    pub resends: u64,
    /// Reports the phone gave up on (never acknowledged).
    pub abandoned: u64,
    pub accepts_acknowledged: usize,
    pub stream_reconnects: u64,
    pub streamed: usize,
    /// From the database afterwards.
    pub events_stored: i64,
    pub keys_stored: i64,
    pub accepts_stored_max_per_event: i64,
    pub accepted_events_stored: i64,
    pub doubled_notices: i64,
    pub missing_from_stream: usize,
}

/// The demo city's bounding box (lat, lng).
const CITY: (f64, f64, f64, f64) = (30.581, 114.271, 30.619, 114.329);

/// Sends `make()` until it is answered 2xx (or a refusal that is not the cluster's fault), as a
/// phone's queue does. Returns the answer, its status and how many attempts failed first.
async fn until_answered(make: impl Fn() -> reqwest::RequestBuilder, resends: &AtomicU64) -> Option<(u16, Value)> {
    for _ in 0..200 {
        match make().timeout(Duration::from_secs(10)).send().await {
            Ok(r) if r.status().is_success() || r.status().as_u16() == 409 || r.status().as_u16() == 422 => {
                let s = r.status().as_u16();
                return Some((s, r.json().await.unwrap_or_default()));
            }
            _ => {
                resends.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    None
}

pub async fn run(cluster: &mut Cluster, plan: &Plan) -> anyhow::Result<Outcome> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(plan.phones * 2).build()?;
    let base = cluster.base();
    let admin = login(&client, &base, "admin", "gridwork-demo").await?;
    let mut phones = vec![];
    for i in 0..plan.phones {
        phones.push(phone_user(&client, &base, &admin, &format!("cluster.resident{i}"), "resident", "420100").await?);
    }
    let operator = login(&client, &base, "city.op", "gridwork-demo").await?;

    let resends = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Arc<Mutex<Vec<(String, f64)>>> = Arc::default();
    let abandoned = Arc::new(AtomicU64::new(0));
    let (to_accept, mut accept_rx) = mpsc::unbounded_channel::<String>();

    // The operator's stream, first on the victim directly.
    let streamed: Arc<Mutex<HashSet<String>>> = Arc::default();
    let reconnects = Arc::new(AtomicU64::new(0));
    let stream_task = {
        let (client, first, base, token) =
            (client.clone(), cluster.replica_base(plan.victim), base.clone(), operator.clone());
        let (streamed, reconnects, stop) = (streamed.clone(), reconnects.clone(), stop.clone());
        tokio::spawn(async move { follow(client, first, base, token, streamed, reconnects, stop).await })
    };

    let started = Instant::now();
    let mut tasks = vec![];
    for (i, token) in phones.into_iter().enumerate() {
        let (client, base, stop, resends, acknowledged, abandoned, to_accept) = (
            client.clone(),
            base.clone(),
            stop.clone(),
            resends.clone(),
            acknowledged.clone(),
            abandoned.clone(),
            to_accept.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0xC1A5_7E55 ^ (i as u64 + 1));
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let (lat, lng) = (CITY.0 + rng.unit() * (CITY.2 - CITY.0), CITY.1 + rng.unit() * (CITY.3 - CITY.1));
                let body = json!({"category": "C-03-01", "lat": lat, "lng": lng, "description": "集群测试上报"});
                let key = format!("cluster-{i}-{n}");
                let t = Instant::now();
                let make = || {
                    client
                        .post(format!("{base}/api/v1/events"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", &key)
                        .json(&body)
                };
                match until_answered(make, &resends).await {
                    Some((s, e)) if s < 300 => {
                        let id = e["id"].as_str().unwrap_or_default().to_owned();
                        acknowledged.lock().await.push((id.clone(), t.elapsed().as_secs_f64() * 1000.0));
                        let _ = to_accept.send(id);
                    }
                    _ => {
                        abandoned.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    drop(to_accept);
    let accepter = {
        let (client, base, token, resends) = (client.clone(), base.clone(), operator.clone(), resends.clone());
        tokio::spawn(async move {
            let mut accepted = 0usize;
            while let Some(id) = accept_rx.recv().await {
                let make = || {
                    client
                        .post(format!("{base}/api/v1/events/{id}/actions"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", format!("accept-{id}"))
                        .json(&json!({"action": "accept"}))
                };
                if let Some((s, _)) = until_answered(make, &resends).await
                    && s < 300
                {
                    accepted += 1;
                }
            }
            accepted
        })
    };

    // The fault: SIGKILL one replica mid-run, start it again after a while.
    tokio::time::sleep(plan.kill_at).await;
    cluster.kill(plan.victim);
    eprintln!("killed replica {} at {:?}", plan.victim, started.elapsed());
    tokio::time::sleep(plan.down_for).await;
    cluster.up(plan.victim)?;
    eprintln!("restarted replica {} at {:?}", plan.victim, started.elapsed());
    let rest = Duration::from_secs(plan.seconds).saturating_sub(started.elapsed());
    tokio::time::sleep(rest).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let accepts = accepter.await?;

    let acknowledged = acknowledged.lock().await.clone();
    // The stream catches up on everything acknowledged (it polls at least every 2 s).
    let ids: HashSet<String> = acknowledged.iter().map(|(id, _)| id.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline && !ids.is_subset(&*streamed.lock().await) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let missing = ids.difference(&*streamed.lock().await).count();
    let streamed_n = streamed.lock().await.len();
    stream_task.abort();

    let mut out = Outcome {
        reports_acknowledged: acknowledged.len(),
        distinct_events: ids.len(),
        report_latencies_ms: Latencies(acknowledged.iter().map(|(_, ms)| *ms).collect()),
        resends: resends.load(Ordering::Relaxed),
        abandoned: abandoned.load(Ordering::Relaxed),
        accepts_acknowledged: accepts,
        stream_reconnects: reconnects.load(Ordering::Relaxed),
        streamed: streamed_n,
        missing_from_stream: missing,
        ..Default::default()
    };
    out.report_latencies_ms.0.sort_by(f64::total_cmp);
    read_back(&cluster.database_url, &mut out)?;
    Ok(out)
}

/// Follows the event stream: from `first` (one replica), and after any break through `base`
/// with the last id received.
async fn follow(
    client: reqwest::Client,
    first: String,
    base: String,
    token: String,
    streamed: Arc<Mutex<HashSet<String>>>,
    reconnects: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    let mut last: Option<String> = None;
    let mut url = first;
    let mut pending = String::new();
    loop {
        let mut req = client.get(format!("{url}/api/v1/events/stream")).bearer_auth(&token);
        if let Some(id) = &last {
            req = req.header("Last-Event-ID", id);
        }
        if let Ok(mut res) = req.send().await
            && res.status().is_success()
        {
            while let Ok(Some(chunk)) = res.chunk().await {
                pending.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = pending.find("\n\n") {
                    let frame: String = pending.drain(..end + 2).collect();
                    for line in frame.lines() {
                        if let Some(id) = line.strip_prefix("id: ") {
                            last = Some(id.to_owned());
                        }
                        if let Some(data) = line.strip_prefix("data: ")
                            && let Ok(v) = serde_json::from_str::<Value>(data)
                            && let Some(id) = v["id"].as_str()
                        {
                            streamed.lock().await.insert(id.to_owned());
                        }
                    }
                }
            }
        }
        if stop.load(Ordering::Relaxed) {
            return;
        }
        pending.clear();
        reconnects.fetch_add(1, Ordering::Relaxed);
        url = base.clone();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut diesel::PgConnection, sql: &str) -> anyhow::Result<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn).with_context(|| sql.to_owned())?.n)
}

/// What the database holds after the run.
fn read_back(url: &str, out: &mut Outcome) -> anyhow::Result<()> {
    let mut conn = diesel::PgConnection::establish(url)?;
    let mine = "SELECT id FROM users WHERE username LIKE 'cluster.resident%'";
    out.events_stored = count(&mut conn, &format!("SELECT COUNT(*) AS n FROM events WHERE reporter_id IN ({mine})"))?;
    out.keys_stored =
        count(&mut conn, &format!("SELECT COUNT(*) AS n FROM event_idempotency WHERE user_id IN ({mine})"))?;
    out.accepts_stored_max_per_event = count(
        &mut conn,
        "SELECT COALESCE(MAX(c), 0) AS n FROM (SELECT COUNT(*) AS c FROM event_log WHERE action = 'accept' GROUP BY event_id) t",
    )?;
    out.accepted_events_stored =
        count(&mut conn, "SELECT COUNT(DISTINCT event_id) AS n FROM event_log WHERE action = 'accept'")?;
    out.doubled_notices = count(
        &mut conn,
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM notifications GROUP BY user_id, event_id, kind, payload HAVING COUNT(*) > 1) t",
    )?;
    Ok(())
}

/// p-th percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Starts `gridwork demo` on `database_url` until it has seeded the city and its users, then
/// stops it: the cluster's replicas then only `serve`.
pub async fn seed_demo(bin: &std::path::Path, database_url: &str) -> anyhow::Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = tempfile::tempdir()?;
    let mut child = std::process::Command::new(bin)
        .args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--database-url", database_url])
        .env("GRIDWORK_DATA_DIR", dir.path())
        .env("GRIDWORK_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    let mut seeded = false;
    while start.elapsed() < Duration::from_secs(120) {
        // Seeded once a demo login works and the map answers.
        if let Ok(token) = login(&client, &base, "resident.chen", "gridwork-demo").await
            && let Ok(r) =
                client.get(format!("{base}/api/v1/areas/lookup?lat=30.59&lng=114.29")).bearer_auth(&token).send().await
            && r.json::<Value>().await.is_ok_and(|v| v["chain"].as_array().is_some_and(|c| !c.is_empty()))
        {
            seeded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    anyhow::ensure!(seeded, "the demo did not seed within two minutes");
    Ok(())
}

/// How the outcome reads as a table row set.
pub fn summary(out: &Outcome, seconds: u64) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    m.insert("reports acknowledged", out.reports_acknowledged.to_string());
    m.insert("reports/s", format!("{:.0}", out.reports_acknowledged as f64 / seconds as f64));
    let lat = &out.report_latencies_ms.0;
    m.insert(
        "report p50 / p99 (ms, resends included)",
        format!("{:.1} / {:.1}", percentile(lat, 0.5), percentile(lat, 0.99)),
    );
    m.insert("distinct events (the rest joined one as duplicates)", out.distinct_events.to_string());
    m.insert("failed attempts resent", out.resends.to_string());
    m.insert("abandoned", out.abandoned.to_string());
    m.insert("accepts acknowledged", out.accepts_acknowledged.to_string());
    m.insert("events / keys stored", format!("{} / {}", out.events_stored, out.keys_stored));
    m.insert(
        "accepted events stored / most accepts per event",
        format!("{} / {}", out.accepted_events_stored, out.accepts_stored_max_per_event),
    );
    m.insert("doubled notices", out.doubled_notices.to_string());
    m.insert("stream reconnects / missing", format!("{} / {}", out.stream_reconnects, out.missing_from_stream));
    m
}
