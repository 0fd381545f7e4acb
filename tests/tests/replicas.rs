//! Replicas that agree: two servers on one database, each with its own pool, session cache and
//! listener. A change made through one — a session ended, a grant, an account disabled, an area
//! import, an event — is seen by the other: within milliseconds on PostgreSQL (NOTIFY), within the
//! generation check's quarter second on SQLite (whose second process here stands for the CLI). On the
//! server that made the change it acts at once, cache or not.

use std::time::{Duration, Instant};

use gridwork_tests::{TestApp, both_backends};
use serde_json::{Value, json};

const P: (f64, f64) = (30.584, 114.276);

/// How long a change made on one replica may take to be seen on the other: NOTIFY on
/// PostgreSQL (the generation check alone would take up to 5 s), the 250 ms generation check on
/// SQLite.
fn heard_within(app: &TestApp) -> Duration {
    match app.test_db.backend {
        gridwork_tests::Backend::Postgres => Duration::from_millis(1000),
        gridwork_tests::Backend::Sqlite => Duration::from_millis(2500),
    }
}

/// Polls `GET path` on `app` until `done` holds; the time it took, or a failure after `limit`.
async fn until(
    app: &TestApp,
    path: &str,
    token: &str,
    limit: Duration,
    done: impl Fn(u16, &Value) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let (s, b) = app.get(path, token).await;
        if done(s, &b) {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "not seen within {limit:?}: {s} {b}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn roles(me: &Value) -> Vec<String> {
    me["roles"].as_array().unwrap().iter().map(|g| g["role"].as_str().unwrap().to_owned()).collect()
}

/// A report of `category` at `at`, with key `key`; the answer as it came.
async fn try_report(app: &TestApp, token: &str, at: (f64, f64), key: &str, category: &str) -> (u16, Value) {
    let body = json!({"category": category, "lat": at.0, "lng": at.1, "description": "路面积水", "source": "resident"});
    let req = app.client.post(app.url("/api/v1/events")).bearer_auth(token).header("Idempotency-Key", key).json(&body);
    app.send(req).await
}

/// The `n`th point of a lattice inside street 420102003, 67 m apart (no two reports linked as
/// duplicates).
fn lattice(n: u32) -> (f64, f64) {
    (30.5805 + 0.0006 * f64::from(n % 30), 114.2705 + 0.0006 * f64::from(n / 30))
}

/// The `n`th report, far enough from the others not to be linked to them as a duplicate.
async fn report(app: &TestApp, token: &str, n: u32) -> String {
    let (s, e) =
        try_report(app, token, (30.581 + 0.001 * f64::from(n), 114.2745), &format!("replica-{n}"), "E-01-02").await;
    assert!(s == 201 || s == 200, "{s} {e}");
    e["id"].as_str().unwrap().to_owned()
}

/// Seconds the event's current stage was given.
fn given(e: &Value) -> i64 {
    let at = |k: &str| e[k].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    (at("due_at") - at("created_at")).num_seconds()
}

/// Reads a stream until `want` appears; the text read and how long it took.
async fn read_until(res: &mut reqwest::Response, want: &str, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut text = String::new();
    while !text.contains(want) && start.elapsed() < limit {
        if let Ok(Ok(Some(chunk))) = tokio::time::timeout(limit, res.chunk()).await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert!(text.contains(want), "{want} not streamed within {limit:?}: {text}");
    (text, start.elapsed())
}

both_backends! {
    async fn a_change_to_who_may_do_what_acts_at_once_on_its_own_server(app: TestApp) {
        let c = app.street_crew().await;
        let wang = app.id_of("wang").await;
        // Read twice: the second answer comes from the cache.
        for _ in 0..2 {
            let (s, b) = app.get("/api/v1/me", &c.wang).await;
            assert_eq!((s, roles(&b)), (200, vec!["grid_worker".to_owned()]));
        }
        // A grant shows on the very next request, and so does its revocation.
        let (s, g) = app.post(&format!("/api/v1/users/{wang}/roles"), &c.admin, json!({"role": "volunteer", "scope": "420102003"})).await;
        assert_eq!(s, 201, "{g}");
        let (_, b) = app.get("/api/v1/me", &c.wang).await;
        assert_eq!(roles(&b), vec!["grid_worker".to_owned(), "volunteer".to_owned()]);
        let (s, _) = app.send(app.client.delete(app.url(&format!("/api/v1/users/{wang}/roles/{}", g["id"].as_str().unwrap()))).bearer_auth(&c.admin)).await;
        assert_eq!(s, 200);
        let (_, b) = app.get("/api/v1/me", &c.wang).await;
        assert_eq!(roles(&b), vec!["grid_worker".to_owned()]);
        // Signed out everywhere: refused on the next request.
        let (s, _) = app.post(&format!("/api/v1/users/{wang}/revoke-sessions"), &c.admin, json!({})).await;
        assert_eq!(s, 200);
        assert_eq!(app.get("/api/v1/me", &c.wang).await.0, 401);
        // Signing out oneself, and a disabled account.
        let (s, _) = app.get("/api/v1/me", &c.li).await;
        assert_eq!(s, 200);
        assert_eq!(app.post("/api/v1/auth/logout", &c.li, json!({})).await.0, 200);
        assert_eq!(app.get("/api/v1/me", &c.li).await.0, 401);
        let chen = app.id_of("chen").await;
        assert_eq!(app.get("/api/v1/me", &c.chen).await.0, 200);
        let (s, b) = app.send(app.client.patch(app.url(&format!("/api/v1/users/{chen}"))).bearer_auth(&c.admin).json(&json!({"is_active": false}))).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.get("/api/v1/me", &c.chen).await.0, 401);
    }

    async fn replicas_agree_on_sessions_grants_the_map_and_the_stream(app: TestApp) {
        let c = app.street_crew().await;
        let other = app.replica().await;
        let within = heard_within(&app);
        let wang = app.id_of("wang").await;

        // Both replicas know wang (each now holds him in its cache).
        assert_eq!(app.get("/api/v1/me", &c.wang).await.0, 200);
        assert_eq!(other.get("/api/v1/me", &c.wang).await.0, 200);
        // A grant made on one replica is seen on the other.
        let (s, g) = other.post(&format!("/api/v1/users/{wang}/roles"), &c.admin, json!({"role": "volunteer", "scope": "420102003"})).await;
        assert_eq!(s, 201, "{g}");
        let took = until(&app, "/api/v1/me", &c.wang, within, |s, b| s == 200 && roles(b).len() == 2).await;
        eprintln!("grant seen on the other replica after {took:?}");
        // Signed out everywhere on one replica: refused on the other.
        let (s, _) = other.post(&format!("/api/v1/users/{wang}/revoke-sessions"), &c.admin, json!({})).await;
        assert_eq!(s, 200);
        let took = until(&app, "/api/v1/me", &c.wang, within, |s, _| s == 401).await;
        eprintln!("revocation seen on the other replica after {took:?}");

        // A stream on one replica delivers what happens on the other.
        let mut res = other.client.get(other.url("/api/v1/events/stream")).bearer_auth(&c.coord).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let mut last = String::new();
        for i in 0..3 {
            let e = report(&app, &c.chen, i).await;
            let (text, took) = read_until(&mut res, &e, within + Duration::from_secs(2)).await;
            eprintln!("event {i} streamed by the other replica after {took:?}");
            if app.test_db.backend == gridwork_tests::Backend::Postgres {
                // The stream's own poll (every 2 s) would be too late for this.
                assert!(took < within, "{took:?}");
            }
            last = text.lines().rev().find_map(|l| l.strip_prefix("id: ")).unwrap().to_owned();
        }
        drop(res);
        // ... and resumes on the first replica from the other's Last-Event-ID.
        let e = report(&app, &c.chen, 3).await;
        let mut res = app.client.get(app.url("/api/v1/events/stream")).bearer_auth(&c.coord).header("Last-Event-ID", &last).send().await.unwrap();
        read_until(&mut res, &e, Duration::from_secs(5)).await;
        drop(res);

        // The stream of a session ended on the other replica ends.
        let mut res = other.client.get(other.url("/api/v1/events/stream")).bearer_auth(&c.coord).send().await.unwrap();
        read_until(&mut res, "gridwork event stream", Duration::from_secs(3)).await;
        let coord = app.id_of("coord").await;
        let (s, _) = app.post(&format!("/api/v1/users/{coord}/revoke-sessions"), &c.admin, json!({})).await;
        assert_eq!(s, 200);
        let start = Instant::now();
        let ended = loop {
            match tokio::time::timeout(within + Duration::from_secs(3), res.chunk()).await {
                Ok(Ok(None)) | Ok(Err(_)) => break true,
                Ok(Ok(Some(_))) => continue,
                Err(_) => break false,
            }
        };
        assert!(ended, "the stream outlived its session");
        eprintln!("stream ended on the other replica after {:?}", start.elapsed());

        // An area import through one replica: the other serves the new map.
        let mut map = gridwork::areas::demo_city::feature_collection();
        map["features"][0]["properties"]["name"] = json!("武汉市（改名）");
        let req = other.client.post(other.url("/api/v1/areas/import")).bearer_auth(&c.admin).json(&map);
        let (s, b) = other.send(req).await;
        assert_eq!((s, b["updated"].as_i64()), (200, Some(1)), "{b}");
        let path = format!("/api/v1/areas/lookup?lat={}&lng={}", P.0, P.1);
        let took = until(&app, &path, &c.admin, within + Duration::from_secs(2), |s, b| {
            s == 200 && b["chain"][0]["name"] == "武汉市（改名）"
        })
        .await;
        eprintln!("import served by the other replica after {took:?}");
        other.handle.stop(false).await;
    }

    async fn replicas_agree_on_the_catalog_and_emergencies(app: TestApp) {
        let c = app.street_crew().await;
        let other = app.replica().await;
        let within = heard_within(&app);
        let mut n = 0;
        let mut at = || {
            n += 1;
            (lattice(n), format!("standing-{n}"))
        };
        // Both replicas have read the catalog (each now keeps it) and give a report its normal time.
        let (p, key) = at();
        let normal = given(&try_report(&app, &c.chen, p, &key, "E-01-01").await.1);
        let (p, key) = at();
        assert_eq!(given(&try_report(&other, &c.chen, p, &key, "E-01-01").await.1), normal);

        // A category switched off through one replica: refused there at once, on the other soon.
        let csv = app.client.get(app.url("/api/v1/categories.csv")).bearer_auth(&c.admin).send().await.unwrap().text().await.unwrap();
        let off: String = csv
            .lines()
            .map(|l| match l.strip_suffix(",true") {
                Some(rest) if l.starts_with("event,01,市容环境,02,") => format!("{rest},false\n"),
                _ => format!("{l}\n"),
            })
            .collect();
        let req = app.client.post(app.url("/api/v1/categories/import")).bearer_auth(&c.admin).header("content-type", "text/csv").body(off);
        let (s, b) = app.send(req).await;
        assert_eq!((s, b["updated"].as_u64()), (200, Some(1)), "{b}");
        let (p, key) = at();
        let (s, b) = try_report(&app, &c.chen, p, &key, "E-01-02").await;
        assert_eq!((s, b["fields"]["category"]["code"].as_str()), (422, Some("unknown_category")), "{b}");
        let start = Instant::now();
        loop {
            let (p, key) = at();
            let (s, b) = try_report(&other, &c.chen, p, &key, "E-01-02").await;
            if s == 422 {
                assert_eq!(b["fields"]["category"]["code"], "unknown_category", "{b}");
                break;
            }
            assert!(start.elapsed() < within, "the other replica still files the switched-off category: {s} {b}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        eprintln!("catalog change seen on the other replica after {:?}", start.elapsed());

        // An emergency declared through the other replica: new events here get its time.
        let end_at = (chrono::Utc::now() + chrono::Duration::hours(12)).to_rfc3339();
        let declare = json!({"area": "420102003", "reason": "暴雨红色预警", "expected_end_at": end_at});
        let (s, b) = other.post("/api/v1/emergencies", &c.coord, declare).await;
        assert_eq!(s, 201, "{b}");
        let start = Instant::now();
        loop {
            let (p, key) = at();
            let (s, b) = try_report(&app, &c.chen, p, &key, "E-01-01").await;
            assert_eq!(s, 201, "{b}");
            if given(&b) < normal {
                assert_eq!(given(&b) * 2, normal, "half the time for its grade: {b}");
                break;
            }
            assert!(start.elapsed() < within, "the emergency is not applied on the other replica: {b}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        eprintln!("emergency seen on the other replica after {:?}", start.elapsed());
        other.handle.stop(false).await;
    }
}
