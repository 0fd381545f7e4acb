//! Webhooks for department systems on both backends, against a real HTTP receiver that fails,
//! stalls and recovers: every state change of the subscribed events arrives signed per the
//! Standard Webhooks specification, once per `webhook-id`; filters narrow; the delivery log
//! shows each attempt; a replay sends again; a subscription that keeps failing is switched off
//! and its owner told; only administrators over the area manage subscriptions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, assert_error, per_backend};
use serde_json::{Value, json};

/// Inside demo grid 420102003001001 (district 420102).
const IN: (f64, f64) = (30.5825, 114.2740);
/// Inside district 420103.
const OUT: (f64, f64) = (30.5825, 114.3040);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    Fail,
    /// Answers only after the sender has given up waiting.
    Stall,
}

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A department system's endpoint: a real HTTP server on a free port.
struct Receiver {
    url: String,
    mode: Arc<Mutex<Mode>>,
    /// Every request that reached it, answered or not.
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/gridwork", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(Mode::Ok));
        let seen = Arc::new(Mutex::new(vec![]));
        let (m, s) = (mode.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (m, s) = (m.clone(), s.clone());
                tokio::spawn(async move { serve(stream, m, s).await });
            }
        });
        Self { url, mode, seen }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(mut stream: tokio::net::TcpStream, mode: Arc<Mutex<Mode>>, seen: Arc<Mutex<Vec<Received>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![];
    let mut chunk = [0u8; 4096];
    let (head, body) = loop {
        let Ok(n) = stream.read(&mut chunk).await else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= length {
                break (head.to_owned(), body[..length].to_owned());
            }
        }
    };
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    seen.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    let mode = *mode.lock().unwrap();
    let status = match mode {
        Mode::Ok => "200 OK",
        Mode::Fail => "500 Internal Server Error",
        Mode::Stall => {
            tokio::time::sleep(Duration::from_secs(4)).await;
            "200 OK"
        }
    };
    let _ = stream
        .write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes())
        .await;
}

/// Checks a message's signature the way the specification says a receiver must.
fn verify(secret: &str, r: &Received) {
    use hmac::{Hmac, Mac};
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(r.signature, format!("v1,{expected}"), "signature of {}", r.id);
    let sent: i64 = r.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent).abs() < 300, "a fresh timestamp");
}

