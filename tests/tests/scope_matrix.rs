//! The scope matrix: every route the server registers (read from its route table, so a new
//! route without an expectation fails here) × every kind of caller × a target inside and one
//! outside the caller's area (or the caller's own object and someone else's), with the expected
//! outcome of each cell in one table. Then every list filter, with hostile values, may only
//! narrow what the caller sees.
// Test tables are built by hand: a panic is a failed test with its location.
#![allow(clippy::unwrap_used, clippy::too_many_lines)]

use std::collections::{BTreeMap, BTreeSet};

use gridwork_mobile_core::Role;
use gridwork_tests::{PASSWORD, TestApp, both_backends, unique_jpeg};
use reqwest::Method;
use serde_json::{Value, json};

/// Inside grid 420102003001001 (street 420102003, district 420102).
const IN: (f64, f64) = (30.5825, 114.2740);
/// Inside grid 420103003001001 (district 420103).
const OUT: (f64, f64) = (30.5825, 114.3040);

/// The callers, in the table's column order.
const CALLERS: [&str; 11] =
    ["root", "d.admin", "city.op", "dist.op", "coord", "wang", "vol", "dept", "chen", "norole", "anon"];

/// Expected outcome per route: one two-letter cell per caller (in the order of `CALLERS`), the
/// first letter for the target inside the caller's reach (or the caller's own object), the
/// second for the one outside it (or someone else's). A 2xx, listed (A) or not listed (H) for
/// lists; F 403; N 404; U 401; V 422 (signed in and authorised, the input refused).
/// Bulk actions answer 200 with a result per event: their letter is that result's.
const TABLE: &[(&str, &str, &str)] = &[
    //                                                 root d.adm city dist coord wang vol  dept chen none anon
    ("GET", "/healthz", "                              AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA"),
    ("GET", "/readyz", "                               AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA"),
    ("GET", "/metrics", "                              AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA"),
    ("GET", "/api/v1/openapi.json", "                  AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA"),
    ("POST", "/api/v1/auth/login", "                   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA"),
    ("POST", "/api/v1/auth/logout", "                  AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("GET", "/api/v1/me", "                            AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("POST", "/api/v1/me/password", "                  VV   VV   VV   VV   VV   VV   VV   VV   VV   VV   UU"),
    ("GET", "/api/v1/users", "                         AA   AH   AA   AH   AH   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/users", "                        AA   AA   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/users/{id}", "                    AA   AN   AA   AN   AN   FF   FF   FF   FF   FF   UU"),
    ("PATCH", "/api/v1/users/{id}", "                  AA   AN   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/users/{id}/revoke-sessions", "   AA   AN   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/users/{id}/roles", "             AA   AF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("DELETE", "/api/v1/users/{id}/roles/{assignment_id}", "AA AN FF FF FF FF FF FF FF FF UU"),
    ("GET", "/api/v1/departments", "                   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("POST", "/api/v1/departments", "                  AA   AF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/areas/lookup", "                  AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("POST", "/api/v1/areas/lookup/batch", "           AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("POST", "/api/v1/areas/import", "                 AA   FF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/me/duty", "                       FF   FF   FF   FF   FF   AA   AA   AA   FF   FF   UU"),
    ("PUT", "/api/v1/me/duty", "                       FF   FF   FF   FF   FF   AA   AA   AA   FF   FF   UU"),
    ("POST", "/api/v1/me/location", "                  FF   FF   FF   FF   FF   AA   AA   AA   FF   FF   UU"),
    ("GET", "/api/v1/devices", "                       AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("POST", "/api/v1/devices", "                      AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("DELETE", "/api/v1/devices/{id}", "               AN   AN   AN   AN   AN   AN   AN   AN   AN   AN   UU"),
    ("GET", "/api/v1/notifications", "                 AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("POST", "/api/v1/notifications/{id}/ack", "      AN   AN   AN   AN   AN   AN   AN   AN   AN   AN   UU"),
    ("GET", "/api/v1/events", "                        AA   AH   AA   AH   AH   AH   HH   AH   AH   HH   UU"),
    ("POST", "/api/v1/events", "                       AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("GET", "/api/v1/events/stream", "                 AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("POST", "/api/v1/events/bulk", "                  AA   AN   AA   AN   AN   FN   NN   FN   FN   NN   UU"),
    ("GET", "/api/v1/events/density", "                AA   AH   AA   AH   AH   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/events/{id}", "                   AA   AN   AA   AN   AN   AN   NN   AN   AN   NN   UU"),
    ("POST", "/api/v1/events/{id}/actions", "          AA   AN   AA   AN   AN   FN   NN   FN   FN   NN   UU"),
    ("POST", "/api/v1/events/{id}/split", "            AA   AN   AA   AN   AN   FN   NN   FN   FN   NN   UU"),
    ("GET", "/api/v1/events/{id}/candidates", "        AA   AN   AA   AN   AN   FN   NN   FN   FN   NN   UU"),
    ("GET", "/api/v1/events/{id}/evidence", "          AA   AN   AA   AN   AN   AN   NN   AN   AN   NN   UU"),
    // An event named in a body that the caller cannot see is `unknown_event`, as a missing one is.
    ("POST", "/api/v1/evidence", "                     AA   AV   AA   AV   AV   AV   VV   AV   AV   VV   UU"),
    ("POST", "/api/v1/evidence/uploads", "             AA   AV   AA   AV   AV   AV   VV   AV   AV   VV   UU"),
    ("GET", "/api/v1/evidence/uploads/{id}", "        AN   AN   AN   AN   AN   AN   AN   AN   AN   AN   UU"),
    ("PUT", "/api/v1/evidence/uploads/{id}", "        AN   AN   AN   AN   AN   AN   AN   AN   AN   AN   UU"),
    ("GET", "/api/v1/evidence/{id}", "                 AA   AN   AA   AN   AN   AN   NN   AN   AN   NN   UU"),
    ("GET", "/api/v1/evidence/{id}/photo", "           AA   AN   AA   AN   AN   AN   NN   AN   AN   NN   UU"),
    ("GET", "/api/v1/evidence/{id}/thumbnail", "       AA   AN   AA   AN   AN   AN   NN   AN   AN   NN   UU"),
    ("GET", "/api/v1/tasks/mine", "                    AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("GET", "/api/v1/evaluation", "                    AA   AA   AA   AA   AA   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/pool", "                          FF   FF   FF   FF   FF   FF   AA   FF   FF   FF   UU"),
    ("GET", "/api/v1/privacy/report", "                AA   FF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    // One's own data, for everyone signed in; asking for erasure twice waits for the first.
    ("GET", "/api/v1/me/data-export", "                AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("POST", "/api/v1/me/erasure-requests", "          AC   AC   AC   AC   AC   AC   AC   AC   AC   AC   UU"),
    ("GET", "/api/v1/me/erasure-requests", "           AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    // Residents' requests, decided by administrators over the resident's area only.
    ("GET", "/api/v1/erasure-requests", "             AA   AH   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/erasure-requests/{id}/decision", "AA AN NN NN NN NN NN NN NN NN UU"),
    // Hotline calls: ops staff file them anywhere (12345 takes the whole city's calls); the
    // callback queue and the callback itself only over the case.
    ("GET", "/api/v1/hotline/calls", "                AA   AH   AA   AH   AH   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/hotline/calls", "               AA   AA   AA   AA   AA   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/hotline/calls/{id}/callback", "AA AN AA AN AN NN NN NN NN NN UU"),
    // Open data: public where published (the world publishes 420102, not 420103); published and
    // withdrawn by administrators over the area (these two rows come after the reads).
    ("GET", "/api/v1/open-data/areas", "              AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA"),
    ("GET", "/api/v1/open-data/events.csv", "         AN   AN   AN   AN   AN   AN   AN   AN   AN   AN   AN"),
    ("GET", "/api/v1/open-data/events.geojson", "     AN   AN   AN   AN   AN   AN   AN   AN   AN   AN   AN"),
    ("GET", "/api/v1/open-data/categories.csv", "     AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA"),
    ("PUT", "/api/v1/open-data/areas/{code}", "      AA   AF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("DELETE", "/api/v1/open-data/areas/{code}", "   AA   AF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    // Departments' systems: administrators over the system's area.
    ("GET", "/api/v1/departments/{code}/systems", "  AA   AH   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/departments/{code}/systems", " AA   AF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("DELETE", "/api/v1/departments/{code}/systems/{id}", "AA AN NN NN NN NN NN NN NN NN UU"),
    // Webhook subscriptions: administrators over their area.
    ("GET", "/api/v1/webhooks", "                     AA   AH   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/webhooks", "                    AA   AF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("DELETE", "/api/v1/webhooks/{id}", "              AA   AN   NN   NN   NN   NN   NN   NN   NN   NN   UU"),
    ("POST", "/api/v1/webhooks/{id}/enable", "        AA   AN   NN   NN   NN   NN   NN   NN   NN   NN   UU"),
    ("POST", "/api/v1/webhooks/{id}/disable", "       AA   AN   NN   NN   NN   NN   NN   NN   NN   NN   UU"),
    ("GET", "/api/v1/webhooks/{id}/deliveries", "     AA   AN   NN   NN   NN   NN   NN   NN   NN   NN   UU"),
    ("POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", "AA AN NN NN NN NN NN NN NN NN UU"),
    // The Open311 door's client applications: administrators over the jurisdiction.
    ("GET", "/api/v1/open311/clients", "              AA   AH   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/open311/clients", "             AA   AF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("DELETE", "/api/v1/open311/clients/{id}", "     AA   AN   NN   NN   NN   NN   NN   NN   NN   NN   UU"),
    ("GET", "/api/v1/hotspots", "                      AA   AA   AA   AA   AA   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/reports", "                       AA   AH   AA   AH   AH   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/reports/{id}/csv", "              AA   AN   AA   AN   AN   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/reports/{id}/xlsx", "             AA   AN   AA   AN   AN   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/supervision-orders", "            AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    // A city-level order (issued by root) is answered by the event's handler or the district
    // ops centre below the city; those who issue or merely see it may not reply.
    ("POST", "/api/v1/supervision-orders/{id}/actions", "FF FN FF AN FN AN NN FN FN NN UU"),
    ("GET", "/api/v1/verify-queue", "                  AA   AA   AA   AA   AA   AA   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/volunteers/sign-up", "           AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA"),
    ("GET", "/api/v1/volunteers/communities", "       AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   AA"),
    // With one's own account: the first ask is taken, the second waits for it (409); `vol`
    // volunteers in the inside community already (409) and may ask for another.
    ("POST", "/api/v1/me/volunteer-applications", "   AC   AC   AC   AC   AC   AC   CA   AC   AC   AC   UU"),
    ("GET", "/api/v1/me/volunteer-applications", "    AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("GET", "/api/v1/volunteer-applications", "       AA   AH   FF   FF   AH   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/volunteer-applications/{id}/decision", "AA AN FF FF AN FF FF FF FF FF UU"),
    ("GET", "/api/v1/me/service", "                    AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("GET", "/api/v1/volunteers/ranking", "            AA   AF   AA   AF   AF   FF   AF   FF   FF   FF   UU"),
    // Tracks are for the coordinators over the worker's area, nobody else (administrators neither).
    ("GET", "/api/v1/users/{id}/track", "              FF   FF   FF   FF   AN   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/workforce", "                     AA   AA   AA   AA   AA   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/indicators", "                    AA   AA   AA   AA   AA   AA   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/indicators.csv", "                AA   AA   AA   AA   AA   AA   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/indicators/import", "            AA   FF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    // Overrides inside the caller's areas and above them (they apply there).
    ("GET", "/api/v1/indicators/{code}/overrides", "  AA   AH   AA   AH   AH   AH   FF   FF   FF   FF   UU"),
    ("PUT", "/api/v1/indicators/{code}/overrides/{area}", "AA AF AA AF FF FF FF FF FF FF UU"),
    ("DELETE", "/api/v1/indicators/{code}/overrides/{area}", "AA AF AA AF FF FF FF FF FF FF UU"),
    ("GET", "/api/v1/sensors", "                       AA   AH   AA   AH   AH   AH   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/sensors", "                      AA   AF   AA   AF   AF   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/sensors/{id}", "                  AA   AN   AA   AN   AN   AN   NN   NN   NN   NN   UU"),
    ("POST", "/api/v1/sensors/{id}/secret", "          AA   AN   AA   AN   AN   FN   NN   NN   NN   NN   UU"),
    ("POST", "/api/v1/sensors/{id}/retire", "          AA   AN   AA   AN   AN   FN   NN   NN   NN   NN   UU"),
    // Readings take a sensor's secret: no person's session is one.
    ("POST", "/api/v1/sensors/{code}/readings", "      UU   UU   UU   UU   UU   UU   UU   UU   UU   UU   UU"),
    ("GET", "/api/v1/alerts", "                        AA   AH   AA   AH   AH   AH   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/alerts/{id}/acknowledge", "      AA   AN   AA   AN   AN   FN   NN   NN   NN   NN   UU"),
    ("GET", "/api/v1/vital-signs", "                   AA   AN   AA   AN   AN   NN   NN   NN   NN   NN   UU"),
    ("GET", "/api/v1/categories", "                    AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("GET", "/api/v1/categories.csv", "                AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("POST", "/api/v1/categories/import", "            AA   FF   FF   FF   FF   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/areas", "                         AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("GET", "/api/v1/areas/{code}", "                  AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("GET", "/api/v1/areas/{code}/cells", "            AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    ("GET", "/api/v1/areas/{code}/children", "         AA   AA   AA   AA   AA   AA   AA   AA   AA   AA   UU"),
    // Last: these open events in the inside street and shorten its deadlines.
    ("GET", "/api/v1/emergencies", "                   AA   AH   AA   AH   AH   AH   HH   AH   HH   HH   UU"),
    ("POST", "/api/v1/emergencies", "                  AA   AF   AA   AF   AF   FF   FF   FF   FF   FF   UU"),
    ("POST", "/api/v1/emergencies/{id}/end", "         AA   AN   AA   AN   AN   FN   NN   FN   NN   NN   UU"),
    ("GET", "/api/v1/special-operations", "            AA   AH   AA   AH   AH   AH   HH   AH   HH   HH   UU"),
    ("POST", "/api/v1/special-operations", "           AA   AF   AA   AF   AF   FF   FF   FF   FF   FF   UU"),
    ("GET", "/api/v1/special-operations/{id}", "       AA   AN   AA   AN   AN   AN   NN   AN   NN   NN   UU"),
];

/// Which target a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    In,
    Out,
}

/// What the world holds: ids of the targets on both sides.
struct World {
    tokens: BTreeMap<&'static str, String>,
    ids: BTreeMap<&'static str, String>,
    ev_in: String,
    ev_out: String,
    evidence_in: String,
    evidence_out: String,
    /// Someone else's (not a caller's) device, notification and upload.
    other_device: String,
    other_notification: String,
    other_upload: String,
    /// Volunteer sign-ups in community 420102003001 and in 420103003001.
    application_in: String,
    application_out: String,
    erasure_in: String,
    erasure_out: String,
    client_in: String,
    client_out: String,
    call_in: String,
    call_out: String,
    hook_in: (String, String),
    hook_out: (String, String),
    system_in: String,
    system_out: String,
    /// The last weekly reports of street 420102003 and of 420103003.
    report_in: String,
    report_out: String,
    /// A sensor inside (grid 420102003001001) and outside (district 420103), each with a blue alert.
    sensor_in: String,
    sensor_out: String,
    alert_in: String,
    alert_out: String,
    /// Emergencies of street 420102003 and 420103003 (ended, so cells may declare again), and
    /// special operations over a grid of each.
    emergency_in: String,
    emergency_out: String,
    operation_in: String,
    operation_out: String,
}

impl World {
    fn token(&self, caller: &str) -> Option<&str> {
        self.tokens.get(caller).map(String::as_str)
    }
}

async fn report(app: &TestApp, token: &str, at: (f64, f64), what: &str) -> String {
    let key = uuid::Uuid::new_v4().to_string();
    let req = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({"category": "C-03-01", "lat": at.0, "lng": at.1, "description": what}));
    let (s, b) = app.send(req).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn accept(app: &TestApp, token: &str, id: &str) {
    let (s, b) = app.post(&format!("/api/v1/events/{id}/actions"), token, json!({"action": "accept"})).await;
    assert_eq!(s, 200, "{b}");
}

async fn before_photo(app: &TestApp, token: &str, event: Option<&str>) -> String {
    let mut fields = vec![("kind", "before".to_owned())];
    if let Some(e) = event {
        fields.push(("event_id", e.to_owned()));
    }
    let (s, b) = app.upload_photo(token, unique_jpeg(), &fields).await;
    assert!(s == 201 || s == 200, "{s} {b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn device(app: &TestApp, token: &str) -> String {
    let fcm = format!("fcm-{}", uuid::Uuid::new_v4().simple());
    let (s, b) = app
        .post("/api/v1/devices", token, json!({"fcm_token": fcm, "platform": "android", "app_version": "1.0"}))
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn begin_upload(app: &TestApp, token: &str, event: Option<&str>, photo: &[u8]) -> String {
    let mut body =
        json!({"kind": "before", "size": photo.len(), "sha256": gridwork_mobile_core::hash::sha256_hex(photo)});
    if let Some(e) = event {
        body["event_id"] = json!(e);
    }
    let (s, b) = app.post("/api/v1/evidence/uploads", token, body).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

/// A notification for `user` straight in the outbox (as the event loop writes them); its id.
async fn notification_for(app: &TestApp, user: &str, event: &str, token: &str) -> String {
    let (user, event) = (user.to_owned(), event.to_owned());
    app.db
        .run(move |conn| {
            let row = gridwork::queries::events::by_id(conn, &event)?.unwrap();
            gridwork::events::notify::send(conn, &[user], &row, "event_accepted", &json!({}))
        })
        .await
        .unwrap();
    let (s, b) = app.get("/api/v1/notifications", token).await;
    assert_eq!(s, 200, "{b}");
    b["notifications"][0]["id"].as_str().unwrap().to_owned()
}

/// A new supervision order on `event`, issued by `token`'s holder; its id.
async fn supervise(app: &TestApp, token: &str, event: &str) -> String {
    let (s, b) = app
        .post(&format!("/api/v1/events/{event}/actions"), token, json!({"action": "supervise", "reason": "matrix"}))
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, e) = app.get(&format!("/api/v1/events/{event}"), token).await;
    e["supervision_orders"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned()
}

/// A pending volunteer sign-up in `community`; its id.
async fn sign_up(app: &TestApp, community: &str) -> String {
    let name = format!("v{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let body = json!({"username": name, "password": PASSWORD, "display_name": "报名者", "phone": "13900003333", "community": community});
    let (s, b) = app.send(app.client.post(app.url("/api/v1/volunteers/sign-up")).json(&body)).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

/// A fresh resident of `community` who asks for their data to be erased; the request's id.
async fn erasure_request(app: &TestApp, root: &str, community: &str) -> String {
    let name = format!("r{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let body = json!({"username": name, "display_name": "居民", "password": PASSWORD});
    let (s, u) = app.post("/api/v1/users", root, body).await;
    assert_eq!(s, 201, "{u}");
    let path = format!("/api/v1/users/{}/roles", u["id"].as_str().unwrap());
    let (s, g) = app.post(&path, root, json!({"role": "resident", "scope": community})).await;
    assert_eq!(s, 201, "{g}");
    let token = app.login(&name).await;
    let (s, r) = app.post("/api/v1/me/erasure-requests", &token, json!({})).await;
    assert_eq!(s, 201, "{r}");
    r["id"].as_str().unwrap().to_owned()
}

/// A system of department `code` over `area`; its id.
async fn department_system(app: &TestApp, root: &str, code: &str, area: &str) -> String {
    let (s, b) = app
        .post(&format!("/api/v1/departments/{code}/systems"), root, json!({"name": "matrix system", "area": area}))
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

/// A webhook subscription of `area` (to a port nobody listens on); its id.
async fn webhook(app: &TestApp, root: &str, area: &str) -> String {
    let body = json!({"name": "matrix hook", "url": "http://127.0.0.1:9/hook", "area": area});
    let (s, h) = app.post("/api/v1/webhooks", root, body).await;
    assert_eq!(s, 201, "{h}");
    h["id"].as_str().unwrap().to_owned()
}

/// A hotline call at `at` whose case was not accepted (closed, so its caller waits for the
/// callback); the call's id.
async fn closed_call(app: &TestApp, root: &str, at: (f64, f64)) -> String {
    let reference = format!("12345-{}", uuid::Uuid::new_v4().simple());
    // Another category than the targets': a duplicate would join them.
    let body = json!({"reference": reference, "caller_name": "来电人", "caller_phone": "13800001234",
                      "category": "E-05-01", "lat": at.0, "lng": at.1, "description": format!("matrix call {reference}")});
    let (s, c) = app.post("/api/v1/hotline/calls", root, body).await;
    assert_eq!(s, 201, "{c}");
    let event = c["event_id"].as_str().unwrap();
    let reject = json!({"action": "reject", "reason": "matrix"});
    let (s, b) = app.post(&format!("/api/v1/events/{event}/actions"), root, reject).await;
    assert_eq!(s, 200, "{b}");
    c["id"].as_str().unwrap().to_owned()
}

/// A client application of the Open311 door with `area` as its jurisdiction; its id.
async fn open311_client(app: &TestApp, root: &str, area: &str) -> String {
    let (s, c) = app.post("/api/v1/open311/clients", root, json!({"name": "matrix app", "area": area})).await;
    assert_eq!(s, 201, "{c}");
    c["id"].as_str().unwrap().to_owned()
}

/// A sensor registered by root at a point, with its id and secret.
async fn sensor(app: &TestApp, root: &str, at: (f64, f64)) -> (String, String, String) {
    let code = format!("m-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let body = json!({"code": code, "name": "matrix sensor", "indicators": ["manhole_tilt"], "lat": at.0, "lng": at.1,
                      "expected_interval_secs": 600});
    let (s, b) = app.post("/api/v1/sensors", root, body).await;
    assert_eq!(s, 201, "{b}");
    (b["id"].as_str().unwrap().to_owned(), code, b["secret"].as_str().unwrap().to_owned())
}

/// A fresh sensor at a point with a blue alert raised; the alert's id.
async fn alert(app: &TestApp, root: &str, at: (f64, f64)) -> (String, String) {
    let (id, code, secret) = sensor(app, root, at).await;
    let reading =
        json!({"readings": [{"indicator": "manhole_tilt", "value": 6.0, "at": chrono::Utc::now().to_rfc3339()}]});
    let req = app.client.post(app.url(&format!("/api/v1/sensors/{code}/readings"))).bearer_auth(secret).json(&reading);
    let (s, b) = app.send(req).await;
    assert_eq!(s, 200, "{b}");
    let (_, list) = app.get("/api/v1/alerts", root).await;
    let alert = list["alerts"].as_array().unwrap().iter().find(|a| a["sensor"] == code.as_str()).unwrap()["id"].clone();
    (id, alert.as_str().unwrap().to_owned())
}

/// Ends whatever emergency runs on a street (as root), so a cell may declare one.
async fn calm(app: &TestApp, root: &str, street: &str) {
    let (_, list) = app.get("/api/v1/emergencies", root).await;
    for e in list["emergencies"].as_array().unwrap() {
        if e["area"] == street && e.get("ended_at").is_none() {
            let url = format!("/api/v1/emergencies/{}/end", e["id"].as_str().unwrap());
            assert_eq!(app.post(&url, root, json!({"reason": "matrix"})).await.0, 200);
        }
    }
}

fn emergency_body(street: &str) -> Value {
    let end = (chrono::Utc::now() + chrono::Duration::hours(6)).to_rfc3339();
    json!({"area": street, "reason": "matrix", "expected_end_at": end})
}

/// A running emergency of a street (any earlier one ended first).
async fn emergency(app: &TestApp, root: &str, street: &str) -> String {
    calm(app, root, street).await;
    let (s, b) = app.post("/api/v1/emergencies", root, emergency_body(street)).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

fn operation_body(grid: &str) -> Value {
    let end = (chrono::Utc::now() + chrono::Duration::hours(6)).to_rfc3339();
    json!({"name": "matrix", "area": grid, "target_level": "compound", "category": "C-06-01", "description": "matrix", "ends_at": end})
}

/// Thresholds an override sets.
fn override_body() -> Value {
    json!({"thresholds": {"blue": 2.0, "yellow": 4.0, "orange": 8.0, "red": 16.0}, "hysteresis": 0.5})
}

async fn world(app: &TestApp) -> World {
    let crew = app.street_crew().await;
    let root = crew.admin.clone();
    let (s, b) = app
        .post(
            "/api/v1/departments",
            &root,
            json!({"code": "water-420102", "name": "江岸区水务局", "area_code": "420102"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    app.user("d.admin", Role::Admin, Some("420102")).await;
    app.user("city.op", Role::CityOperator, Some("420100")).await;
    app.user("dist.op", Role::DistrictOperator, Some("420102")).await;
    app.user("vol", Role::Volunteer, Some("420102003001")).await;
    app.user_in_dept("dept", Role::DeptHandler, Some("420102"), Some("water-420102")).await;
    app.user("other.coord", Role::Coordinator, Some("420102003")).await;
    // The other district's people.
    app.user("out.coord", Role::Coordinator, Some("420103003")).await;
    app.user("out.worker", Role::GridWorker, Some("420103003001001")).await;
    app.user("out.res", Role::Resident, Some("420100")).await;
    // An account with no grant at all.
    let (s, b) = app
        .post("/api/v1/users", &root, json!({"username": "norole", "display_name": "No Role", "password": PASSWORD}))
        .await;
    assert_eq!(s, 201, "{b}");

    let mut tokens = BTreeMap::new();
    tokens.insert("root", root.clone());
    tokens.insert("coord", crew.coord.clone());
    tokens.insert("wang", crew.wang.clone());
    tokens.insert("chen", crew.chen.clone());
    for name in ["d.admin", "city.op", "dist.op", "vol", "dept", "norole"] {
        tokens.insert(name, app.login(name).await);
    }
    let mut ids = BTreeMap::new();
    for name in ["li.na", "out.worker", "wang", "norole"] {
        ids.insert(name, app.id_of(name).await);
    }
    let out_coord = app.login("out.coord").await;
    let out_worker = app.login("out.worker").await;
    let out_res = app.login("out.res").await;
    let li = crew.li.clone();
    let other_coord = app.login("other.coord").await;

    // One event inside (reported by chen, given to wang) and one outside (given to out.worker).
    app.on_duty(&crew.wang, IN).await;
    app.on_duty(&out_worker, OUT).await;
    let ev_in = report(app, &crew.chen, IN, "matrix in").await;
    accept(app, &crew.coord, &ev_in).await;
    let ev_out = report(app, &out_res, OUT, "matrix out").await;
    accept(app, &out_coord, &ev_out).await;
    let (_, e) = app.get(&format!("/api/v1/events/{ev_in}"), &root).await;
    assert_eq!(e["assignees"], json!([ids["wang"]]), "{e}");
    let evidence_in = before_photo(app, &crew.chen, Some(&ev_in)).await;
    let evidence_out = before_photo(app, &out_res, Some(&ev_out)).await;
    let other_device = device(app, &li).await;
    let other_notification = notification_for(app, &ids["li.na"], &ev_in, &li).await;
    let other_upload = begin_upload(app, &other_coord, None, &unique_jpeg()).await;
    let application_in = sign_up(app, "420102003001").await;
    let application_out = sign_up(app, "420103003001").await;
    let erasure_in = erasure_request(app, &root, "420102003001").await;
    let erasure_out = erasure_request(app, &root, "420103003001").await;
    let client_in = open311_client(app, &root, "420102").await;
    let client_out = open311_client(app, &root, "420103").await;
    let (hook_in, hook_out) = (webhook(app, &root, "420102").await, webhook(app, &root, "420103").await);
    let (s, b) = app
        .post(
            "/api/v1/departments",
            &root,
            json!({"code": "water-420103", "name": "江汉区水务局", "area_code": "420103"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let system_in = department_system(app, &root, "water-420102", "420102").await;
    let system_out = department_system(app, &root, "water-420103", "420103").await;
    let (s, b) = app.put("/api/v1/open-data/areas/420102", &root, json!({})).await;
    assert_eq!(s, 200, "{b}");
    let call_in = closed_call(app, &root, IN).await;
    let call_out = closed_call(app, &root, OUT).await;
    // Each subscription got the messages of its area's call: one delivery of each to replay.
    let first_delivery = |hook: String| async move {
        app.db.run(move |conn| Ok(gridwork::queries::webhooks::deliveries(conn, &hook, 1)?)).await.unwrap()[0]
            .id
            .clone()
    };
    let hook_in = (hook_in.clone(), first_delivery(hook_in).await);
    let hook_out = (hook_out.clone(), first_delivery(hook_out).await);
    let state = app.state.clone();
    let (report_in, report_out) = app
        .db
        .run(move |conn| {
            gridwork::reports::produce(conn, &state.areas(), gridwork::models::now())?;
            let mut weekly = |area: &str| {
                gridwork::queries::reports::list(conn, Some("weekly"), Some(area)).map(|r| r[0].id.clone())
            };
            Ok((weekly("420102003")?, weekly("420103003")?))
        })
        .await
        .unwrap();
    let (sensor_in, alert_in) = alert(app, &root, IN).await;
    let (sensor_out, alert_out) = alert(app, &root, OUT).await;
    for area in ["420102003", "420103003"] {
        let (s, b) =
            app.put(&format!("/api/v1/indicators/manhole_tilt/overrides/{area}"), &root, override_body()).await;
        assert_eq!(s, 200, "{b}");
    }
    let emergency_in = emergency(app, &root, "420102003").await;
    let emergency_out = emergency(app, &root, "420103003").await;
    calm(app, &root, "420102003").await;
    calm(app, &root, "420103003").await;
    let mut operations = vec![];
    for grid in ["420102003001001", "420103003001001"] {
        let (s, b) = app.post("/api/v1/special-operations", &root, operation_body(grid)).await;
        assert_eq!(s, 201, "{b}");
        operations.push(b["id"].as_str().unwrap().to_owned());
    }
    let operation_out = operations.pop().unwrap();
    let operation_in = operations.pop().unwrap();
    World {
        emergency_in,
        emergency_out,
        operation_in,
        operation_out,
        sensor_in,
        sensor_out,
        alert_in,
        alert_out,
        tokens,
        ids,
        ev_in,
        ev_out,
        evidence_in,
        evidence_out,
        other_device,
        other_notification,
        other_upload,
        application_in,
        application_out,
        erasure_in,
        erasure_out,
        client_in,
        client_out,
        call_in,
        call_out,
        hook_in,
        hook_out,
        system_in,
        system_out,
        report_in,
        report_out,
    }
}

/// Builds the request of one cell; some cells first make the caller's own object.
async fn request(
    app: &TestApp,
    w: &World,
    caller: &str,
    method: &str,
    path: &str,
    t: Target,
) -> reqwest::RequestBuilder {
    let pick = |a: &str, b: &str| if t == Target::In { a.to_owned() } else { b.to_owned() };
    let event = pick(&w.ev_in, &w.ev_out);
    let user = pick(&w.ids["li.na"], &w.ids["out.worker"]);
    let own = w.token(caller);
    let root = w.token("root").unwrap();
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let (url, body): (String, Option<Value>) = match (method, path) {
        ("POST", "/api/v1/auth/login") => {
            let name = if caller == "anon" { "chen" } else { caller };
            ("/api/v1/auth/login".into(), Some(json!({"username": name, "password": PASSWORD})))
        }
        ("POST", "/api/v1/auth/logout") => {
            // A session of its own, so the caller's main one survives.
            let token = if caller == "anon" { None } else { Some(app.login(caller).await) };
            let mut req = app.client.post(app.url("/api/v1/auth/logout")).json(&json!({}));
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            return req;
        }
        ("POST", "/api/v1/me/password") => {
            (path.into(), Some(json!({"current_password": "not-the-password", "new_password": "another-password-1"})))
        }
        ("POST", "/api/v1/users") => (
            path.into(),
            Some(json!({"username": format!("u{}", &unique[..12]), "display_name": "新人", "password": PASSWORD})),
        ),
        ("GET", "/api/v1/users/{id}") => (format!("/api/v1/users/{user}"), None),
        ("PATCH", "/api/v1/users/{id}") => (format!("/api/v1/users/{user}"), Some(json!({"is_active": true}))),
        ("POST", "/api/v1/users/{id}/revoke-sessions") => {
            (format!("/api/v1/users/{user}/revoke-sessions"), Some(json!({})))
        }
        ("POST", "/api/v1/users/{id}/roles") => {
            let scope = pick("420102003001", "420103003001");
            (format!("/api/v1/users/{user}/roles"), Some(json!({"role": "volunteer", "scope": scope})))
        }
        ("DELETE", "/api/v1/users/{id}/roles/{assignment_id}") => {
            let scope = pick("420102003001", "420103003001");
            let (s, g) = app
                .post(&format!("/api/v1/users/{user}/roles"), root, json!({"role": "volunteer", "scope": scope}))
                .await;
            assert_eq!(s, 201, "{g}");
            (format!("/api/v1/users/{user}/roles/{}", g["id"].as_str().unwrap()), None)
        }
        ("POST", "/api/v1/departments") => {
            let area = pick("420102", "420103");
            (path.into(), Some(json!({"code": format!("d{}", &unique[..12]), "name": "部门", "area_code": area})))
        }
        ("GET", "/api/v1/areas/lookup") => {
            let at = pick("30.5825", "30.5825");
            (format!("/api/v1/areas/lookup?lat={at}&lng={}", if t == Target::In { IN.1 } else { OUT.1 }), None)
        }
        ("POST", "/api/v1/areas/import") => {
            let mut req = app
                .client
                .post(app.url("/api/v1/areas/import?dry_run=true"))
                .json(&gridwork::areas::demo_city::feature_collection());
            if let Some(token) = own {
                req = req.bearer_auth(token);
            }
            return req;
        }
        ("PUT", "/api/v1/me/duty") => (path.into(), Some(json!({"on_duty": true}))),
        ("POST", "/api/v1/me/location") => {
            let at = if t == Target::In { IN } else { OUT };
            let ping = json!({"lat": at.0, "lng": at.1, "recorded_at": chrono::Utc::now().to_rfc3339()});
            (path.into(), Some(json!({"pings": [ping]})))
        }
        ("POST", "/api/v1/devices") => {
            (path.into(), Some(json!({"fcm_token": format!("fcm-{unique}"), "platform": "ios", "app_version": "1.0"})))
        }
        ("DELETE", "/api/v1/devices/{id}") => {
            let id = match (t, own) {
                (Target::In, Some(token)) => device(app, token).await,
                _ => w.other_device.clone(),
            };
            (format!("/api/v1/devices/{id}"), None)
        }
        ("POST", "/api/v1/notifications/{id}/ack") => {
            let id = match (t, own) {
                (Target::In, Some(token)) => {
                    let me = app.id_of(caller).await;
                    notification_for(app, &me, &w.ev_in, token).await
                }
                _ => w.other_notification.clone(),
            };
            (format!("/api/v1/notifications/{id}/ack"), Some(json!({"read": true})))
        }
        ("POST", "/api/v1/events") => {
            let at = if t == Target::In { IN } else { OUT };
            let mut req = app
                .client
                .post(app.url(path))
                .header("Idempotency-Key", unique.clone())
                // Another category than the targets': a duplicate report would follow them.
                .json(&json!({"category": "E-05-01", "lat": at.0, "lng": at.1, "description": "matrix report"}));
            if let Some(token) = own {
                req = req.bearer_auth(token);
            }
            return req;
        }
        ("POST", "/api/v1/events/bulk") => {
            (path.into(), Some(json!({"events": [event], "action": {"action": "supervise", "reason": "matrix"}})))
        }
        ("GET", "/api/v1/events/{id}") => (format!("/api/v1/events/{event}"), None),
        ("POST", "/api/v1/events/{id}/actions") => {
            (format!("/api/v1/events/{event}/actions"), Some(json!({"action": "supervise", "reason": "matrix"})))
        }
        ("POST", "/api/v1/events/{id}/split") => (
            format!("/api/v1/events/{event}/split"),
            Some(
                json!({"parts": [{"category": "C-03-01", "description": "一"}, {"category": "E-01-02", "description": "二"}], "reason": "two problems"}),
            ),
        ),
        ("GET", "/api/v1/events/{id}/evidence") => (format!("/api/v1/events/{event}/evidence"), None),
        ("GET", "/api/v1/events/{id}/candidates") => (format!("/api/v1/events/{event}/candidates"), None),
        ("POST", "/api/v1/evidence") => {
            let form = reqwest::multipart::Form::new()
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(unique_jpeg()).file_name("p.png").mime_str("image/png").unwrap(),
                )
                .text("kind", "before")
                .text("event_id", event);
            let mut req = app.client.post(app.url(path)).multipart(form);
            if let Some(token) = own {
                req = req.bearer_auth(token);
            }
            return req;
        }
        ("POST", "/api/v1/evidence/uploads") => {
            let photo = unique_jpeg();
            let body = json!({"kind": "before", "event_id": event, "size": photo.len(),
                "sha256": gridwork_mobile_core::hash::sha256_hex(&photo)});
            (path.into(), Some(body))
        }
        ("GET" | "PUT", "/api/v1/evidence/uploads/{id}") => {
            let photo = unique_jpeg();
            let id = match (t, own) {
                (Target::In, Some(token)) => begin_upload(app, token, None, &photo).await,
                _ => w.other_upload.clone(),
            };
            let url = app.url(&format!("/api/v1/evidence/uploads/{id}"));
            let mut req = if method == "GET" {
                app.client.get(url)
            } else {
                app.client.put(url).header("Upload-Offset", "0").body(photo)
            };
            if let Some(token) = own {
                req = req.bearer_auth(token);
            }
            return req;
        }
        ("GET", "/api/v1/evidence/{id}") => {
            (format!("/api/v1/evidence/{}", pick(&w.evidence_in, &w.evidence_out)), None)
        }
        ("GET", "/api/v1/evidence/{id}/photo") => {
            (format!("/api/v1/evidence/{}/photo", pick(&w.evidence_in, &w.evidence_out)), None)
        }
        ("GET", "/api/v1/evidence/{id}/thumbnail") => {
            (format!("/api/v1/evidence/{}/thumbnail", pick(&w.evidence_in, &w.evidence_out)), None)
        }
        ("GET", "/api/v1/reports/{id}/csv" | "/api/v1/reports/{id}/xlsx") => {
            (path.replace("{id}", &pick(&w.report_in, &w.report_out)), None)
        }
        ("GET", "/api/v1/evaluation") => {
            let to = chrono::Utc::now() + chrono::Duration::hours(1);
            let from = to - chrono::Duration::days(2);
            let q = format!("from={}&to={}", from.format("%Y-%m-%dT%H:%M:%SZ"), to.format("%Y-%m-%dT%H:%M:%SZ"));
            (format!("/api/v1/evaluation?{q}"), None)
        }
        ("POST", "/api/v1/categories/import") => {
            let (_, csv) = {
                let res = app.client.get(app.url("/api/v1/categories.csv")).bearer_auth(root).send().await.unwrap();
                (res.status(), res.text().await.unwrap())
            };
            let mut req = app.client.post(app.url(path)).header("content-type", "text/csv").body(csv);
            if let Some(token) = own {
                req = req.bearer_auth(token);
            }
            return req;
        }
        ("GET", "/api/v1/areas/{code}") => (format!("/api/v1/areas/{}", pick("420102003", "420103003")), None),
        ("GET", "/api/v1/areas/{code}/cells") => {
            (format!("/api/v1/areas/{}/cells", pick("420102003", "420103003")), None)
        }
        ("GET", "/api/v1/areas/{code}/children") => {
            (format!("/api/v1/areas/{}/children", pick("420102003", "420103003")), None)
        }
        // The density of the street each target lies in: counted only where the caller reaches.
        ("GET", "/api/v1/events/density") => {
            (format!("/api/v1/events/density?area={}", pick("420102003", "420103003")), None)
        }
        ("POST", "/api/v1/volunteers/sign-up") => {
            let community = pick("420102003001", "420103003001");
            let body = json!({"username": format!("v{}", &unique[..12]), "password": PASSWORD,
                "display_name": "报名者", "phone": "13900003333", "community": community});
            (path.into(), Some(body))
        }
        ("POST", "/api/v1/me/volunteer-applications") => {
            let community = pick("420102003001", "420103003001");
            (path.into(), Some(json!({"phone": "13900003333", "community": community})))
        }
        ("POST", "/api/v1/volunteer-applications/{id}/decision") => {
            let id = sign_up(app, &pick("420102003001", "420103003001")).await;
            (format!("/api/v1/volunteer-applications/{id}/decision"), Some(json!({"decision": "approve"})))
        }
        ("POST", "/api/v1/me/erasure-requests") => (path.into(), Some(json!({}))),
        ("POST", "/api/v1/areas/lookup/batch") => {
            let at = if t == Target::In { IN } else { OUT };
            (path.into(), Some(json!({"points": [{"lat": at.0, "lng": at.1}]})))
        }
        ("GET", "/api/v1/open-data/events.csv" | "/api/v1/open-data/events.geojson") => {
            (format!("{path}?area={}", pick("420102", "420103")), None)
        }
        ("PUT" | "DELETE", "/api/v1/open-data/areas/{code}") => {
            (path.replace("{code}", &pick("420102", "420103")), None)
        }
        ("GET", "/api/v1/departments/{code}/systems") => {
            (path.replace("{code}", &pick("water-420102", "water-420103")), None)
        }
        ("POST", "/api/v1/departments/{code}/systems") => (
            path.replace("{code}", &pick("water-420102", "water-420103")),
            Some(json!({"name": "matrix system", "area": pick("420102", "420103")})),
        ),
        // Revoking is for good: a fresh system for every cell.
        ("DELETE", "/api/v1/departments/{code}/systems/{id}") => {
            let (code, area) = if t == Target::In { ("water-420102", "420102") } else { ("water-420103", "420103") };
            let id = department_system(app, root, code, area).await;
            (format!("/api/v1/departments/{code}/systems/{id}"), None)
        }
        ("POST", "/api/v1/webhooks") => (
            path.into(),
            Some(json!({"name": "matrix hook", "url": "http://127.0.0.1:9/hook", "area": pick("420102", "420103")})),
        ),
        // Deleting is for good: a fresh subscription for every cell.
        ("DELETE", "/api/v1/webhooks/{id}") => {
            let id = webhook(app, root, &pick("420102", "420103")).await;
            (format!("/api/v1/webhooks/{id}"), None)
        }
        ("POST", "/api/v1/webhooks/{id}/enable" | "/api/v1/webhooks/{id}/disable") => {
            let hook = if t == Target::In { &w.hook_in.0 } else { &w.hook_out.0 };
            (path.replace("{id}", hook), Some(json!({})))
        }
        ("GET", "/api/v1/webhooks/{id}/deliveries") => {
            let hook = if t == Target::In { &w.hook_in.0 } else { &w.hook_out.0 };
            (path.replace("{id}", hook), None)
        }
        ("POST", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay") => {
            let (hook, delivery) = if t == Target::In { &w.hook_in } else { &w.hook_out };
            (path.replace("{id}", hook).replace("{delivery_id}", delivery), Some(json!({})))
        }
        ("POST", "/api/v1/hotline/calls") => {
            let at = if t == Target::In { IN } else { OUT };
            let body = json!({"reference": format!("12345-{unique}"), "caller_name": "来电人", "caller_phone": "13800001234",
                              "category": "E-05-01", "lat": at.0, "lng": at.1, "description": format!("matrix call {unique}")});
            (path.into(), Some(body))
        }
        // Called back once: a fresh closed call for every cell.
        ("POST", "/api/v1/hotline/calls/{id}/callback") => {
            let id = closed_call(app, root, if t == Target::In { IN } else { OUT }).await;
            (format!("/api/v1/hotline/calls/{id}/callback"), Some(json!({"satisfied": true})))
        }
        ("POST", "/api/v1/open311/clients") => {
            (path.into(), Some(json!({"name": "matrix app", "area": pick("420102", "420103")})))
        }
        // Revoking is for good: a fresh client for every cell.
        ("DELETE", "/api/v1/open311/clients/{id}") => {
            let id = open311_client(app, root, &pick("420102", "420103")).await;
            (format!("/api/v1/open311/clients/{id}"), None)
        }
        // Carrying it out erases its person: a fresh request for every cell.
        ("POST", "/api/v1/erasure-requests/{id}/decision") => {
            let id = erasure_request(app, root, &pick("420102003001", "420103003001")).await;
            (format!("/api/v1/erasure-requests/{id}/decision"), Some(json!({"decision": "carry_out"})))
        }
        ("GET", "/api/v1/volunteers/ranking") => {
            (format!("/api/v1/volunteers/ranking?area={}", pick("420102003001", "420103003001")), None)
        }
        ("POST", "/api/v1/supervision-orders/{id}/actions") => {
            let order = supervise(app, root, &event).await;
            (format!("/api/v1/supervision-orders/{order}/actions"), Some(json!({"action": "reply", "text": "已处理"})))
        }
        ("GET", "/api/v1/users/{id}/track") => (format!("/api/v1/users/{user}/track"), None),
        ("POST", "/api/v1/indicators/import") => {
            let csv = gridwork::sensing::indicators::DEFAULT_CSV;
            let mut req = app.client.post(app.url(path)).header("content-type", "text/csv").body(csv);
            if let Some(token) = own {
                req = req.bearer_auth(token);
            }
            return req;
        }
        ("PUT", "/api/v1/indicators/{code}/overrides/{area}") => (
            format!("/api/v1/indicators/manhole_tilt/overrides/{}", pick("420102003", "420103003")),
            Some(override_body()),
        ),
        // Removing is for good: root sets it again before every cell.
        ("DELETE", "/api/v1/indicators/{code}/overrides/{area}") => {
            let url = format!("/api/v1/indicators/manhole_tilt/overrides/{}", pick("420102003001", "420103003001"));
            assert_eq!(app.put(&url, root, override_body()).await.0, 200);
            (url, None)
        }
        ("GET", "/api/v1/indicators/{code}/overrides") => ("/api/v1/indicators/manhole_tilt/overrides".into(), None),
        ("POST", "/api/v1/sensors") => {
            let at = if t == Target::In { IN } else { OUT };
            let body = json!({"code": format!("m-{}", &unique[..12]), "name": "matrix", "indicators": ["manhole_tilt"],
                              "lat": at.0, "lng": at.1, "expected_interval_secs": 600});
            (path.into(), Some(body))
        }
        ("GET", "/api/v1/sensors/{id}") => (format!("/api/v1/sensors/{}", pick(&w.sensor_in, &w.sensor_out)), None),
        // A new secret or retirement is for good: a fresh sensor for every cell.
        ("POST", "/api/v1/sensors/{id}/secret" | "/api/v1/sensors/{id}/retire") => {
            let (id, _, _) = sensor(app, root, if t == Target::In { IN } else { OUT }).await;
            (path.replace("{id}", &id), Some(json!({})))
        }
        ("POST", "/api/v1/sensors/{code}/readings") => {
            let reading = json!({"readings": [{"indicator": "manhole_tilt", "value": 1.0, "at": chrono::Utc::now().to_rfc3339()}]});
            (format!("/api/v1/sensors/{}/readings", pick("nobody-in", "nobody-out")), Some(reading))
        }
        ("POST", "/api/v1/alerts/{id}/acknowledge") => {
            let (_, id) = alert(app, root, if t == Target::In { IN } else { OUT }).await;
            (format!("/api/v1/alerts/{id}/acknowledge"), Some(json!({})))
        }
        ("POST", "/api/v1/emergencies") => {
            let street = pick("420102003", "420103003");
            calm(app, root, &street).await;
            (path.into(), Some(emergency_body(&street)))
        }
        ("POST", "/api/v1/emergencies/{id}/end") => {
            let id = emergency(app, root, &pick("420102003", "420103003")).await;
            (format!("/api/v1/emergencies/{id}/end"), Some(json!({"reason": "matrix"})))
        }
        ("POST", "/api/v1/special-operations") => {
            (path.into(), Some(operation_body(&pick("420102003001001", "420103003001001"))))
        }
        ("GET", "/api/v1/special-operations/{id}") => {
            (format!("/api/v1/special-operations/{}", pick(&w.operation_in, &w.operation_out)), None)
        }
        ("GET", "/api/v1/vital-signs") => {
            (format!("/api/v1/vital-signs?area={}", pick("420102003", "420103003")), None)
        }
        ("GET", p) => (p.to_owned(), None),
        (m, p) => panic!("no request for {m} {p}: add one to the matrix"),
    };
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(method, app.url(&url));
    if let Some(body) = body {
        req = req.json(&body);
    }
    if let Some(token) = own {
        req = req.bearer_auth(token);
    }
    req
}

/// The letter of an answer (see `TABLE`).
async fn outcome(res: reqwest::Response, method: &str, path: &str, w: &World, t: Target) -> char {
    let status = res.status().as_u16();
    if path == "/api/v1/events/stream" {
        // The stream never ends on its own; its status is the answer.
        return if status == 200 { 'A' } else { letter(status) };
    }
    let bytes = res.bytes().await.unwrap();
    if !(200..300).contains(&status) {
        return letter(status);
    }
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let listed = |key: &str, id: &str| body[key].as_array().is_some_and(|a| a.iter().any(|x| x["id"] == id));
    match (method, path) {
        ("GET", "/api/v1/users") => {
            let id = if t == Target::In { &w.ids["li.na"] } else { &w.ids["out.worker"] };
            if listed("users", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/events") => {
            let id = if t == Target::In { &w.ev_in } else { &w.ev_out };
            if listed("events", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/volunteer-applications") => {
            let id = if t == Target::In { &w.application_in } else { &w.application_out };
            if listed("applications", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/departments/{code}/systems") => {
            let id = if t == Target::In { &w.system_in } else { &w.system_out };
            if listed("systems", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/webhooks") => {
            let id = if t == Target::In { &w.hook_in.0 } else { &w.hook_out.0 };
            if listed("webhooks", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/hotline/calls") => {
            let id = if t == Target::In { &w.call_in } else { &w.call_out };
            if listed("calls", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/emergencies") => {
            let id = if t == Target::In { &w.emergency_in } else { &w.emergency_out };
            if listed("emergencies", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/special-operations") => {
            let id = if t == Target::In { &w.operation_in } else { &w.operation_out };
            if listed("operations", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/sensors") => {
            let id = if t == Target::In { &w.sensor_in } else { &w.sensor_out };
            if listed("sensors", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/alerts") => {
            let id = if t == Target::In { &w.alert_in } else { &w.alert_out };
            if listed("alerts", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/indicators/{code}/overrides") => {
            let area = if t == Target::In { "420102003" } else { "420103003" };
            let shown = body["overrides"].as_array().is_some_and(|a| a.iter().any(|x| x["area"] == area));
            if shown { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/open311/clients") => {
            let id = if t == Target::In { &w.client_in } else { &w.client_out };
            if listed("clients", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/erasure-requests") => {
            let id = if t == Target::In { &w.erasure_in } else { &w.erasure_out };
            if listed("requests", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/reports") => {
            let id = if t == Target::In { &w.report_in } else { &w.report_out };
            if listed("reports", id) { 'A' } else { 'H' }
        }
        ("GET", "/api/v1/events/density") => {
            if body["total"].as_u64().is_some_and(|n| n > 0) {
                'A'
            } else {
                'H'
            }
        }
        ("POST", "/api/v1/events/bulk") => {
            let r = &body["results"][0];
            if r["ok"] == true { 'A' } else { letter(r["error"]["error"].as_str().map_or(0, code_status)) }
        }
        _ => 'A',
    }
}

fn code_status(code: &str) -> u16 {
    match code {
        "forbidden" => 403,
        "not_found" => 404,
        "unauthorized" => 401,
        "validation_failed" => 422,
        _ => 0,
    }
}

fn letter(status: u16) -> char {
    match status {
        401 => 'U',
        403 => 'F',
        404 => 'N',
        422 => 'V',
        409 => 'C',
        _ => '?',
    }
}

both_backends! {
    async fn every_route_every_role_inside_and_outside(app: TestApp) {
        let w = world(&app).await;
        // The table covers exactly what the server registers.
        let registered: BTreeSet<(String, String)> =
            gridwork::api::route_table().into_iter().map(|(m, p)| (m.to_string(), p.to_owned())).collect();
        let expected: BTreeSet<(String, String)> =
            TABLE.iter().map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())).collect();
        let missing: Vec<_> = registered.difference(&expected).collect();
        assert!(missing.is_empty(), "routes without an expectation in the scope matrix: {missing:?}");
        let stale: Vec<_> = expected.difference(&registered).collect();
        assert!(stale.is_empty(), "expectations for routes the server does not have: {stale:?}");

        let mut wrong = Vec::new();
        let mut cells = 0;
        for (method, path, row) in TABLE {
            let row: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(row.len(), CALLERS.len(), "{method} {path}: one cell per caller");
            for (caller, cell) in CALLERS.iter().zip(&row) {
                let want: Vec<char> = cell.chars().collect();
                for (t, want) in [(Target::In, want[0]), (Target::Out, want[1])] {
                    let req = request(&app, &w, caller, method, path, t).await;
                    let res = req.send().await.unwrap();
                    let status = res.status().as_u16();
                    let got = outcome(res, method, path, &w, t).await;
                    cells += 1;
                    if got != want {
                        wrong.push(format!("{method} {path} as {caller} ({t:?}): want {want}, got {got} ({status})"));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{} of {cells} cells differ:\n{}", wrong.len(), wrong.join("\n"));

        // Out of reach looks exactly like missing: same status, code and field.
        let vol = w.token("vol").unwrap();
        let missing = uuid::Uuid::now_v7().to_string();
        let answer = |v: &Value| (v["error"].clone(), v["fields"].as_object().map(|f| f.keys().cloned().collect::<Vec<_>>()));
        for path in ["/api/v1/events/{}", "/api/v1/events/{}/evidence"] {
            let (s1, b1) = app.get(&path.replace("{}", &w.ev_out), vol).await;
            let (s2, b2) = app.get(&path.replace("{}", &missing), vol).await;
            assert_eq!((s1, answer(&b1)), (s2, answer(&b2)), "{path}");
        }
        let begin = |event: &str| json!({"kind": "before", "event_id": event, "size": 10, "sha256": "a".repeat(64)});
        let (s1, b1) = app.post("/api/v1/evidence/uploads", vol, begin(&w.ev_out)).await;
        let (s2, b2) = app.post("/api/v1/evidence/uploads", vol, begin(&missing)).await;
        assert_eq!((s1, answer(&b1)), (s2, answer(&b2)));
        assert_eq!(b1["fields"]["event_id"]["code"], "unknown_event", "{b1}");
        let coord = w.token("coord").unwrap();
        let (s1, b1) = app.get(&format!("/api/v1/users/{}", w.ids["out.worker"]), coord).await;
        let (s2, b2) = app.get(&format!("/api/v1/users/{missing}"), coord).await;
        assert_eq!((s1, answer(&b1)), (s2, answer(&b2)));
    }

    async fn list_filters_only_narrow(app: TestApp) {
        let w = world(&app).await;
        let everyone_else = &w.ids["out.worker"];
        let hostile = [
            "mine=true".to_owned(),
            format!("mine=true&assignee={everyone_else}"),
            format!("assignee={everyone_else}"),
            "assignee=me".to_owned(),
            "assignee=%25".to_owned(),
            "assignee=%22%25".to_owned(),
            "assignee=%27%20OR%201%3D1%20--".to_owned(),
            "area=420103".to_owned(),
            "area=420102".to_owned(),
            "area=420100".to_owned(),
            "state=dispatched".to_owned(),
            "category=%25".to_owned(),
            "category=C-03-01".to_owned(),
            "overdue=true".to_owned(),
            "extension_requested=true".to_owned(),
            "supervised=true".to_owned(),
            "grade=critical".to_owned(),
            "source=volunteer&grade=general".to_owned(),
            "extension_requested=false&supervised=false".to_owned(),
            "from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z".to_owned(),
            "limit=500".to_owned(),
        ];
        for caller in CALLERS.iter().filter(|c| **c != "anon") {
            let token = w.token(caller).unwrap();
            let ids = |b: &Value| -> BTreeSet<String> {
                b["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
            };
            let (s, all) = app.get("/api/v1/events?limit=500", token).await;
            assert_eq!(s, 200, "{caller}: {all}");
            let visible = ids(&all);
            for q in &hostile {
                let (s, b) = app.get(&format!("/api/v1/events?{q}"), token).await;
                if s == 422 {
                    continue;
                }
                assert_eq!(s, 200, "{caller} ?{q}: {b}");
                let got = ids(&b);
                assert!(got.is_subset(&visible), "{caller} ?{q} widened the view: {:?}", got.difference(&visible));
            }
            // Garbage assignees are refused by name, never matched as a pattern.
            let (s, b) = app.get("/api/v1/events?assignee=%25", token).await;
            assert_eq!((s, b["fields"]["assignee"]["code"].as_str()), (422, Some("invalid")), "{caller}: {b}");
        }
        // The leak of finding 2: a caller with no role saw every district with these.
        let norole = w.token("norole").unwrap();
        for q in [format!("mine=true&assignee={}", w.ids["wang"]), format!("assignee={}", w.ids["wang"])] {
            let (s, b) = app.get(&format!("/api/v1/events?{q}"), norole).await;
            assert_eq!((s, b["events"].as_array().map(Vec::len)), (200, Some(0)), "?{q}: {b}");
        }
        // User lists: a scoped manager sees only whom it reaches, whatever the paging.
        let coord = w.token("coord").unwrap();
        for q in ["", "?limit=1", "?limit=1000&offset=0", "?offset=1"] {
            let (s, b) = app.get(&format!("/api/v1/users{q}"), coord).await;
            assert_eq!(s, 200, "{b}");
            for u in b["users"].as_array().unwrap() {
                for g in u["roles"].as_array().unwrap() {
                    let scope = g["scope"]["area_code"].as_str().unwrap_or("everywhere");
                    assert!(scope.starts_with("420102003"), "coord sees {} with a grant over {scope}", u["username"]);
                }
            }
        }
        // Evaluation: a street coordinator scores only units of its street, whatever area it asks for.
        let to = chrono::Utc::now() + chrono::Duration::hours(1);
        let from = to - chrono::Duration::days(2);
        for area in ["", "&area=420103", "&area=420100"] {
            let q = format!(
                "/api/v1/evaluation?by=grid&from={}&to={}{area}",
                from.format("%Y-%m-%dT%H:%M:%SZ"),
                to.format("%Y-%m-%dT%H:%M:%SZ")
            );
            let (s, b) = app.get(&q, coord).await;
            assert_eq!(s, 200, "{b}");
            for u in b["units"].as_array().unwrap() {
                let unit = u["unit"].as_str().unwrap_or("");
                assert!(unit.starts_with("420102003"), "coord scored {unit} ({area})");
            }
        }
    }
}
