//! The 12345 hotline on both backends: an operator files a call, which runs the loop as an event
//! with source `hotline`; the caller's name and phone reach ops staff over the case in full and
//! everyone else masked; after closing the caller is called back once and the satisfaction rate
//! joins evaluation; the callers' personal data is purged after its retention period.

use gridwork::retention::{Retention, purge};
use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, assert_error, both_backends};
use serde_json::{Value, json};

/// Inside demo grid 420102003001001 (street 420102003).
const IN: (f64, f64) = (30.5825, 114.2740);

fn call(reference: &str, at: (f64, f64)) -> Value {
    json!({"reference": reference, "caller_name": "王小明", "caller_phone": "138-1234-5678", "category": "C-03-01",
           "lat": at.0, "lng": at.1, "description": "来电反映：井盖缺失", "address": "解放大道 1 号"})
}

async fn act(app: &TestApp, token: &str, event: &str, body: Value) {
    let (s, b) = app.post(&format!("/api/v1/events/{event}/actions"), token, body.clone()).await;
    assert_eq!(s, 200, "{body} → {b}");
}

both_backends! {
    async fn a_call_is_filed_worked_called_back_and_its_caller_forgotten(app: TestApp) {
        let crew = app.street_crew().await;
        app.user("coord.next", Role::Coordinator, Some("420102004")).await;
        let other = app.login("coord.next").await;

        // A department system subscribed to the street's changes.
        let hook = json!({"name": "城管系统", "url": "http://127.0.0.1:9/hook", "area": "420102003"});
        assert_eq!(app.post("/api/v1/webhooks", &crew.admin, hook).await.0, 201);
        app.user("vol", Role::Volunteer, Some("420102003001")).await;
        let vol = app.login("vol").await;

        // Filed by ops staff, once per reference; refusals name the field.
        let (s, b) = app.post("/api/v1/hotline/calls", &crew.wang, call("12345-0001", IN)).await;
        assert_error(s, &b, 403, "forbidden");
        let mut bad = call("12345-0001", IN);
        bad["caller_phone"] = json!("call me");
        let (s, b) = app.post("/api/v1/hotline/calls", &crew.coord, bad).await;
        assert_eq!((s, b["fields"]["caller_phone"]["code"].as_str()), (422, Some("invalid_phone")), "{b}");
        let mut bad = call("", IN);
        bad["reference"] = json!("");
        let (s, b) = app.post("/api/v1/hotline/calls", &crew.coord, bad).await;
        assert_eq!((s, b["fields"]["reference"].is_object()), (422, true), "{b}");
        let (s, filed) = app.post("/api/v1/hotline/calls", &crew.coord, call("12345-0001", IN)).await;
        assert_eq!((s, filed["masked"].as_bool(), filed["caller_phone"].as_str()), (201, Some(false), Some("138-1234-5678")), "{filed}");
        let (s, again) = app.post("/api/v1/hotline/calls", &crew.coord, call("12345-0001", IN)).await;
        assert_eq!((s, again["id"].clone()), (200, filed["id"].clone()), "the same reference is the same call");
        let event = filed["event_id"].as_str().unwrap().to_owned();
        let call_id = filed["id"].as_str().unwrap().to_owned();
        let (_, e) = app.get(&format!("/api/v1/events/{event}"), &crew.coord).await;
        assert_eq!((e["source"].as_str(), e["hotline_calls"][0]["caller_name"].as_str()), (Some("hotline"), Some("王小明")), "{e}");

        // Worked like any case; the handler sees the caller masked.
        let callback = format!("/api/v1/hotline/calls/{call_id}/callback");
        let (s, b) = app.post(&callback, &crew.coord, json!({"satisfied": true})).await;
        assert_eq!((s, b["fields"]["satisfied"]["code"].as_str()), (409, Some("case_open")), "{b}");
        act(&app, &crew.coord, &event, json!({"action": "accept"})).await;
        let wang_id = app.id_of("wang").await;
        act(&app, &crew.coord, &event, json!({"action": "dispatch", "assignees": [wang_id]})).await;
        let (s, seen) = app.get(&format!("/api/v1/events/{event}"), &crew.wang).await;
        assert_eq!(s, 200, "{seen}");
        let c = &seen["hotline_calls"][0];
        assert_eq!((c["caller_name"].as_str(), c["caller_phone"].as_str(), c["masked"].as_bool()), (Some("王**"), Some("138****5678"), Some(true)), "{seen}");
        assert!(!seen.to_string().contains("1234-5678") && !seen.to_string().contains("王小明"), "{seen}");
        act(&app, &crew.wang, &event, json!({"action": "claim"})).await;
        act(&app, &crew.wang, &event, json!({"action": "start"})).await;
        let photo = app.after_photo(&crew.wang, &event).await;
        act(&app, &crew.wang, &event, json!({"action": "resolve", "evidence": [photo]})).await;
        act(&app, &crew.coord, &event, json!({"action": "verify"})).await;

        // The callback queue: closed cases of the caller's streets; ops staff only.
        let (s, queue) = app.get("/api/v1/hotline/calls", &crew.coord).await;
        assert_eq!((s, queue["calls"][0]["id"].as_str()), (200, Some(call_id.as_str())), "{queue}");
        assert_eq!(queue["calls"][0]["caller_phone"], "138-1234-5678");
        let (_, theirs) = app.get("/api/v1/hotline/calls", &other).await;
        assert_eq!(theirs["calls"], json!([]));
        assert_eq!(app.get("/api/v1/hotline/calls", &crew.wang).await.0, 403);
        let (s, b) = app.post(&callback, &other, json!({"satisfied": true})).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.post(&callback, &crew.coord, json!({"satisfied": true, "note": "已修复，满意"})).await;
        assert_eq!((s, b["satisfied"].as_bool()), (200, Some(true)), "{b}");
        let (s, b) = app.post(&callback, &crew.coord, json!({"satisfied": false})).await;
        assert_eq!((s, b["fields"]["satisfied"]["code"].as_str()), (409, Some("already_decided")), "{b}");
        let (_, queue) = app.get("/api/v1/hotline/calls", &crew.coord).await;
        assert_eq!(queue["calls"], json!([]));
        let (_, e) = app.get(&format!("/api/v1/events/{event}"), &crew.coord).await;
        assert_eq!(e["timeline"].as_array().unwrap().last().unwrap()["action"], "callback", "{e}");

        // A second caller, not accepted, and not satisfied.
        let far = (IN.0 + 0.004, IN.1);
        let (_, second) = app.post("/api/v1/hotline/calls", &crew.coord, call("12345-0002", far)).await;
        let second_event = second["event_id"].as_str().unwrap().to_owned();
        act(&app, &crew.coord, &second_event, json!({"action": "reject", "reason": "属物业管理范围"})).await;
        let path = format!("/api/v1/hotline/calls/{}/callback", second["id"].as_str().unwrap());
        assert_eq!(app.post(&path, &crew.coord, json!({"satisfied": false})).await.0, 200);

        // A call about small ads goes to the volunteers' pool: a volunteer sees the caller masked.
        let mut ads = call("12345-0003", (IN.0 + 0.008, IN.1));
        ads["category"] = json!("E-02-01");
        let (_, third) = app.post("/api/v1/hotline/calls", &crew.coord, ads).await;
        let third_event = third["event_id"].as_str().unwrap().to_owned();
        act(&app, &crew.coord, &third_event, json!({"action": "accept"})).await;
        let (s, seen) = app.get(&format!("/api/v1/events/{third_event}"), &vol).await;
        assert_eq!((s, seen["hotline_calls"][0]["caller_phone"].as_str()), (200, Some("138****5678")), "{seen}");
        assert!(!seen.to_string().contains("1234-5678") && !seen.to_string().contains("王小明"), "{seen}");
        // What the department system is sent names no caller.
        let payloads: Vec<String> = app
            .db
            .run(|conn| {
                use diesel::prelude::*;
                use gridwork::db::schema::webhook_deliveries as d;
                Ok(d::table.select(d::payload).load(conn)?)
            })
            .await
            .unwrap();
        assert!(payloads.len() >= 5, "the calls' changes are in the outbox: {}", payloads.len());
        assert!(payloads.iter().all(|p| !p.contains("1234-5678") && !p.contains("王小明")), "{payloads:?}");

        // Satisfaction joins evaluation: one of two callers satisfied.
        let from = (chrono::Utc::now() - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
        let to = (chrono::Utc::now() + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
        let (s, ev) = app.get(&format!("/api/v1/evaluation?by=street&from={from}&to={to}"), &crew.coord).await;
        assert_eq!(s, 200, "{ev}");
        let street = ev["units"].as_array().unwrap().iter().find(|u| u["unit"] == "420102003").unwrap();
        assert_eq!((street["callbacks"].as_u64(), street["satisfied"].as_u64(), street["satisfaction_rate"].as_f64()), (Some(2), Some(1), Some(0.5)), "{street}");

        // Nowhere else: not in the handler's own data export.
        let res = app.client.get(app.url("/api/v1/me/data-export")).bearer_auth(&crew.wang).send().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("data.json").unwrap(), &mut text).unwrap();
        assert!(text.contains(&event), "the export holds the handler's steps on the case");
        assert!(!text.contains("1234-5678") && !text.contains("王小明"), "{text}");

        // Forgotten after the retention period: the call and its outcome stay.
        let r: Retention = app.state.settings.retention;
        let soon = gridwork::models::now() + chrono::Duration::days(364);
        assert_eq!(app.db.run(move |conn| purge(conn, &r, soon)).await.unwrap().hotline_callers, 0);
        let later = gridwork::models::now() + chrono::Duration::days(366);
        assert_eq!(app.db.run(move |conn| purge(conn, &r, later)).await.unwrap().hotline_callers, 2, "the open case's caller stays");
        let (_, e) = app.get(&format!("/api/v1/events/{event}"), &crew.coord).await;
        let c = &e["hotline_calls"][0];
        assert_eq!((c["reference"].as_str(), c.get("caller_phone"), c["satisfied"].as_bool()), (Some("12345-0001"), None, Some(true)), "{e}");
        let (_, report) = app.get("/api/v1/privacy/report", &crew.admin).await;
        let holding = report["holdings"].as_array().unwrap().iter().find(|h| h["location"].as_str().unwrap().starts_with("hotline_calls")).unwrap();
        assert_eq!((holding["rows"].as_i64(), holding["retention_days"].as_i64()), (Some(1), Some(365)), "{holding}");
    }
}
