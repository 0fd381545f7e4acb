//! The duty roster: dispatch ranks a street's on-duty workers from memory and the database
//! decides. Two servers on one database: a worker goes off duty through one, and the other —
//! whose roster has not heard yet — still never gives them work; a worker's move through one is
//! in the other's ranking within its one-second look; `/metrics` says how dispatch was served.

use std::time::{Duration, Instant};

use gridwork_tests::{TestApp, both_backends, per_backend};
use serde_json::{Value, json};

/// The `n`th point of a lattice inside street 420102003, 67 m apart (no two reports linked as
/// duplicates).
fn lattice(n: u32) -> (f64, f64) {
    (30.5805 + 0.0006 * f64::from(n % 30), 114.2705 + 0.0006 * f64::from(n / 30))
}

/// A kilometre north of the lattice's first point, still in the street.
const FAR: (f64, f64) = (30.5895, 114.2705);

async fn metric(app: &TestApp, line: &str) -> f64 {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines().find_map(|l| l.strip_prefix(line)).map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn roster_holds(app: &TestApp, n: f64) {
    let start = Instant::now();
    while metric(app, "gridwork_duty_roster_workers ").await != n {
        assert!(start.elapsed() < Duration::from_secs(5), "the roster never held {n} workers");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A resident's report at the `n`th lattice point, accepted by the coordinator through `app`
/// (which dispatches it there); the accepted event.
async fn accepted(app: &TestApp, resident: &str, coord: &str, n: u32) -> Value {
    let at = lattice(n);
    let body = json!({"category": "C-03-01", "lat": at.0, "lng": at.1, "description": "井盖缺失"});
    let req = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(resident)
        .header("Idempotency-Key", format!("roster-{n}"))
        .json(&body);
    let (s, e) = app.send(req).await;
    assert_eq!(s, 201, "{e}");
    let id = e["id"].as_str().unwrap();
    let (s, e) = app.post(&format!("/api/v1/events/{id}/actions"), coord, json!({"action": "accept"})).await;
    assert_eq!(s, 200, "{e}");
    e
}

async fn duty(app: &TestApp, token: &str, on: bool) {
    let (s, b) = app.put("/api/v1/me/duty", token, json!({"on_duty": on})).await;
    assert_eq!(s, 200, "{b}");
}

both_backends! {
    async fn a_replica_behind_never_assigns_wrongly_and_hears_moves_within_its_look(app: TestApp) {
        let c = app.street_crew().await;
        let other = app.replica().await;
        let (wang, li) = (app.id_of("wang").await, app.id_of("li.na").await);
        // Wang stands on the lattice's first point, li a kilometre off: for events within 200 m of
        // wang, wang is the one to pick.
        app.on_duty(&c.wang, lattice(0)).await;
        app.on_duty(&c.li, FAR).await;
        roster_holds(&other, 2.0).await;
        let e = accepted(&other, &c.chen, &c.coord, 1).await;
        assert_eq!(e["assignees"], json!([wang]), "{e}");
        assert!(metric(&other, "gridwork_dispatch_roster_total{outcome=\"confirmed\"}").await >= 1.0);

        // Wang goes off duty through the first server and at once an event is dispatched on the
        // other: its roster may still hold wang, but the database says no.
        for round in 0..3 {
            duty(&app, &c.wang, false).await;
            let e = accepted(&other, &c.chen, &c.coord, 30 * (round + 1)).await;
            assert_eq!(e["assignees"], json!([li]), "round {round}: {e}");
            roster_holds(&other, 1.0).await;
            duty(&app, &c.wang, true).await;
            roster_holds(&other, 2.0).await;
        }
        // Three times the roster was (almost surely) caught behind at least once; whenever it was,
        // the database decided.
        assert!(metric(&other, "gridwork_dispatch_roster_total{outcome=\"behind\"}").await >= 1.0);

        // Li walks up beside an event through the first server; the other's ranking has her there
        // within its look.
        let e = accepted(&app, &c.chen, &c.coord, 4).await;
        let id = e["id"].as_str().unwrap().to_owned();
        let ping = json!({"pings": [{"lat": lattice(4).0, "lng": lattice(4).1 + 0.0002, "recorded_at": chrono::Utc::now().to_rfc3339()}]});
        let (s, b) = app.post("/api/v1/me/location", &c.li, ping).await;
        assert_eq!(s, 200, "{b}");
        let start = Instant::now();
        loop {
            let (s, b) = other.get(&format!("/api/v1/events/{id}/candidates"), &c.coord).await;
            assert_eq!(s, 200, "{b}");
            let near = b["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["user_id"] == li && x["distance_m"].as_f64().is_some_and(|m| m < 50.0));
            if near {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(4), "the move never reached the other server: {b}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!("a move reached the other server's roster after {:?}", start.elapsed());
        other.handle.stop(false).await;
    }
}

per_backend! {
    async fn without_the_roster_dispatch_reads_the_database(backend) {
        let Some(plain) = TestApp::spawn_with(backend, |s| s.duty_roster = false).await else { return };
        let c = plain.street_crew().await;
        plain.on_duty(&c.wang, lattice(0)).await;
        plain.on_duty(&c.li, FAR).await;
        let e = accepted(&plain, &c.chen, &c.coord, 1).await;
        assert_eq!(e["assignees"], json!([plain.id_of("wang").await]), "{e}");
        assert_eq!(metric(&plain, "gridwork_duty_roster_workers ").await, 0.0);
        assert_eq!(metric(&plain, "gridwork_dispatch_roster_total{outcome=\"unused\"}").await, 1.0);
    }
}
