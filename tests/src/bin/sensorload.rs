//! Sensor load: simulated devices publish readings over MQTT (QoS 1) to a Mosquitto of its own,
//! which a `gridwork demo` server (SQLite or PostgreSQL) subscribes to. Prints the broker's own
//! rate (publisher → subscriber through the same broker, measured first in the same run), the
//! server's sustained readings per second with every reading stored, rolled up and judged, and
//! the latency from a breaching reading's publication to its alert and event being visible in
//! the API.
//!
//! ```text
//! cargo build --release -p gridwork-backend --bin gridwork
//! cargo run --release -p gridwork-tests --bin sensorload -- --backend sqlite --seconds 20
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use diesel::{Connection, RunQueryDsl};
use gridwork_tests::demo_server::{login, memory_mb, start_server_with, wait_ready};
use gridwork_tests::mosquitto::Broker;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};

/// The demo city's bounding box (lat, lng), inside its districts.
const CITY: (f64, f64, f64, f64) = (30.584, 114.274, 30.616, 114.326);

struct Args {
    backend: String,
    seconds: u64,
    sensors: usize,
    publishers: usize,
    per_message: usize,
    /// Messages per second offered in all (0: as fast as the broker takes them).
    rate: u64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args { backend: "sqlite".into(), seconds: 20, sensors: 400, publishers: 4, per_message: 1, rate: 0 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--backend" => a.backend = value()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--sensors" => a.sensors = value()?.parse()?,
            "--publishers" => a.publishers = value()?.parse()?,
            "--readings-per-message" => a.per_message = value()?.parse()?,
            "--rate" => a.rate = value()?.parse()?,
            "-h" | "--help" => {
                println!(
                    "sensorload [--backend sqlite|postgres] [--seconds N] [--sensors N] [--publishers N] [--readings-per-message N] [--rate MESSAGES_PER_S]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if !matches!(a.backend.as_str(), "sqlite" | "postgres") || a.publishers == 0 || a.per_message == 0 {
        bail!("--backend is sqlite or postgres; --publishers and --readings-per-message at least 1");
    }
    Ok(a)
}

fn client(port: u16, id: &str, clean: bool) -> (AsyncClient, rumqttc::EventLoop) {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    o.set_clean_session(clean);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_inflight(1000);
    AsyncClient::new(o, 10_000)
}

/// Drives a publisher's event loop, counting acknowledged publications.
fn drive(mut events: rumqttc::EventLoop, acked: Arc<AtomicU64>) {
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => {
                    acked.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
}

/// The broker alone: one publisher to one subscriber at QoS 1 for `seconds`.
async fn broker_rate(port: u16, seconds: u64, payload: &[u8]) -> anyhow::Result<f64> {
    let (sub, mut sub_events) = client(port, "bench-sub", true);
    sub.subscribe("bench/+", QoS::AtLeastOnce).await?;
    let received = Arc::new(AtomicU64::new(0));
    let r = received.clone();
    let listener = tokio::spawn(async move {
        loop {
            match sub_events.poll().await {
                Ok(Event::Incoming(Packet::Publish(_))) => {
                    r.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (publisher, events) = client(port, "bench-pub", true);
    drive(events, Arc::new(AtomicU64::new(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let payload = payload.to_vec();
    let sender = tokio::spawn(async move {
        while !s.load(Ordering::Relaxed) {
            if publisher.publish("bench/x", QoS::AtLeastOnce, false, payload.clone()).await.is_err() {
                break;
            }
        }
    });
    let start_count = received.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let n = received.load(Ordering::Relaxed) - start_count;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    sender.abort();
    listener.abort();
    Ok(rate)
}

/// Processed MQTT batches so far, by the server's own counter.
async fn processed(http: &reqwest::Client, base: &str) -> anyhow::Result<u64> {
    let text = http.get(format!("{base}/metrics")).send().await?.text().await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("gridwork_sensor_messages_total{") && l.contains("via=\"mqtt\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let broker = Broker::start();
    let sample = json!({"secret": "gw_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "readings":
        [{"indicator": "manhole_tilt", "value": 1.0, "at": "2026-12-07T10:00:00.000000Z"}]})
    .to_string();
    let anchor = broker_rate(broker.port, 5, sample.as_bytes()).await?;
    eprintln!("broker alone: {anchor:.0} messages/s (QoS 1, one publisher → one subscriber)");

    let pg_admin = gridwork_tests::pg_admin_url();
    let sqlite_dir = tempfile::tempdir()?;
    let url = if args.backend == "postgres" {
        let name = format!("gw_sensorload_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&pg_admin)?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
        format!("{}/{name}", pg_admin.rsplit_once('/').map_or(pg_admin.as_str(), |(r, _)| r))
    } else {
        sqlite_dir.path().join("load.sqlite").display().to_string()
    };
    let server = start_server_with(
        &url,
        None,
        &[("GRIDWORK_MQTT_URL", broker.url()), ("GRIDWORK_MQTT_CLIENT_ID", "gridwork-load".into())],
    )?;
    let http = reqwest::Client::new();
    wait_ready(&http, &server.base).await?;
    let base = server.base.clone();
    let admin = login(&http, &base, "admin", "gridwork-demo").await?;

    // Sensors over the city; the last 40 are probes that breach once each.
    let probes = 40;
    let mut sensors: Vec<(String, String)> = vec![];
    let side = ((args.sensors + probes) as f64).sqrt().ceil() as usize;
    for i in 0..args.sensors + probes {
        let (r, c) = (i / side, i % side);
        let lat = CITY.0 + (CITY.2 - CITY.0) * (r as f64 + 0.5) / side as f64;
        let lng = CITY.1 + (CITY.3 - CITY.1) * (c as f64 + 0.5) / side as f64;
        let code = format!("load-{i:05}");
        let body = json!({"code": code, "name": "load", "indicators": ["manhole_tilt"], "lat": lat, "lng": lng,
                          "expected_interval_secs": 3600});
        let r: Value =
            http.post(format!("{base}/api/v1/sensors")).bearer_auth(&admin).json(&body).send().await?.json().await?;
        match r["secret"].as_str() {
            Some(secret) => sensors.push((code, secret.to_owned())),
            None => eprintln!("sensor {code} at ({lat:.4}, {lng:.4}) not registered: {r}"),
        }
    }
    if sensors.len() < probes + args.publishers {
        bail!("too few sensors registered");
    }
    let probe_sensors = sensors.split_off(sensors.len() - probes);
    eprintln!(
        "{} sensors, {} probes, {} publishers, {} readings per message, {} s on {}, offered {}",
        sensors.len(),
        probes,
        args.publishers,
        args.per_message,
        args.seconds,
        args.backend,
        if args.rate == 0 {
            "as fast as the broker takes them".to_owned()
        } else {
            format!("{} messages/s", args.rate)
        }
    );

    // Publishers: each its share of the sensors, one message after another, paced to the offered rate.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let t0 = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut tasks = vec![];
    for p in 0..args.publishers {
        let mine: Vec<(String, String)> = sensors.iter().skip(p).step_by(args.publishers).cloned().collect();
        let (publisher, events) = client(broker.port, &format!("device-group-{p}"), true);
        drive(events, Arc::new(AtomicU64::new(0)));
        let (stop, sent, per) = (stop.clone(), sent.clone(), args.per_message);
        let share = args.rate as f64 / args.publishers as f64;
        tasks.push(tokio::spawn(async move {
            let mut n: i64 = 0;
            let begun = Instant::now();
            let mut mine_sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for (code, secret) in &mine {
                    // Paced: no more than this publisher's share of the offered rate so far.
                    while share > 0.0 && mine_sent as f64 >= begun.elapsed().as_secs_f64() * share {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                    }
                    mine_sent += 1;
                    let readings: Vec<Value> = (0..per)
                        .map(|k| {
                            let at = t0 + chrono::Duration::milliseconds(n * per as i64 + k as i64);
                            json!({"indicator": "manhole_tilt", "value": 1.0 + (k % 3) as f64, "at": at.to_rfc3339()})
                        })
                        .collect();
                    let payload = json!({"secret": secret, "readings": readings}).to_string();
                    if publisher
                        .publish(format!("gridwork/readings/{code}"), QoS::AtLeastOnce, false, payload)
                        .await
                        .is_err()
                    {
                        return;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                }
                n += 1;
            }
        }));
    }

    // Probes: one breaching reading every quarter second, each seen through the API.
    let (probe_pub, probe_events) = client(broker.port, "device-probes", true);
    drive(probe_events, Arc::new(AtomicU64::new(0)));
    let latencies = Arc::new(tokio::sync::Mutex::new(Vec::<f64>::new()));
    let started = Instant::now();
    let processed_at_start = processed(&http, &base).await?;
    let probe_task = {
        let (http, base, admin, latencies) = (http.clone(), base.clone(), admin.clone(), latencies.clone());
        let seconds = args.seconds;
        tokio::spawn(async move {
            let mut waiting: Vec<(String, Instant)> = vec![];
            let mut next = 0;
            let end = Instant::now() + Duration::from_secs(seconds);
            let mut last_probe = Instant::now() - Duration::from_secs(1);
            while Instant::now() < end + Duration::from_secs(10) && (next < probe_sensors.len() || !waiting.is_empty())
            {
                if Instant::now() < end
                    && next < probe_sensors.len()
                    && last_probe.elapsed() >= Duration::from_millis(250)
                {
                    let (code, secret) = &probe_sensors[next];
                    let payload = json!({"secret": secret, "readings": [{"indicator": "manhole_tilt", "value": 16.0,
                                         "at": chrono::Utc::now().to_rfc3339()}]})
                    .to_string();
                    let _ =
                        probe_pub.publish(format!("gridwork/readings/{code}"), QoS::AtLeastOnce, false, payload).await;
                    waiting.push((code.clone(), Instant::now()));
                    last_probe = Instant::now();
                    next += 1;
                }
                if !waiting.is_empty()
                    && let Ok(r) = http.get(format!("{base}/api/v1/alerts?limit=1000")).bearer_auth(&admin).send().await
                    && let Ok(list) = r.json::<Value>().await
                {
                    let seen: Vec<String> = list["alerts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|a| a["event_id"].is_string())
                        .filter_map(|a| a["sensor"].as_str().map(str::to_owned))
                        .collect();
                    let mut lat = latencies.lock().await;
                    waiting.retain(|(code, at)| {
                        if seen.contains(code) {
                            lat.push(at.elapsed().as_secs_f64() * 1000.0);
                            false
                        } else {
                            true
                        }
                    });
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            waiting.len()
        })
    };

    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let published = sent.load(Ordering::Relaxed);
    let publish_secs = started.elapsed().as_secs_f64();
    // Wait for the server to work through what was published.
    let target = processed_at_start + published;
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut done = processed(&http, &base).await?;
    while done < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        done = processed(&http, &base).await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let missing_probes = probe_task.await?;
    let handled = done.saturating_sub(processed_at_start);
    let readings = handled * args.per_message as u64;
    let mut lat = latencies.lock().await.clone();
    lat.sort_by(f64::total_cmp);
    println!(
        "broker alone: {anchor:.0} msg/s | published {published} messages in {publish_secs:.1} s ({:.0} msg/s offered)",
        published as f64 / publish_secs
    );
    println!(
        "gridwork ({}): {handled} batches = {readings} readings in {elapsed:.1} s = {:.0} readings/s stored and judged{}",
        args.backend,
        readings as f64 / elapsed,
        if done < target { format!(" ({} not processed within 300 s)", target - done) } else { String::new() }
    );
    println!(
        "reading → alert and event visible: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} probes ({} not seen)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
        lat.len(),
        missing_probes
    );
    println!(
        "server memory: {:.0} MB now, {:.0} MB peak",
        memory_mb(&server.child.id().to_string(), "VmRSS:"),
        memory_mb(&server.child.id().to_string(), "VmHWM:")
    );
    Ok(())
}
