//! The field client (`mobile-core`, feature `client`) against a real server over real HTTP, on
//! both backends: a field day with the network gone, conflicts, a crash with work queued, and
//! 200 rounds of connections cut at random points — nothing lost, nothing twice, order kept.

use std::sync::Arc;
use std::time::Duration;

use gridwork_mobile_core::client::{ClientConfig, ClientError, FieldClient, FieldListener, QueueSummary};
use gridwork_mobile_core::domain::event::Action;
use gridwork_tests::faults::{Fault, FaultyProxy};
use gridwork_tests::{TestApp, both_backends, unique_jpeg};
use serde_json::{Value, json};

/// A point inside demo grid 420102003001001.
const P: (f64, f64) = (30.5825, 114.2740);

struct Field {
    coord: String,
    chen: String,
}

async fn setup(app: &TestApp) -> Field {
    let crew = app.street_crew().await;
    Field { coord: crew.coord, chen: crew.chen }
}

/// A resident's report, accepted and dispatched to `to`; its id.
async fn task_for(app: &TestApp, f: &Field, to: &str, n: usize) -> String {
    // Reports far enough apart not to be linked as duplicates.
    let at = (30.581 + (n / 20) as f64 * 0.001, 114.271 + (n % 20) as f64 * 0.001);
    let body = json!({"category": "C-03-01", "lat": at.0, "lng": at.1, "description": format!("路灯不亮 #{n}")});
    let req = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(&f.chen)
        .header("Idempotency-Key", format!("task-{n}"))
        .json(&body);
    let (s, e) = app.send(req).await;
    assert_eq!(s, 201, "{e}");
    let id = e["id"].as_str().unwrap().to_owned();
    let to = app.id_of(to).await;
    for action in [json!({"action": "accept"}), json!({"action": "dispatch", "assignees": [to]})] {
        let (s, b) = app.post(&format!("/api/v1/events/{id}/actions"), &f.coord, action).await;
        assert_eq!(s, 200, "{b}");
    }
    id
}

fn client(dir: &std::path::Path, url: &str, timeout_ms: u64) -> FieldClient {
    FieldClient::open(&ClientConfig {
        server_url: url.to_owned(),
        database_path: dir.join("phone.sqlite"),
        timeout: Duration::from_millis(timeout_ms),
    })
    .unwrap()
}

/// The actions of an event's timeline, in order.
async fn steps(app: &TestApp, token: &str, id: &str) -> Vec<String> {
    let (s, e) = app.get(&format!("/api/v1/events/{id}"), token).await;
    assert_eq!(s, 200, "{e}");
    e["timeline"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap().to_owned()).collect()
}

#[derive(Default)]
struct Recorder {
    summaries: std::sync::Mutex<Vec<QueueSummary>>,
    tasks: std::sync::atomic::AtomicU32,
}

