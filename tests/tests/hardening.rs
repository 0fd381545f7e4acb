//! What every answer carries and what every client is held to, on both backends: security
//! headers (HSTS when configured), no caching of API answers, and per-address limits on sign-in,
//! volunteer sign-up, the community search and filing reports — refused with 429, `Retry-After`
//! and the one error shape.

use gridwork::http::hardening::RateLimits;
use gridwork_mobile_core::Role;
use gridwork_tests::{Backend, PASSWORD, TestApp, assert_error};
use serde_json::json;

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn strict(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| {
        s.hardening.limits =
            RateLimits { sign_ins_per_minute: 5, sign_ups_per_hour: 3, lookups_per_minute: 4, reports_per_minute: 2 };
    })
    .await
}

async fn limits_hold_per_endpoint(app: TestApp) {
    let root = app.demo_city().await; // sign-in 1
    app.user("chen", Role::Resident, Some("420100")).await;
    let chen = app.login("chen").await; // sign-in 2

    // Headers on every answer; API answers are never cached and never rendered.
    let res = app.client.get(app.url("/api/v1/me")).bearer_auth(&chen).send().await.unwrap();
    assert_eq!(header(&res, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&res, "referrer-policy"), Some("no-referrer"));
    assert_eq!(header(&res, "x-frame-options"), Some("DENY"));
    assert_eq!(header(&res, "cache-control"), Some("no-store"));
    assert!(header(&res, "content-security-policy").is_some_and(|c| c.contains("default-src 'none'")));
    assert_eq!(header(&res, "strict-transport-security"), None, "HSTS only when configured");
    // The console keeps its own policy (scripts from itself).
    let res = app.client.get(app.url("/console/")).send().await.unwrap();
    assert!(header(&res, "content-security-policy").is_some_and(|c| c.contains("script-src 'self'")), "{res:?}");
    assert_eq!(header(&res, "x-content-type-options"), Some("nosniff"));

    // Sign-up: three an hour from one address, refused or not.
    let sign_up = |name: &str, phone: &str| {
        app.client.post(app.url("/api/v1/volunteers/sign-up")).json(&json!({
            "username": name, "password": PASSWORD, "display_name": name, "phone": phone, "community": "420102003001"
        }))
    };
    assert_eq!(app.send(sign_up("vol.a", "13900000001")).await.0, 201);
    assert_eq!(app.send(sign_up("vol.b", "12345")).await.0, 422);
    assert_eq!(app.send(sign_up("vol.c", "13900000003")).await.0, 201);
    let res = sign_up("vol.d", "13900000004").send().await.unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = header(&res, "retry-after").unwrap().parse().unwrap();
    assert!((3000..=3600).contains(&wait), "{wait}");
    let (s, b) = gridwork_tests::status_json(res).await;
    assert_error(s, &b, 429, "rate_limited");
    assert_eq!(b["retry_after_seconds"], wait);
    // Refused before it was handled: no account was made.
    let (_, users) = app.get("/api/v1/users?limit=1000", &root).await;
    assert!(users["users"].as_array().unwrap().iter().all(|u| u["username"] != "vol.d"), "{users}");

    // The community search: four a minute.
    for _ in 0..4 {
        assert_eq!(app.send(app.client.get(app.url("/api/v1/volunteers/communities?q=4201"))).await.0, 200);
    }
    let (s, b) = app.send(app.client.get(app.url("/api/v1/volunteers/communities?q=4201"))).await;
    assert_error(s, &b, 429, "rate_limited");

    // Reports: two a minute; reading is not limited.
    let report = |n: u32| {
        app.client
            .post(app.url("/api/v1/events"))
            .bearer_auth(&chen)
            .header("Idempotency-Key", format!("limit-{n}"))
            .json(&json!({"category": "C-03-01", "lat": 30.5825 + f64::from(n) * 0.002, "lng": 114.274, "description": "满了"}))
    };
    assert_eq!(app.send(report(1)).await.0, 201);
    assert_eq!(app.send(report(2)).await.0, 201);
    let (s, b) = app.send(report(3)).await;
    assert_error(s, &b, 429, "rate_limited");
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/events", &chen).await.0, 200);
    }

    // Sign-in: five a minute, on top of the per-account lockout.
    for _ in 0..3 {
        assert_eq!(app.login_raw("chen", PASSWORD).await.status(), 200);
    }
    let res = app.login_raw("chen", PASSWORD).await;
    assert_eq!(res.status(), 429);
    let (s, b) = gridwork_tests::status_json(res).await;
    assert_error(s, &b, 429, "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_per_endpoint_sqlite() {
    if let Some(app) = strict(Backend::Sqlite).await {
        limits_hold_per_endpoint(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_per_endpoint_postgres() {
    if let Some(app) = strict(Backend::Postgres).await {
        limits_hold_per_endpoint(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_when_served_over_tls() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| s.hardening.hsts = true).await else { return };
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(header(&res, "strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
}
