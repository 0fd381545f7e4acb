//! Field simulator: phones running the real field client (`mobile-core`, feature `client`)
//! against a real `gridwork demo` server process, through a proxy that breaks connections at
//! random. Each phone signs in, syncs its tasks, claims, starts and resolves each one with a
//! photo, reports a new problem, and lets the background sender deliver; at the end the server is
//! checked: every action exactly once, in order.
//!
//! With `--measure` it reports what a phone pays instead: memory of a client with 1,000 tasks
//! cached and the time of a sync of 500 changed tasks.
//!
//! ```text
//! cargo build --release -p gridwork-backend --bin gridwork
//! cargo run --release -p gridwork-tests --bin field -- --phones 8 --tasks 10 --fault-rate 0.2
//! cargo run --release -p gridwork-tests --bin field -- --measure
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use gridwork_mobile_core::client::{ClientConfig, FieldClient};
use gridwork_mobile_core::domain::event::Action;
use gridwork_tests::demo_server::{PASSWORD, Server, login, memory_mb, phone_user, start_server, wait_ready};
use gridwork_tests::faults::{Fault, FaultyProxy};
use serde_json::{Value, json};

struct Args {
    phones: usize,
    tasks: usize,
    fault_rate: f64,
    measure: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args { phones: 4, tasks: 10, fault_rate: 0.2, measure: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--phones" => a.phones = value()?.parse()?,
            "--tasks" => a.tasks = value()?.parse()?,
            "--fault-rate" => a.fault_rate = value()?.parse()?,
            "--measure" => a.measure = true,
            "-h" | "--help" => {
                println!("field [--phones N] [--tasks N per phone] [--fault-rate 0..1] [--measure]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

/// Grid `i` of the demo city and a point inside it, away from its edges.
fn grid(i: usize) -> (String, (f64, f64)) {
    let (d, s, c, g) = (i / 8 % 2, i / 4 % 2, i / 2 % 2, i % 2);
    let code = format!("{}{:03}{:03}{:03}", ["420102", "420103"][d], s + 3, c + 1, g + 1);
    // The demo city: districts split lng, streets and grids lat, communities lng.
    let lng = 114.270 + d as f64 * 0.030 + c as f64 * 0.015 + 0.004;
    let lat = 30.580 + s as f64 * 0.020 + g as f64 * 0.010 + 0.002;
    (code, (lat, lng))
}

/// `n` tasks for `worker` (dispatched by the admin), spread over the grid; their ids.
async fn dispatch(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    worker_id: &str,
    at: (f64, f64),
    n: usize,
    tag: &str,
) -> anyhow::Result<Vec<String>> {
    let mut ids = vec![];
    for k in 0..n {
        // About 45 m apart: beyond the category's duplicate radius (30 m).
        let (lat, lng) = (at.0 + (k / 20) as f64 * 0.0004, at.1 + (k % 20) as f64 * 0.0005);
        let body = json!({"category": "C-03-01", "lat": lat, "lng": lng, "description": format!("{tag} {k}"), "source": "hotline"});
        let e: Value = http
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(admin)
            .header("Idempotency-Key", format!("{tag}-{k}"))
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let id = e["id"].as_str().with_context(|| format!("report: {e}"))?.to_owned();
        // Accepting may already dispatch it to someone on duty; the reason covers taking it back.
        let mut steps = vec![json!({"action": "dispatch", "assignees": [worker_id], "reason": "field simulation"})];
        if e["state"] == "reported" {
            steps.insert(0, json!({"action": "accept"}));
        }
        for d in steps {
            let r = http.post(format!("{base}/api/v1/events/{id}/actions")).bearer_auth(admin).json(&d).send().await?;
            if !r.status().is_success() {
                bail!("{d}: {}", r.text().await?);
            }
        }
        ids.push(id);
    }
    Ok(ids)
}

fn photo(seed: u32) -> Vec<u8> {
    let mut img = gridwork_mobile_core::photo_fixtures::two_tone(320, 240);
    for x in 0..32 {
        for y in 0..32 {
            img.put_pixel(x, y, image::Rgb([(seed % 251) as u8, (seed / 251 % 251) as u8, 90]));
        }
    }
    gridwork_mobile_core::photo_fixtures::encode(&img, image::ImageFormat::Jpeg)
}

fn open_phone(dir: &std::path::Path, url: &str, name: &str) -> anyhow::Result<FieldClient> {
    Ok(FieldClient::open(&ClientConfig {
        server_url: url.to_owned(),
        database_path: dir.join(format!("{name}.sqlite")),
        timeout: Duration::from_secs(2),
    })?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let tmp = tempfile::tempdir()?;
    let server = start_server(&tmp.path().join("field.sqlite").display().to_string(), None)?;
    let http = reqwest::Client::new();
    wait_ready(&http, &server.base).await?;
    let admin = login(&http, &server.base, "admin", "gridwork-demo").await?;
    if args.measure {
        return measure(&http, &server, &admin, tmp.path()).await;
    }
    let proxy = FaultyProxy::start(server.base.trim_start_matches("http://").parse()?, 42).await;
    let started = Instant::now();
    let mut phones = vec![];
    for i in 0..args.phones {
        let (code, at) = grid(i);
        let name = format!("field.worker{i}");
        phone_user(&http, &server.base, &admin, &name, "grid_worker", &code).await?;
        let worker: Value =
            http.get(format!("{}/api/v1/users/{name}", server.base)).bearer_auth(&admin).send().await?.json().await?;
        let tasks =
            dispatch(&http, &server.base, &admin, worker["id"].as_str().unwrap_or_default(), at, args.tasks, &name)
                .await?;
        let phone = Arc::new(open_phone(tmp.path(), &proxy.url(), &name)?);
        phone.sign_in(&name, PASSWORD).await?;
        phone.sync().await?;
        phones.push((phone, tasks, at));
    }
    proxy.set_fault_rate(args.fault_rate);
    eprintln!("{} phones, {} tasks each, {:.0} % of requests broken", args.phones, args.tasks, args.fault_rate * 100.0);
    let work_started = Instant::now();
    let mut runs = vec![];
    for (i, (phone, tasks, at)) in phones.iter().enumerate() {
        let (phone, tasks, at) = (phone.clone(), tasks.clone(), *at);
        runs.push(tokio::spawn(async move {
            let sender = phone.start();
            for (k, task) in tasks.iter().enumerate() {
                phone.act(task, &Action::Claim, &[], Some(at))?;
                phone.act(task, &Action::Start, &[], Some(at))?;
                let seed = u32::try_from(i * 10_000 + k).unwrap_or(0);
                let here = phone.event(task)?.map_or(at, |e| (e.location.lat, e.location.lng));
                phone.act(task, &Action::Resolve { evidence: vec![] }, &[photo(seed)], Some(here))?;
                phone.record_location(here.0, here.1, Some(8.0))?;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            phone.report(
                "E-01-02",
                (at.0 + 0.005, at.1 + 0.003),
                &format!("field report {i}"),
                None,
                &[photo(999_000 + u32::try_from(i).unwrap_or(0))],
            )?;
            // The background sender delivers; a flush now and then is the user pulling to refresh.
            while phone.summary()?.pending > 0 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let _ = phone.flush(false).await;
            }
            sender.abort();
            anyhow::Ok(phone.summary()?.conflicts)
        }));
    }
    let mut conflicts = 0;
    for r in runs {
        conflicts += r.await??;
    }
    let drained = work_started.elapsed();
    let faults = proxy.faults().await.iter().filter(|f| **f != Fault::Pass).count();
    // Check on the server: every task claimed, started and resolved once, in order; one report each.
    let mut wrong = 0;
    for (_, tasks, _) in &phones {
        for task in tasks {
            let e: Value = http
                .get(format!("{}/api/v1/events/{task}", server.base))
                .bearer_auth(&admin)
                .send()
                .await?
                .json()
                .await?;
            let steps: Vec<&str> =
                e["timeline"].as_array().into_iter().flatten().filter_map(|t| t["action"].as_str()).collect();
            let mine: Vec<&str> =
                steps.iter().copied().filter(|s| matches!(*s, "claim" | "start" | "resolve")).collect();
            if mine != ["claim", "start", "resolve"] {
                wrong += 1;
                eprintln!("{task}: {steps:?}");
            }
        }
    }
    let listed: Value =
        http.get(format!("{}/api/v1/events?limit=500", server.base)).bearer_auth(&admin).send().await?.json().await?;
    let reports = listed["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["description"].as_str().is_some_and(|d| d.starts_with("field report")))
        .count();
    println!(
        "{} phones × {} tasks: queues drained in {:.1} s through {faults} broken requests; {conflicts} conflicts; {wrong} tasks out of order or doubled; {reports}/{} reports filed",
        args.phones,
        args.tasks,
        drained.as_secs_f64(),
        args.phones
    );
    eprintln!("total {:.1} s", started.elapsed().as_secs_f64());
    if wrong > 0 || conflicts > 0 || reports != args.phones {
        bail!("the field run lost or doubled work");
    }
    Ok(())
}

/// What a phone pays: memory with 1,000 tasks cached, time of a sync of 500 changed tasks.
async fn measure(http: &reqwest::Client, server: &Server, admin: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let (code, at) = grid(0);
    phone_user(http, &server.base, admin, "measure.worker", "grid_worker", &code).await?;
    let worker: Value = http
        .get(format!("{}/api/v1/users/measure.worker", server.base))
        .bearer_auth(admin)
        .send()
        .await?
        .json()
        .await?;
    let worker_id = worker["id"].as_str().unwrap_or_default().to_owned();
    eprintln!("dispatching 1,000 tasks …");
    dispatch(http, &server.base, admin, &worker_id, at, 1000, "m1").await?;
    // The server holds a sync cursor back 5 s so late commits are never skipped.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let before = memory_mb("self", "VmRSS:");
    let phone = open_phone(dir, &server.base, "measure")?;
    phone.sign_in("measure.worker", PASSWORD).await?;
    let t = Instant::now();
    let first = phone.sync().await?;
    let first_sync = t.elapsed();
    let tasks = phone.tasks()?;
    let with_tasks = memory_mb("self", "VmRSS:");
    let db_bytes = std::fs::metadata(dir.join("measure.sqlite"))?.len()
        + std::fs::metadata(dir.join("measure.sqlite-wal")).map_or(0, |m| m.len());
    println!(
        "1,000 tasks cached: first sync {:.0} ms ({} tasks), process RSS +{:.1} MB with the task list loaded ({} rows), local database {:.1} MB",
        first_sync.as_secs_f64() * 1000.0,
        first.changed_tasks,
        with_tasks - before,
        tasks.len(),
        db_bytes as f64 / 1e6
    );
    eprintln!("dispatching 500 more …");
    dispatch(http, &server.base, admin, &worker_id, (at.0 + 0.021, at.1), 500, "m2").await?;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let t = Instant::now();
    let r = phone.sync().await?;
    println!("sync of {} changed tasks: {:.0} ms", r.changed_tasks, t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let n = phone.tasks()?.len();
    println!("task list of {n} read from the local database: {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    Ok(())
}