impl FieldListener for Recorder {
    fn queue_changed(&self, summary: QueueSummary) {
        self.summaries.lock().unwrap().push(summary);
    }
    fn tasks_changed(&self) {
        self.tasks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn sync_progress(&self, _received: u32, _more: bool) {}
}

async fn reports_with(app: &TestApp, token: &str, text: &str) -> Vec<Value> {
    let (s, list) = app.get("/api/v1/events?limit=200", token).await;
    assert_eq!(s, 200, "{list}");
    list["events"].as_array().unwrap().iter().filter(|e| e["description"] == text).cloned().collect()
}

both_backends! {
    async fn a_field_day_with_the_network_gone(app: TestApp) {
        let f = setup(&app).await;
        let task = task_for(&app, &f, "wang", 0).await;
        let proxy = FaultyProxy::start(app.base.trim_start_matches("http://").parse().unwrap(), 1).await;
        let dir = tempfile::tempdir().unwrap();
        let phone = client(dir.path(), &proxy.url(), 2_000);
        let seen = Arc::new(Recorder::default());
        phone.set_listener(Some(seen.clone()));
        phone.sign_in("wang", gridwork_tests::PASSWORD).await.unwrap();
        phone.register_device("fcm-token-of-wangs-phone-000001", "android", "1.0.0").await.unwrap();
        let (_, devices) = app.get("/api/v1/devices", &app.login("wang").await).await;
        assert_eq!(devices["devices"].as_array().map(Vec::len), Some(1), "{devices}");
        let synced = phone.sync().await.unwrap();
        assert_eq!(synced.open_tasks, 1);
        assert_eq!(phone.tasks().unwrap()[0].event_id, task);
        assert!(!phone.areas().unwrap().is_empty(), "the grid's outline is on the phone");

        // Into the basement: everything is queued and shows at once.
        proxy.set_offline(true);
        phone.set_duty(true).unwrap();
        phone.act(&task, &Action::Claim, &[], Some(P)).unwrap();
        phone.act(&task, &Action::Start, &[], None).unwrap();
        // The shared state machine refuses locally what the server would refuse.
        let refused = phone.act(&task, &Action::Resolve { evidence: vec![] }, &[], None).unwrap_err();
        assert!(matches!(&refused, ClientError::Validation { code, .. } if code == "evidence_required"), "{refused:?}");
        let refused = phone.act(&task, &Action::Verify, &[], None).unwrap_err();
        assert!(matches!(refused, ClientError::Validation { .. } | ClientError::Conflict(_)), "{refused:?}");
        phone.act(&task, &Action::Resolve { evidence: vec![] }, &[unique_jpeg()], Some(location(&phone, &task))).unwrap();
        for i in 0..3 {
            phone.record_location(P.0 + f64::from(i) * 0.00001, P.1, Some(5.0)).unwrap();
        }
        let local = phone.report("C-03-01", (P.0 + 0.003, P.1), "井盖松动 field-day", Some("大智路 9 号"), &[unique_jpeg()]).unwrap();
        let view = phone.tasks().unwrap();
        let mine = view.iter().find(|t| t.event_id == task).unwrap();
        assert_eq!((mine.event_state.as_str(), mine.task_state.as_deref()), ("resolved", Some("resolved")));
        assert!(mine.pending_ops >= 3);
        assert!(view.iter().any(|t| t.event_id == local && t.local_only));
        let r = phone.flush(false).await.unwrap();
        assert!(r.interrupted && r.sent == 0, "{r:?}");
        assert_eq!(phone.summary().unwrap().pending, 8, "{:?}", phone.queue().unwrap());
        assert!(seen.summaries.lock().unwrap().len() >= 8 && seen.tasks.load(std::sync::atomic::Ordering::Relaxed) > 0);

        // Back online: everything goes, in order, once.
        proxy.set_offline(false);
        let r = phone.flush(false).await.unwrap();
        assert_eq!((r.sent, r.conflicts, r.remaining, r.interrupted), (8, 0, 0, false), "{:?}", phone.queue().unwrap());
        assert_eq!(steps(&app, &f.coord, &task).await, ["report", "accept", "dispatch_pending", "dispatch", "claim", "start", "resolve"]);
        let (_, photos) = app.get(&format!("/api/v1/events/{task}/evidence"), &f.coord).await;
        assert_eq!(photos["after"][0]["cited"], true, "{photos}");
        let filed = reports_with(&app, &f.coord, "井盖松动 field-day").await;
        assert_eq!(filed.len(), 1);
        assert_eq!(descriptions(&app).await.iter().filter(|d| *d == "井盖松动 field-day").count(), 1);
        let server_id = filed[0]["id"].as_str().unwrap();
        let (_, photos) = app.get(&format!("/api/v1/events/{server_id}/evidence"), &f.coord).await;
        assert_eq!(photos["before"].as_array().unwrap().len(), 1, "{photos}");
        assert!(phone.tasks().unwrap().iter().all(|t| t.event_id != local), "the local id gave way to the server's");
        let (_, duty) = app.get("/api/v1/me/duty", &app.login("wang").await).await;
        assert_eq!(duty["on_duty"], true, "{duty}");
    }

    async fn refusals_become_conflicts_and_the_rest_goes_on(app: TestApp) {
        let f = setup(&app).await;
        let first = task_for(&app, &f, "wang", 0).await;
        let second = task_for(&app, &f, "wang", 1).await;
        let dir = tempfile::tempdir().unwrap();
        let phone = client(dir.path(), &app.base, 5_000);
        phone.sign_in("wang", gridwork_tests::PASSWORD).await.unwrap();
        phone.sync().await.unwrap();
        phone.act(&first, &Action::Claim, &[], None).unwrap();
        phone.act(&first, &Action::Start, &[], None).unwrap();
        phone.act(&second, &Action::Claim, &[], None).unwrap();
        // Meanwhile the coordinator gives the first task to Li.
        let li = app.id_of("li.na").await;
        let (s, b) = app.post(&format!("/api/v1/events/{first}/actions"), &f.coord,
            json!({"action": "dispatch", "assignees": [li], "reason": "王师傅请假"})).await;
        assert_eq!(s, 200, "{b}");
        let r = phone.flush(false).await.unwrap();
        assert_eq!((r.sent, r.conflicts, r.remaining), (1, 2, 0), "{:?}", phone.queue().unwrap());
        let q = phone.queue().unwrap();
        assert_eq!(q.len(), 2);
        assert!(q.iter().all(|o| o.state == "conflict" && o.event_id.as_deref() == Some(first.as_str())));
        assert!(q[0].error.as_deref().is_some_and(|e| !e.is_empty()), "{q:?}");
        assert_eq!(steps(&app, &f.coord, &second).await.last().map(String::as_str), Some("claim"));
        // The local copy follows the server again: the task is Li's now.
        let e = phone.event(&first).unwrap().unwrap();
        assert_eq!(e.assignees, vec![li.clone()]);
        assert!(phone.dismiss_conflict(q[0].seq).unwrap());
        assert_eq!(phone.summary().unwrap().conflicts, 1);
        // A queued photo whose bytes are gone cannot block the queue: it and the resolve waiting
        // for it become conflicts, and what follows still goes.
        phone.act(&second, &Action::Start, &[], None).unwrap();
        phone.act(&second, &Action::Resolve { evidence: vec![] }, &[unique_jpeg()], Some(location(&phone, &second))).unwrap();
        phone.set_duty(true).unwrap();
        rusqlite_conn(&dir.path().join("phone.sqlite")).execute("DELETE FROM photos", []).unwrap();
        let r = phone.flush(false).await.unwrap();
        assert_eq!((r.sent, r.conflicts, r.remaining), (2, 2, 0), "{:?}", phone.queue().unwrap());
        let codes: Vec<Option<String>> = phone.queue().unwrap().into_iter().skip(1).map(|o| o.error_code).collect();
        assert_eq!(codes, [Some("local_error".to_owned()), Some("dependency_failed".to_owned())]);
    }

    async fn a_crash_with_work_queued_loses_nothing_and_sends_nothing_twice(app: TestApp) {
        let f = setup(&app).await;
        let task = task_for(&app, &f, "wang", 0).await;
        let dir = tempfile::tempdir().unwrap();
        let proxy = FaultyProxy::start(app.base.trim_start_matches("http://").parse().unwrap(), 2).await;
        {
            // A patient phone: under load a short timeout would give up (and drop the request)
            // before the server has even begun, and the claim would never land.
            let phone = client(dir.path(), &proxy.url(), 60_000);
            phone.sign_in("wang", gridwork_tests::PASSWORD).await.unwrap();
            phone.sync().await.unwrap();
            phone.act(&task, &Action::Claim, &[], None).unwrap();
            phone.act(&task, &Action::Start, &[], None).unwrap();
            phone.act(&task, &Action::Resolve { evidence: vec![] }, &[unique_jpeg()], Some(location(&phone, &task))).unwrap();
            // The claim reaches the server, its answer never reaches the phone. Aimed at the
            // claim rather than forced on every request: forcing drops the open connections, and
            // a phone that writes the claim into its pooled connection as the proxy closes it
            // loses the claim on the way in (a cut request, not the cut answer meant here).
            proxy.aim(&format!("POST /api/v1/events/{task}/actions"), Fault::CutResponse(0)).await;
            let r = phone.flush(false).await.unwrap();
            assert!(r.interrupted && r.sent == 0, "{r:?}");
        }
        // The server may still be committing when the phone hears the cut: wait for the claim.
        for _ in 0..100 {
            if steps(&app, &f.coord, &task).await.last().map(String::as_str) == Some("claim") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(steps(&app, &f.coord, &task).await.last().map(String::as_str), Some("claim"));
        // And the process dies while the next entry is on its way: it is still marked as sending.
        rusqlite_conn(&dir.path().join("phone.sqlite"))
            .execute("UPDATE ops SET state = 'sending' WHERE seq = (SELECT MIN(seq) FROM ops)", [])
            .unwrap();
        proxy.force(None).await;
        let phone = Arc::new(client(dir.path(), &proxy.url(), 5_000));
        assert_eq!(phone.summary().unwrap().pending, 4, "started again, the entries are pending");
        // The background sender picks them up by itself.
        let worker = phone.start();
        for _ in 0..100 {
            if phone.summary().unwrap() == QueueSummary::default() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        worker.abort();
        assert_eq!(phone.summary().unwrap(), QueueSummary::default(), "{:?}", phone.queue().unwrap());
        assert_eq!(steps(&app, &f.coord, &task).await, ["report", "accept", "dispatch_pending", "dispatch", "claim", "start", "resolve"]);
        let (_, photos) = app.get(&format!("/api/v1/events/{task}/evidence"), &f.coord).await;
        assert_eq!(photos["after"].as_array().unwrap().len(), 1, "the photo is stored once: {photos}");
    }

    async fn two_hundred_syncs_cut_at_random_points(app: TestApp) {
        const ROUNDS: usize = 200;
        let f = setup(&app).await;
        let mut tasks = vec![];
        for n in 0..ROUNDS {
            tasks.push(task_for(&app, &f, "wang", n).await);
        }
        let proxy = FaultyProxy::start(app.base.trim_start_matches("http://").parse().unwrap(), 0x5EED).await;
        let dir = tempfile::tempdir().unwrap();
        let phone = client(dir.path(), &proxy.url(), 400);
        phone.sign_in("wang", gridwork_tests::PASSWORD).await.unwrap();
        phone.sync().await.unwrap();
        proxy.set_fault_rate(0.35);
        for (n, task) in tasks.iter().enumerate() {
            phone.act(task, &Action::Claim, &[], None).unwrap();
            phone.act(task, &Action::Start, &[], None).unwrap();
            phone.act(task, &Action::Resolve { evidence: vec![] }, &[unique_jpeg()], Some(location(&phone, task))).unwrap();
            let at = (30.6005 + (n / 20) as f64 * 0.001, 114.271 + (n % 20) as f64 * 0.001);
            phone.report("E-01-02", at, &format!("fault round {n}"), None, &[]).unwrap();
            let mut passes = 0;
            loop {
                passes += 1;
                match phone.flush(false).await {
                    Ok(r) if r.remaining == 0 && !r.interrupted => break,
                    Ok(_) | Err(ClientError::Network(_)) => {}
                    Err(e) => panic!("round {n}: {e}"),
                }
                assert!(passes < 200, "round {n} never got through: {:?}", phone.queue().unwrap());
            }
            assert_eq!(phone.summary().unwrap().conflicts, 0, "round {n}: {:?}", phone.queue().unwrap());
        }
        proxy.set_fault_rate(0.0);
        let faults = proxy.faults().await.iter().filter(|f| **f != Fault::Pass).count();
        assert!(faults > ROUNDS / 2, "only {faults} faults were injected");
        for task in &tasks {
            assert_eq!(steps(&app, &f.coord, task).await, ["report", "accept", "dispatch_pending", "dispatch", "claim", "start", "resolve"]);
            let (_, photos) = app.get(&format!("/api/v1/events/{task}/evidence"), &f.coord).await;
            assert_eq!(photos["after"].as_array().unwrap().len(), 1, "{photos}");
        }
        let filed = descriptions(&app).await;
        for n in 0..ROUNDS {
            let text = format!("fault round {n}");
            assert_eq!(filed.iter().filter(|d| **d == text).count(), 1, "{text}");
        }
    }
}

// A real server process killed (SIGKILL) again and again while the phone sends, and restarted.
gridwork_tests::per_backend! {
    async fn a_server_killed_mid_request_loses_nothing(backend) {
        const TASKS: usize = 12;
        let Some(app) = TestApp::spawn(backend).await else { return };
        let f = setup(&app).await;
        let mut tasks = vec![];
        for n in 0..TASKS {
            tasks.push(task_for(&app, &f, "wang", n).await);
        }
        app.handle.stop(true).await;
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let spawn = || {
            std::process::Command::new(gridwork_tests::gridwork_bin())
                .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", app.test_db.url.expose()])
                .env("GRIDWORK_DATA_DIR", app.test_db.dir.path())
                .env("GRIDWORK_LOG", "error")
                .env("GRIDWORK_SCHEDULER_INTERVAL", "0")
                .env_remove("DATABASE_URL")
                .spawn()
                .unwrap()
        };
        let url = format!("http://127.0.0.1:{port}");
        let ready = || async {
            for _ in 0..300 {
                if reqwest::get(format!("{url}/readyz")).await.is_ok_and(|r| r.status().is_success()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("the server did not come back");
        };
        let mut server = spawn();
        ready().await;
        let dir = tempfile::tempdir().unwrap();
        let phone = Arc::new(client(dir.path(), &url, 1_000));
        phone.sign_in("wang", gridwork_tests::PASSWORD).await.unwrap();
        phone.sync().await.unwrap();
        for task in &tasks {
            phone.act(task, &Action::Claim, &[], None).unwrap();
            phone.act(task, &Action::Start, &[], None).unwrap();
            phone.act(task, &Action::Resolve { evidence: vec![] }, &[unique_jpeg()], Some(location(&phone, task))).unwrap();
        }
        let mut rng = gridwork_tests::Rng(77);
        let mut kills = 0;
        while phone.summary().unwrap().pending > 0 {
            let sender = { let phone = phone.clone(); tokio::spawn(async move { phone.flush(false).await }) };
            tokio::time::sleep(Duration::from_millis(5 + (rng.unit() * 60.0) as u64)).await;
            if !sender.is_finished() {
                server.kill().unwrap();
                server.wait().unwrap();
                kills += 1;
                let _ = sender.await.unwrap();
                server = spawn();
                ready().await;
            } else {
                let _ = sender.await.unwrap();
            }
            assert!(kills < 200, "{:?}", phone.queue().unwrap());
        }
        assert!(kills >= 3, "only {kills} kills landed mid-sync");
        assert_eq!(phone.summary().unwrap(), QueueSummary::default(), "{:?}", phone.queue().unwrap());
        // Check through the restarted server.
        let http = reqwest::Client::new();
        let login: Value = http.post(format!("{url}/api/v1/auth/login")).json(&json!({"username": "coord", "password": gridwork_tests::PASSWORD}))
            .send().await.unwrap().json().await.unwrap();
        let coord = login["token"].as_str().unwrap();
        for task in &tasks {
            let e: Value = http.get(format!("{url}/api/v1/events/{task}")).bearer_auth(coord).send().await.unwrap().json().await.unwrap();
            let steps: Vec<&str> = e["timeline"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
            assert_eq!(steps, ["report", "accept", "dispatch_pending", "dispatch", "claim", "start", "resolve"]);
            assert_eq!(e["evidence"]["after"].as_array().unwrap().len(), 1, "{e}");
        }
        eprintln!("{kills} kills while the phone was sending; nothing lost, nothing twice");
        server.kill().unwrap();
        server.wait().unwrap();
    }
}

/// Where the cached event is (the phone stands there to take its after-photo).
fn location(phone: &FieldClient, id: &str) -> (f64, f64) {
    let e = phone.event(id).unwrap().unwrap();
    (e.location.lat, e.location.lng)
}

/// Every event's description, from the database.
async fn descriptions(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    use gridwork::db::schema::events;
    app.db.run(|conn| Ok(events::table.select(events::description).load::<String>(conn)?)).await.unwrap()
}

fn rusqlite_conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}
