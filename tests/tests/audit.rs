//! `gridwork audit verify` over a real database: an intact timeline passes, and an edited or a
//! deleted entry — the newest included — is found and named.

use std::process::Command;

use diesel::prelude::*;
use gridwork::db::schema::event_log;
use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, both_backends, gridwork_bin};
use serde_json::json;

fn verify(app: &TestApp) -> (bool, String) {
    let out = Command::new(gridwork_bin())
        .args(["audit", "verify", "--database-url", app.test_db.url.expose()])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn sql(app: &TestApp, f: impl FnOnce(&mut gridwork::db::DbConn) -> QueryResult<usize> + Send + 'static) -> usize {
    app.db.run(move |conn| Ok(f(conn)?)).await.unwrap()
}

both_backends! {
    async fn verify_finds_edited_and_deleted_timeline_entries(app: TestApp) {
        let admin = app.demo_city().await;
        app.user("coord", Role::Coordinator, Some("420102003")).await;
        let coord = app.login("coord").await;
        let mut ids = vec![];
        for key in ["a", "b"] {
            let lat = if key == "a" { 30.5825 } else { 30.5865 };
            let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&admin).header("Idempotency-Key", key)
                .json(&json!({"category": "E-01-02", "lat": lat, "lng": 114.274, "description": "渣土"}));
            let (s, e) = app.send(req).await;
            assert_eq!(s, 201, "{e}");
            let id = e["id"].as_str().unwrap().to_owned();
            let (s, _) = app.post(&format!("/api/v1/events/{id}/actions"), &coord, json!({"action": "accept"})).await;
            assert_eq!(s, 200);
            let (s, _) = app.post(&format!("/api/v1/events/{id}/actions"), &coord, json!({"action": "suspend", "reason": "等待天晴"})).await;
            assert_eq!(s, 200);
            ids.push(id);
        }
        let (ok, out) = verify(&app);
        assert!(ok, "{out}");
        assert!(out.contains("2 events, 8 timeline entries, 0 problems"), "{out}");

        // Someone rewrites a reason in the database.
        let a = ids[0].clone();
        sql(&app, move |c| diesel::update(event_log::table.filter(event_log::event_id.eq(a)).filter(event_log::seq.eq(4))).set(event_log::reason.eq("无")).execute(c)).await;
        // And quietly removes the newest entry of the other event.
        let b = ids[1].clone();
        sql(&app, move |c| diesel::delete(event_log::table.filter(event_log::event_id.eq(b)).filter(event_log::seq.eq(4))).execute(c)).await;
        let (ok, out) = verify(&app);
        assert!(!ok, "{out}");
        assert!(out.contains(&format!("event {}: entry 4 edited", ids[0])), "{out}");
        assert!(out.contains(&format!("event {}: newest entries missing", ids[1])), "{out}");
    }
}
