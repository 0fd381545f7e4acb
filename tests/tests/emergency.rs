//! Emergency mode and special operations on both backends: only the ops centre over an area
//! switches it; declaring shortens a live event's deadline (noted on its timeline), tells
//! everyone working there and calls off-duty workers; an overdue event escalates straight to
//! the city; new events get the emergency's time; a special operation opens a task per compound
//! of a grid; ending it is noted the same way.

use gridwork::events::actions::Ctx;
use gridwork::events::scheduler;
use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, assert_error, both_backends};
use serde_json::{Value, json};

/// Inside demo grid 420102003001001 (street 420102003).
const IN: (f64, f64) = (30.5825, 114.2740);
/// Inside district 420103 (no emergency there).
const OUT: (f64, f64) = (30.5825, 114.3040);

async fn report(app: &TestApp, token: &str, at: (f64, f64), category: &str) -> String {
    let body = json!({"category": category, "lat": at.0, "lng": at.1, "description": "有问题"});
    let req = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&body);
    let (s, b) = app.send(req).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn event(app: &TestApp, token: &str, id: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v1/events/{id}"), token).await;
    assert_eq!(s, 200, "{b}");
    b
}

fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn kinds(inbox: &Value) -> Vec<String> {
    inbox["notifications"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
}

both_backends! {
    async fn an_emergency_shortens_deadlines_escalates_to_the_city_and_ends(app: TestApp) {
        let crew = app.street_crew().await;
        app.user("coord.next", Role::Coordinator, Some("420102004")).await;
        let other = app.login("coord.next").await;
        app.user("out.coord", Role::Coordinator, Some("420103003")).await;
        let out_coord = app.login("out.coord").await;
        app.on_duty(&crew.wang, IN).await;

        // A live event: reported, accepted, given to wang (on duty).
        let live = report(&app, &crew.chen, IN, "C-03-01").await;
        let (s, b) = app.post(&format!("/api/v1/events/{live}/actions"), &crew.coord, json!({"action": "accept"})).await;
        assert_eq!(s, 200, "{b}");
        let before = event(&app, &crew.coord, &live).await;
        assert_eq!(before["assignees"].as_array().map(Vec::len), Some(1), "{before}");
        let due_before = instant(&before["due_at"]);

        // Only the ops centre over the area declares, for a city, district or street, for a while.
        let end_at = (chrono::Utc::now() + chrono::Duration::hours(12)).to_rfc3339();
        let declare = |area: &str| json!({"area": area, "reason": "暴雨红色预警", "expected_end_at": end_at, "call_on_duty": true});
        let (s, b) = app.post("/api/v1/emergencies", &crew.wang, declare("420102003")).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post("/api/v1/emergencies", &other, declare("420102003")).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post("/api/v1/emergencies", &crew.coord, declare("420102003001001")).await;
        assert_eq!((s, b["fields"]["area"]["code"].as_str()), (422, Some("not_an_ops_centre")), "{b}");
        let mut late = declare("420102003");
        late["expected_end_at"] = json!((chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339());
        let (s, b) = app.post("/api/v1/emergencies", &crew.coord, late).await;
        assert_eq!((s, b["fields"]["expected_end_at"]["code"].as_str()), (422, Some("out_of_range")), "{b}");
        let mut lax = declare("420102003");
        lax["deadline_factors"] = json!({"general": 1.5, "significant": 0.5, "serious": 0.5, "critical": 0.5});
        let (s, b) = app.post("/api/v1/emergencies", &crew.coord, lax).await;
        assert_eq!((s, b["fields"]["deadline_factors"]["code"].as_str()), (422, Some("out_of_range")), "{b}");

        let (s, em) = app.post("/api/v1/emergencies", &crew.coord, declare("420102003")).await;
        assert_eq!(s, 201, "{em}");
        assert_eq!(em["events_shortened"], 1, "{em}");
        let id = em["id"].as_str().unwrap().to_owned();
        let (s, b) = app.post("/api/v1/emergencies", &crew.coord, declare("420102003")).await;
        assert_eq!(s, 409, "one running emergency per area: {b}");

        // The live event's deadline shrank, noted on its timeline.
        let after = event(&app, &crew.coord, &live).await;
        let due_after = instant(&after["due_at"]);
        assert!(due_after < due_before, "{due_before} → {due_after}");
        let steps: Vec<&str> = after["timeline"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
        assert!(steps.contains(&"emergency_declared"), "{steps:?}");

        // Everyone working there was told; li.na, off duty, was called on duty; the other street not.
        let (_, inbox) = app.get("/api/v1/notifications", &crew.wang).await;
        assert!(kinds(&inbox).contains(&"emergency_declared".to_owned()), "{inbox}");
        let (_, inbox) = app.get("/api/v1/notifications", &crew.li).await;
        assert!(kinds(&inbox).contains(&"called_on_duty".to_owned()), "{inbox}");
        let (_, inbox) = app.get("/api/v1/notifications", &crew.wang).await;
        assert!(!kinds(&inbox).contains(&"called_on_duty".to_owned()), "wang is on duty: {inbox}");
        let (_, inbox) = app.get("/api/v1/notifications", &out_coord).await;
        assert!(!kinds(&inbox).contains(&"emergency_declared".to_owned()), "{inbox}");
        let (_, list) = app.get("/api/v1/emergencies", &crew.wang).await;
        assert_eq!(list["emergencies"][0]["id"].as_str(), Some(id.as_str()), "{list}");
        let (_, list) = app.get("/api/v1/emergencies", &out_coord).await;
        assert_eq!(list["emergencies"], json!([]), "{list}");

        // A new event here gets the emergency's time; one in another district the normal time.
        let inside = event(&app, &crew.coord, &report(&app, &crew.chen, IN, "E-01-01").await).await;
        let outside = event(&app, &out_coord, &report(&app, &crew.chen, OUT, "E-01-01").await).await;
        let given = |e: &Value| (instant(&e["due_at"]) - instant(&e["created_at"])).num_seconds();
        assert_eq!(given(&inside) * 2, given(&outside), "half the time for its grade: {inside} {outside}");

        // Overdue during the emergency: straight to the city centre.
        let state = app.state.clone();
        let at = due_after.naive_utc() + chrono::Duration::minutes(1);
        app.db
            .run(move |conn| {
                let index = state.areas();
                scheduler::tick(conn, Ctx { index: &index, policy: &state.settings.event_loop }, at)
            })
            .await
            .unwrap();
        let escalated = event(&app, &crew.coord, &live).await;
        assert_eq!(escalated["escalation_level"], "city", "{escalated}");

        // A special operation: a task for every compound of wang's grid.
        let op = json!({"name": "汛期井盖排查", "area": "420102003001001", "target_level": "compound", "category": "C-06-01",
                        "description": "逐个小区检查井盖", "ends_at": end_at, "emergency_id": id});
        let (s, b) = app.post("/api/v1/special-operations", &crew.wang, op.clone()).await;
        assert_error(s, &b, 403, "forbidden");
        let mut shallow = op.clone();
        shallow["target_level"] = json!("street");
        let (s, b) = app.post("/api/v1/special-operations", &crew.coord, shallow).await;
        assert_eq!((s, b["fields"]["target_level"]["code"].as_str()), (422, Some("invalid_level")), "{b}");
        let (s, created) = app.post("/api/v1/special-operations", &crew.coord, op).await;
        assert_eq!(s, 201, "{created}");
        let tasks = created["tasks"].as_array().unwrap().clone();
        assert!(!tasks.is_empty() && created["total"].as_i64() == Some(tasks.len() as i64), "{created}");
        for t in &tasks {
            assert!(t["area"].as_str().unwrap().starts_with("420102003001001"), "{t}");
            let e = event(&app, &crew.coord, t["event_id"].as_str().unwrap()).await;
            assert_eq!(e["areas"]["compound"].as_str(), t["area"].as_str(), "the task lies in its compound: {e}");
            assert_ne!(e["state"], "reported", "{e}");
        }
        let op_id = created["id"].as_str().unwrap();
        assert_eq!(app.get(&format!("/api/v1/special-operations/{op_id}"), &crew.wang).await.0, 200);
        assert_eq!(app.get(&format!("/api/v1/special-operations/{op_id}"), &out_coord).await.0, 404);
        let (_, ops) = app.get("/api/v1/special-operations", &out_coord).await;
        assert_eq!(ops["operations"], json!([]));

        // Back to normal: only ops staff over the area; once; noted on the live event.
        let end = format!("/api/v1/emergencies/{id}/end");
        let (s, b) = app.post(&end, &crew.wang, json!({"reason": "雨停"})).await;
        assert_error(s, &b, 403, "forbidden");
        assert_eq!(app.post(&end, &out_coord, json!({"reason": "雨停"})).await.0, 404);
        let (s, b) = app.post(&end, &crew.coord, json!({"reason": "雨停"})).await;
        assert_eq!((s, b["end_reason"].as_str()), (200, Some("雨停")), "{b}");
        let (s, b) = app.post(&end, &crew.coord, json!({"reason": "雨停"})).await;
        assert_eq!((s, b["fields"]["emergency"]["code"].as_str()), (422, Some("already_ended")), "{b}");
        let ended = event(&app, &crew.coord, &live).await;
        let steps: Vec<&str> = ended["timeline"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
        assert!(steps.contains(&"emergency_ended"), "{steps:?}");
        let later = event(&app, &out_coord, &report(&app, &crew.chen, OUT, "C-04-01").await).await;
        let again = event(&app, &crew.coord, &report(&app, &crew.chen, IN, "C-04-01").await).await;
        assert_eq!(given(&again), given(&later), "normal time again");
    }
}
