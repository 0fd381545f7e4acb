//! The event loop over HTTP: idempotent intake resolved to the seven levels, duplicates, triage,
//! and actions decided by the shared state machine.

use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, assert_error, both_backends};
use serde_json::{Value, json};

/// A point inside demo grid 420102003001001 (and, 25 m east, still inside it).
const P: (f64, f64) = (30.5825, 114.2740);

async fn setup(app: &TestApp) -> (String, String, String, String, String) {
    let c = app.street_crew().await;
    (c.admin, c.coord, c.wang, c.li, c.chen)
}

async fn report(app: &TestApp, token: &str, key: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = app.client.post(app.url("/api/v1/events")).bearer_auth(token).json(&body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    app.send(req).await
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/events/{id}/actions"), token, body).await
}

both_backends! {
    async fn a_report_runs_the_whole_loop(app: TestApp) {
        let (_admin, coord, wang, li, chen) = setup(&app).await;
        let body = json!({"category": "E-01-02", "lat": P.0, "lng": P.1, "description": "渣土堆在路边", "address": "大智路 1 号"});
        let (s, e) = report(&app, &chen, Some("phone-1"), body.clone()).await;
        assert_eq!(s, 201, "{e}");
        assert_eq!(e["state"], "reported");
        assert_eq!(e["filed"], "created");
        assert_eq!(e["areas"]["grid"], "420102003001001");
        assert_eq!(e["areas"]["district"], "420102");
        let id = e["id"].as_str().unwrap().to_owned();
        // The same key again: the same event, never a second one.
        let (s, again) = report(&app, &chen, Some("phone-1"), body.clone()).await;
        assert_eq!((s, again["id"].as_str(), again["filed"].as_str()), (200, Some(id.as_str()), Some("replayed")));
        // Someone else reports the same pile 20 m away: they join the open event.
        app.user("chen2", Role::Resident, Some("420100")).await;
        let chen2 = app.login("chen2").await;
        let near = json!({"category": "E-01-02", "lat": P.0, "lng": P.1 + 0.0002, "description": "又看到一堆渣土"});
        let (s, dup) = report(&app, &chen2, Some("other-phone"), near).await;
        assert_eq!((s, dup["id"].as_str(), dup["filed"].as_str()), (200, Some(id.as_str()), Some("duplicate")));

        // Triage, dispatch, handling, verification.
        let (s, b) = act(&app, &wang, &id, json!({"action": "accept"})).await;
        assert_error(s, &b, 403, "forbidden");
        assert_eq!(b["fields"]["action"]["code"], "not_permitted");
        assert_eq!(act(&app, &coord, &id, json!({"action": "accept"})).await.0, 200);
        let (s, b) = act(&app, &coord, &id, json!({"action": "dispatch", "assignees": [app.id_of("wang").await]})).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["state"], "dispatched");
        let v = b["version"].as_i64().unwrap();
        // A phone's action with its key; the answer is lost and it comes again: applied once.
        let keyed = |key: &'static str, body: Value| {
            app.client.post(app.url(&format!("/api/v1/events/{id}/actions"))).bearer_auth(&wang).header("Idempotency-Key", key).json(&body)
        };
        let (s, b) = app.send(keyed("claim-1", json!({"action": "claim", "version": v}))).await;
        assert_eq!((s, b["replayed"].as_bool()), (200, Some(false)), "{b}");
        let (s, b) = app.send(keyed("claim-1", json!({"action": "claim", "version": v}))).await;
        assert_eq!((s, b["replayed"].as_bool(), b["state"].as_str()), (200, Some(true), Some("claimed")), "{b}");
        let (s, b) = app.send(keyed("claim-1", json!({"action": "start"}))).await;
        assert_eq!((s, b["fields"]["Idempotency-Key"]["code"].as_str()), (422, Some("key_reused")));
        // A stale copy is refused.
        let (s, b) = act(&app, &wang, &id, json!({"action": "start", "version": v})).await;
        assert_error(s, &b, 409, "conflict");
        assert_eq!(act(&app, &wang, &id, json!({"action": "start"})).await.0, 200);
        let (s, b) = act(&app, &wang, &id, json!({"action": "resolve", "evidence": []})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["evidence"]["code"], "evidence_required");
        let photos = [app.after_photo(&wang, &id).await, app.after_photo(&wang, &id).await];
        assert_eq!(act(&app, &wang, &id, json!({"action": "resolve", "evidence": photos})).await.0, 200);
        let (s, b) = act(&app, &wang, &id, json!({"action": "verify"})).await;
        assert_error(s, &b, 403, "forbidden");
        assert_eq!(b["fields"]["action"]["code"], "verifier_is_resolver");
        let (s, b) = act(&app, &li, &id, json!({"action": "rework", "reason": ""})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["reason"]["code"], "reason_required");
        let (s, b) = act(&app, &li, &id, json!({"action": "verify"})).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["state"], "closed");
        let (s, b) = act(&app, &coord, &id, json!({"action": "suspend", "reason": "too late"})).await;
        assert_error(s, &b, 409, "conflict");

        // The whole story, in order.
        let (s, full) = app.get(&format!("/api/v1/events/{id}"), &chen).await;
        assert_eq!(s, 200, "{full}");
        let steps: Vec<&str> = full["timeline"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
        // Nobody was on duty when it was accepted: automatic dispatch left it to the coordinator.
        assert_eq!(steps, ["report", "report_duplicate", "accept", "dispatch_pending", "dispatch", "claim", "start", "resolve", "verify"]);
        // The reporter sees what happened, not who acted where.
        assert!(full["timeline"][4].get("actor").is_none() && full["timeline"][4].get("location").is_none());
        // A stranger does not see it.
        app.user("stranger", Role::Resident, Some("420100")).await;
        let stranger = app.login("stranger").await;
        let (s, b) = app.get(&format!("/api/v1/events/{id}"), &stranger).await;
        assert_error(s, &b, 404, "not_found");
    }

    async fn intake_refuses_bad_reports(app: TestApp) {
        let (_admin, _coord, wang, _li, chen) = setup(&app).await;
        let ok = json!({"category": "E-01-01", "lat": P.0, "lng": P.1, "description": "垃圾"});
        let (s, b) = report(&app, &chen, None, ok.clone()).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["Idempotency-Key"]["code"], "required");
        let (s, b) = report(&app, &chen, Some("k1"), json!({"category": "X-99-99", "lat": P.0, "lng": P.1, "description": "?"})).await;
        assert_eq!((s, b["fields"]["category"]["code"].as_str()), (422, Some("unknown_category")));
        let (s, b) = report(&app, &chen, Some("k2"), json!({"category": "E-01-01", "lat": 39.9, "lng": 116.4, "description": "北京"})).await;
        assert_eq!((s, b["fields"]["location"]["code"].as_str()), (422, Some("outside_service_area")));
        let (s, b) = report(&app, &chen, Some("k3"), json!({"category": "E-01-01", "lat": P.0, "lng": P.1, "description": "x", "source": "sensor"})).await;
        assert_eq!((s, b["fields"]["source"]["code"].as_str()), (422, Some("source_not_permitted")));
        let (s, b) = report(&app, &chen, Some("k4"), json!({"category": "E-01-01", "lat": P.0, "lng": P.1, "description": ""})).await;
        assert_eq!((s, b["fields"]["description"]["code"].as_str()), (422, Some("length")));
        // A grid worker's patrol report skips triage; GCJ-02 input lands in the same grid.
        let (x, y) = gridwork_mobile_core::domain::crs::Crs::Gcj02.from_wgs84(P.1, P.0);
        let patrol = json!({"category": "C-01-03", "lat": y, "lng": x, "crs": "gcj02", "description": "路灯不亮", "source": "grid_worker"});
        let (s, e) = report(&app, &wang, Some("patrol-1"), patrol).await;
        assert_eq!(s, 201, "{e}");
        assert_eq!(e["state"], "accepted");
        assert_eq!(e["areas"]["grid"], "420102003001001");
    }

    async fn listings_follow_scope_and_role(app: TestApp) {
        let (_admin, coord, wang, _li, chen) = setup(&app).await;
        // One event in the coordinator's street, one in the other district.
        let (s, a) = report(
            &app,
            &chen,
            Some("a"),
            json!({"category": "E-01-01", "lat": P.0, "lng": P.1, "description": "here"}),
        )
        .await;
        assert_eq!(s, 201, "{a}");
        let (s, b) = report(
            &app,
            &chen,
            Some("b"),
            json!({"category": "E-01-01", "lat": 30.585, "lng": 114.31, "description": "there"}),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["areas"]["district"], "420103");
        let ids = |v: &Value| {
            v["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        let (s, list) = app.get("/api/v1/events", &coord).await;
        assert_eq!(s, 200, "{list}");
        assert_eq!(ids(&list), [a["id"].as_str().unwrap()]);
        // The reporter sees both of theirs; a handler's task list is empty until dispatch.
        let (_, mine) = app.get("/api/v1/events", &chen).await;
        assert_eq!(ids(&mine).len(), 2);
        let (_, tasks) = app.get("/api/v1/events?mine=true", &wang).await;
        assert!(ids(&tasks).is_empty());
        let id = a["id"].as_str().unwrap();
        assert_eq!(act(&app, &coord, id, json!({"action": "accept"})).await.0, 200);
        let wang_id = app.id_of("wang").await;
        assert_eq!(act(&app, &coord, id, json!({"action": "dispatch", "assignees": [wang_id]})).await.0, 200);
        let (_, tasks) = app.get("/api/v1/events?mine=true", &wang).await;
        assert_eq!(ids(&tasks), [id]);
        let (_, filtered) = app.get("/api/v1/events?state=reported", &coord).await;
        assert!(ids(&filtered).is_empty());
        let (s, b) = app.get("/api/v1/events?state=lost", &coord).await;
        assert_error(s, &b, 422, "validation_failed");
    }

    async fn deadlines_follow_the_stage_and_extensions(app: TestApp) {
        let (_admin, coord, _wang, _li, chen) = setup(&app).await;
        let due_in = |e: &Value| {
            let due: chrono::DateTime<chrono::Utc> = e["due_at"].as_str().unwrap().parse().unwrap();
            (due - chrono::Utc::now()).num_minutes()
        };
        // E-01-01 暴露垃圾, grade general: accept 120 min, dispatch 120, handle 720.
        let (s, e) = report(&app, &chen, Some("d1"), json!({"category": "E-01-01", "lat": P.0, "lng": P.1, "description": "垃圾"})).await;
        assert_eq!(s, 201, "{e}");
        assert!((118..=120).contains(&due_in(&e)), "{e}");
        assert_eq!(e["overdue"], false);
        let id = e["id"].as_str().unwrap().to_owned();
        let (_, e) = act(&app, &coord, &id, json!({"action": "accept"})).await;
        assert!((118..=120).contains(&due_in(&e)), "{e}");
        let wang_id = app.id_of("wang").await;
        let (_, e) = act(&app, &coord, &id, json!({"action": "dispatch", "assignees": [wang_id]})).await;
        assert!((718..=720).contains(&due_in(&e)), "{e}");
        let (_, e) = act(&app, &coord, &id, json!({"action": "extend", "reason": "等待材料"})).await;
        assert!((1438..=1440).contains(&due_in(&e)), "{e}");
        // Past its deadline: flagged and listed as overdue.
        let past = gridwork::models::now() - chrono::Duration::minutes(5);
        let eid = id.clone();
        app.db
            .run(move |conn| {
                use diesel::prelude::*;
                use gridwork::db::schema::events;
                diesel::update(events::table.find(&eid)).set(events::due_at.eq(past)).execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        let (_, list) = app.get("/api/v1/events?overdue=true", &coord).await;
        let listed: Vec<&str> = list["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(listed, [id.as_str()]);
        assert_eq!(list["events"][0]["overdue"], true);
    }
}