/// (event, seq) of each distinct message received.
fn changes(seen: &[Received]) -> BTreeMap<String, (String, i64, String)> {
    seen.iter()
        .map(|r| {
            let v: Value = serde_json::from_str(&r.body).unwrap();
            (
                r.id.clone(),
                (
                    v["data"]["event_id"].as_str().unwrap().to_owned(),
                    v["data"]["seq"].as_i64().unwrap(),
                    v["type"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn report(app: &TestApp, token: &str, key: &str, category: &str, at: (f64, f64)) -> String {
    let body = json!({"category": category, "lat": at.0, "lng": at.1, "description": format!("webhook test {key}")});
    let req = app.client.post(app.url("/api/v1/events")).bearer_auth(token).header("Idempotency-Key", key).json(&body);
    let (s, e) = app.send(req).await;
    assert_eq!(s, 201, "{e}");
    e["id"].as_str().unwrap().to_owned()
}

async fn act(app: &TestApp, token: &str, event: &str, body: Value) {
    let (s, b) = app.post(&format!("/api/v1/events/{event}/actions"), token, body.clone()).await;
    assert_eq!(s, 200, "{body} → {b}");
}

per_backend! {
    async fn a_department_system_sees_every_change_once_through_failures(backend) {
        let Some(app) = TestApp::spawn_with(backend, |s| {
            s.webhooks = gridwork::webhooks::sender::Policy {
                timeout: Duration::from_secs(2),
                retry_base: Duration::from_millis(500),
                max_attempts: 30,
                disable_after: 8,
            };
        })
        .await
        else {
            return;
        };
        let crew = app.street_crew().await;
        app.user("d.admin", Role::Admin, Some("420102")).await;
        app.user("o.admin", Role::Admin, Some("420103")).await;
        let (d_admin, o_admin) = (app.login("d.admin").await, app.login("o.admin").await);
        let receiver = Receiver::start().await;

        // Subscribing: administrators over the area; a URL and known categories.
        let body = |url: &str| json!({"name": "水务局工单系统", "url": url, "area": "420102", "categories": ["C-03-01"]});
        let (s, b) = app.post("/api/v1/webhooks", &o_admin, body(&receiver.url)).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post("/api/v1/webhooks", &crew.coord, body(&receiver.url)).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post("/api/v1/webhooks", &d_admin, body("ftp://example.org/x")).await;
        assert_eq!((s, b["fields"]["url"]["code"].as_str()), (422, Some("invalid_url")), "{b}");
        let mut unknown = body(&receiver.url);
        unknown["categories"] = json!(["NOPE"]);
        let (s, b) = app.post("/api/v1/webhooks", &d_admin, unknown).await;
        assert_eq!((s, b["fields"]["categories"]["code"].as_str()), (422, Some("unknown_category")), "{b}");
        let (s, hook) = app.post("/api/v1/webhooks", &d_admin, body(&receiver.url)).await;
        assert_eq!(s, 201, "{hook}");
        let secret = hook["secret"].as_str().unwrap().to_owned();
        let hook_id = hook["id"].as_str().unwrap().to_owned();
        let (_, list) = app.get("/api/v1/webhooks", &d_admin).await;
        assert!(list["webhooks"][0].get("secret").is_none(), "the secret is shown once: {list}");
        let (_, list) = app.get("/api/v1/webhooks", &o_admin).await;
        assert_eq!(list["webhooks"], json!([]));
        assert_eq!(app.get(&format!("/api/v1/webhooks/{hook_id}/deliveries"), &o_admin).await.0, 404);

        // Only the subscribed events: their category, inside the area.
        let event = report(&app, &crew.chen, "w1", "C-03-01", IN).await;
        report(&app, &crew.chen, "w2", "E-02-01", IN).await;
        report(&app, &crew.chen, "w3", "C-03-01", OUT).await;
        act(&app, &crew.coord, &event, json!({"action": "accept"})).await;
        wait_for("the report and its acceptance", || changes(&receiver.seen()).len() == 2).await;
        for r in receiver.seen() {
            verify(&secret, &r);
        }
        let first: Value = serde_json::from_str(&receiver.seen()[0].body).unwrap();
        assert_eq!((first["type"].as_str(), first["data"]["to"].as_str()), (Some("event.created"), Some("reported")), "{first}");
        assert!(first["data"].get("reporter_id").is_none() && !first.to_string().contains(&app.id_of("chen").await));

        // A failure window: the change waits and arrives once the system is back.
        receiver.set(Mode::Fail);
        let wang = app.id_of("wang").await;
        act(&app, &crew.coord, &event, json!({"action": "dispatch", "assignees": [wang]})).await;
        wait_for("failed attempts", || receiver.seen().len() >= 4).await;
        let (_, log) = app.get(&format!("/api/v1/webhooks/{hook_id}/deliveries"), &d_admin).await;
        let failing = &log["deliveries"][0];
        assert_eq!((failing["state"].as_str(), failing["last_status"].as_i64()), (Some("pending"), Some(500)), "{log}");
        assert!(failing["attempts"].as_i64().unwrap() >= 2, "{log}");
        receiver.set(Mode::Ok);
        wait_for("recovery", || changes(&receiver.seen()).len() == 3).await;

        // A stall: the sender gives up waiting and sends again; the repeat has the same id.
        receiver.set(Mode::Stall);
        act(&app, &crew.wang, &event, json!({"action": "claim"})).await;
        wait_for("a stalled attempt", || changes(&receiver.seen()).len() == 4).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        receiver.set(Mode::Ok);
        act(&app, &crew.wang, &event, json!({"action": "start"})).await;
        wait_for("every change delivered", || changes(&receiver.seen()).len() == 5).await;
        wait_for("the stalled one delivered", || {
            let seen = receiver.seen();
            let ids: BTreeSet<&str> = seen.iter().map(|r| r.id.as_str()).collect();
            seen.len() > ids.len()
        })
        .await;
        let all = changes(&receiver.seen());
        let distinct: BTreeSet<(String, i64)> = all.values().map(|(e, s, _)| (e.clone(), *s)).collect();
        assert_eq!(distinct.len(), all.len(), "one webhook-id per change: {all:?}");
        for r in receiver.seen() {
            verify(&secret, &r);
        }
        let mut log = Value::Null;
        for _ in 0..50 {
            log = app.get(&format!("/api/v1/webhooks/{hook_id}/deliveries"), &d_admin).await.1;
            if log["deliveries"].as_array().unwrap().iter().all(|d| d["state"] == "delivered") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let states: Vec<&str> = log["deliveries"].as_array().unwrap().iter().map(|d| d["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["delivered"; 5], "{log}");

        // A replay sends a delivery again, with its id.
        let replayed = log["deliveries"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned();
        let before = receiver.seen().len();
        let (s, b) = app.post(&format!("/api/v1/webhooks/{hook_id}/deliveries/{replayed}/replay"), &d_admin, json!({})).await;
        assert_eq!(s, 200, "{b}");
        wait_for("the replay", || receiver.seen().len() > before).await;
        assert_eq!(receiver.seen().last().unwrap().id, replayed);
        let (s, _) = app.post(&format!("/api/v1/webhooks/{hook_id}/deliveries/{replayed}/replay"), &o_admin, json!({})).await;
        assert_eq!(s, 404);

        // Failing for good: switched off after 8 failed attempts in a row, its owner told; back
        // on, what waited goes out.
        receiver.set(Mode::Fail);
        let photo = app.after_photo(&crew.wang, &event).await;
        act(&app, &crew.wang, &event, json!({"action": "resolve", "evidence": [photo]})).await;
        for i in 0..7 {
            report(&app, &crew.chen, &format!("more-{i}"), "C-03-01", (IN.0 + 0.0006 * f64::from(i + 1), IN.1)).await;
        }
        let mut off = Value::Null;
        for _ in 0..300 {
            let (_, list) = app.get("/api/v1/webhooks", &d_admin).await;
            off = list["webhooks"][0].clone();
            if off["disabled_at"].is_string() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(off["disabled_at"].is_string(), "{off}");
        assert!(off["disabled_reason"].as_str().unwrap().contains("500"), "{off}");
        let (_, inbox) = app.get("/api/v1/notifications", &d_admin).await;
        assert!(inbox["notifications"].as_array().unwrap().iter().any(|n| n["kind"] == "webhook_disabled"), "{inbox}");
        let quiet = receiver.seen().len();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(receiver.seen().len(), quiet, "nothing is sent while it is off");
        receiver.set(Mode::Ok);
        let (s, on) = app.post(&format!("/api/v1/webhooks/{hook_id}/enable"), &d_admin, json!({})).await;
        assert_eq!((s, on["disabled_at"].is_null()), (200, true), "{on}");
        wait_for("what waited, after switching back on", || changes(&receiver.seen()).len() == 6 + 7).await;
        let delete = app.client.delete(app.url(&format!("/api/v1/webhooks/{hook_id}"))).bearer_auth(&o_admin).send().await.unwrap();
        assert_eq!(delete.status(), 404);
        let delete = app.client.delete(app.url(&format!("/api/v1/webhooks/{hook_id}"))).bearer_auth(&d_admin).send().await.unwrap();
        assert_eq!(delete.status(), 204);
    }
}
