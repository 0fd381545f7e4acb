//! A department's own system with an API key, on both backends: registered by an administrator
//! over its area, it reads its department's tasks and accepts, resolves with evidence and returns
//! them through the same state machine, recorded on the timeline as that system; it cannot touch
//! another department's tasks; revoked, its key stops at once.

use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, assert_error, both_backends};
use serde_json::{Value, json};

/// Inside demo grid 420102003001001 (district 420102).
const IN: (f64, f64) = (30.5825, 114.2740);

async fn report(app: &TestApp, token: &str, key: &str, category: &str, at: (f64, f64)) -> String {
    let body = json!({"category": category, "lat": at.0, "lng": at.1, "description": format!("系统测试 {key}")});
    let req = app.client.post(app.url("/api/v1/events")).bearer_auth(token).header("Idempotency-Key", key).json(&body);
    let (s, e) = app.send(req).await;
    assert_eq!(s, 201, "{e}");
    e["id"].as_str().unwrap().to_owned()
}

async fn act(app: &TestApp, token: &str, event: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/events/{event}/actions"), token, body).await
}

both_backends! {
    async fn a_department_system_works_its_own_tasks_and_nothing_else(app: TestApp) {
        let crew = app.street_crew().await;
        for (code, name) in [("water", "江岸区水务局"), ("drainage", "江岸区排水公司")] {
            let (s, b) = app.post("/api/v1/departments", &crew.admin, json!({"code": code, "name": name, "area_code": "420102"})).await;
            assert_eq!(s, 201, "{b}");
        }
        app.user("d.admin", Role::Admin, Some("420102")).await;
        app.user("o.admin", Role::Admin, Some("420103")).await;
        app.user_in_dept("drain1", Role::DeptHandler, Some("420102"), Some("drainage")).await;
        let (d_admin, o_admin) = (app.login("d.admin").await, app.login("o.admin").await);

        // Registered by an administrator over the area, inside the department's area.
        let body = json!({"name": "水务工单系统", "area": "420102"});
        let (s, b) = app.post("/api/v1/departments/water/systems", &o_admin, body.clone()).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post("/api/v1/departments/water/systems", &crew.coord, body.clone()).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post("/api/v1/departments/nowhere/systems", &d_admin, body.clone()).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.post("/api/v1/departments/water/systems", &crew.admin, json!({"name": "x", "area": "420103"})).await;
        assert_eq!((s, b["fields"]["area"]["code"].as_str()), (422, Some("outside_department")), "{b}");
        let (s, system) = app.post("/api/v1/departments/water/systems", &d_admin, body).await;
        assert_eq!(s, 201, "{system}");
        let key = system["api_key"].as_str().unwrap().to_owned();
        let system_id = system["id"].as_str().unwrap().to_owned();
        let (_, list) = app.get("/api/v1/departments/water/systems", &d_admin).await;
        assert_eq!(list["systems"][0]["id"], system_id.as_str());
        assert!(list["systems"][0].get("api_key").is_none(), "{list}");
        let (_, list) = app.get("/api/v1/departments/water/systems", &o_admin).await;
        assert_eq!(list["systems"], json!([]));

        // A burst water main goes to the water department's pool: the system is its handler.
        let water = report(&app, &crew.chen, "s1", "C-01-01", IN).await;
        let (s, b) = act(&app, &crew.coord, &water, json!({"action": "accept"})).await;
        assert_eq!(s, 200, "{b}");
        let (s, feed) = app.get("/api/v1/tasks/mine", &key).await;
        assert_eq!(s, 200, "{feed}");
        let tasks = feed["tasks"].as_array().unwrap();
        assert!(tasks.iter().any(|t| t["event"]["id"] == water.as_str() || t["event_id"] == water.as_str()), "{feed}");
        for step in ["claim", "start"] {
            let (s, b) = act(&app, &key, &water, json!({"action": step})).await;
            assert_eq!(s, 200, "{step}: {b}");
        }
        let photo = app.after_photo(&key, &water).await;
        let (s, b) = act(&app, &key, &water, json!({"action": "resolve", "evidence": [photo]})).await;
        assert_eq!((s, b["state"].as_str()), (200, Some("resolved")), "{b}");
        // Recorded as the system, by name on the ops centre's timeline.
        let (_, e) = app.get(&format!("/api/v1/events/{water}"), &crew.coord).await;
        let resolve = e["timeline"].as_array().unwrap().iter().find(|s| s["action"] == "resolve").unwrap().clone();
        assert_eq!((resolve["actor"].as_str(), resolve["role"].as_str()), (Some(system_id.as_str()), Some("dept_handler")), "{resolve}");
        assert_eq!(e["names"][&system_id], "水务工单系统", "{e}");

        // A second one it sends back, with a reason.
        let second = report(&app, &crew.chen, "s2", "C-01-01", (IN.0 + 0.002, IN.1)).await;
        act(&app, &crew.coord, &second, json!({"action": "accept"})).await;
        let (s, b) = act(&app, &key, &second, json!({"action": "return", "reason": "不属于供水管网"})).await;
        assert_eq!((s, b["state"].as_str()), (200, Some("returned")), "{b}");

        // Another department's task is not its to touch.
        let drain = report(&app, &crew.chen, "s3", "C-01-02", (IN.0 + 0.004, IN.1)).await;
        act(&app, &crew.coord, &drain, json!({"action": "accept"})).await;
        let (_, e) = app.get(&format!("/api/v1/events/{drain}"), &crew.coord).await;
        assert!(e["tasks"][0]["department"].as_str().is_some_and(|d| !d.is_empty()), "{e}");
        let (s, _) = act(&app, &key, &drain, json!({"action": "claim"})).await;
        assert!(s == 403 || s == 404, "{s}");
        // Even where the step is the right one for its own handler.
        let drain1 = app.login("drain1").await;
        for step in ["claim", "start"] {
            let (s, b) = act(&app, &drain1, &drain, json!({"action": step})).await;
            assert_eq!(s, 200, "{step}: {b}");
        }
        for body in [json!({"action": "resolve", "evidence": []}), json!({"action": "return", "reason": "x"})] {
            let (s, b) = act(&app, &key, &drain, body).await;
            assert!(s == 403 || s == 404, "{s}: {b}");
        }
        let (_, feed) = app.get("/api/v1/tasks/mine", &key).await;
        assert!(!feed.to_string().contains(&drain), "not in its task feed: {feed}");

        // Revoked: the key stops at once; its work stays on the timeline.
        let path = format!("/api/v1/departments/water/systems/{system_id}");
        let res = app.client.delete(app.url(&path)).bearer_auth(&o_admin).send().await.unwrap();
        assert_eq!(res.status(), 404);
        let res = app.client.delete(app.url(&path)).bearer_auth(&d_admin).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(app.get("/api/v1/tasks/mine", &key).await.0, 401);
        let (_, e) = app.get(&format!("/api/v1/events/{water}"), &crew.coord).await;
        assert!(e["timeline"].as_array().unwrap().iter().any(|s| s["actor"] == system_id.as_str()));
    }
}
