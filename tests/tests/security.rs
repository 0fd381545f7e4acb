//! One regression test per finding of the attacker's probe (issue 12): each failed before its
//! fix. The route-by-role picture is `scope_matrix.rs`.

use gridwork_mobile_core::Role;
use gridwork_tests::{PASSWORD, TestApp, assert_error, both_backends, status_json};
use serde_json::{Value, json};

/// Inside grid 420102003001001 (street 420102003).
const IN: (f64, f64) = (30.5825, 114.2740);
/// Inside district 420103.
const OUT: (f64, f64) = (30.5825, 114.3040);

async fn report(app: &TestApp, token: &str, at: (f64, f64)) -> String {
    let req = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"category": "C-03-01", "lat": at.0, "lng": at.1, "description": "security"}));
    let (s, b) = app.send(req).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/events/{id}/actions"), token, body).await
}

async fn patch(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    app.send(app.client.patch(app.url(path)).bearer_auth(token).json(&body)).await
}

async fn delete(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    app.send(app.client.delete(app.url(path)).bearer_auth(token)).await
}

async fn raw(app: &TestApp, token: &str, path: &str, body: &str) -> (u16, Value) {
    let req = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned());
    app.send(req).await
}

both_backends! {
    /// Finding 1: a district-scoped admin took over the system-wide admin by granting it a role in
    /// its district, then setting its password.
    async fn a_scoped_admin_cannot_take_over_a_system_wide_one(app: TestApp) {
        app.demo_city().await;
        let root_id = app.id_of("root").await;
        app.user("d.admin", Role::Admin, Some("420103")).await;
        let d = app.login("d.admin").await;
        let (s, b) = app.post(&format!("/api/v1/users/{root_id}/roles"), &d, json!({"role": "resident", "scope": "420103"})).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = patch(&app, &d, &format!("/api/v1/users/{root_id}"), json!({"password": "taken-over-now"})).await;
        assert_error(s, &b, 404, "not_found");
        for path in [format!("/api/v1/users/{root_id}/revoke-sessions")] {
            let (s, b) = app.post(&path, &d, json!({})).await;
            assert_error(s, &b, 404, "not_found");
        }
        assert_eq!(app.login_raw("root", "taken-over-now").await.status(), 401);
        // Even a grant made by root inside the district does not bring root into its reach.
        let root = app.login("root").await;
        let (s, b) = app.post(&format!("/api/v1/users/{root_id}/roles"), &root, json!({"role": "resident", "scope": "420103"})).await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = app.get(&format!("/api/v1/users/{root_id}"), &d).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = patch(&app, &d, &format!("/api/v1/users/{root_id}"), json!({"is_active": false})).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.get("/api/v1/users", &d).await;
        assert_eq!(s, 200);
        assert!(!b["users"].as_array().unwrap().iter().any(|u| u["id"] == root_id.as_str()), "{b}");
        // A user with one grant in the district and one elsewhere is out of the district's reach.
        let both = app.user("two.places", Role::GridWorker, Some("420103003001001")).await;
        let (s, _) = app.post(&format!("/api/v1/users/{both}/roles"), &root, json!({"role": "volunteer", "scope": "420102003001"})).await;
        assert_eq!(s, 201);
        let (s, b) = patch(&app, &d, &format!("/api/v1/users/{both}"), json!({"password": "new-password-1"})).await;
        assert_error(s, &b, 404, "not_found");
        // One's own password goes through /me/password (with the current one), not PATCH.
        let d_id = app.id_of("d.admin").await;
        let (s, b) = patch(&app, &d, &format!("/api/v1/users/{d_id}"), json!({"password": "new-password-1"})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["password"]["code"], "use_me_password");
    }

    /// Finding 1, the guard: only system-wide administrators count as "the last administrator".
    async fn the_last_system_wide_admin_stays_while_scoped_admins_exist(app: TestApp) {
        app.demo_city().await;
        app.user("d.admin", Role::Admin, Some("420103")).await;
        let root = app.login("root").await;
        let (_, me) = app.get("/api/v1/me", &root).await;
        let root_id = me["user"]["id"].as_str().unwrap().to_owned();
        let grant = me["roles"].as_array().unwrap().iter().find(|g| g["role"] == "admin").unwrap()["id"].as_str().unwrap().to_owned();
        let (s, b) = delete(&app, &root, &format!("/api/v1/users/{root_id}/roles/{grant}")).await;
        assert_error(s, &b, 409, "conflict");
        // With a second system-wide admin, the first may go.
        let second = app.user("root2", Role::Admin, None).await;
        let (s, b) = delete(&app, &root, &format!("/api/v1/users/{root_id}/roles/{grant}")).await;
        assert_eq!(s, 200, "{b}");
        // ... and the second cannot disable itself.
        let r2 = app.login("root2").await;
        let (s, b) = patch(&app, &r2, &format!("/api/v1/users/{second}"), json!({"is_active": false})).await;
        assert_error(s, &b, 422, "validation_failed");
    }

    /// Finding 6: revoking a grant of a user out of reach answers as for a user who does not exist.
    async fn role_revocation_does_not_reveal_who_exists(app: TestApp) {
        app.demo_city().await;
        let far = app.user("far.away", Role::GridWorker, Some("420103003001001")).await;
        app.user("d.admin", Role::Admin, Some("420102")).await;
        let d = app.login("d.admin").await;
        let root = app.login("root").await;
        let (_, u) = app.get(&format!("/api/v1/users/{far}"), &root).await;
        let grant = u["roles"][0]["id"].as_str().unwrap();
        let (s1, b1) = delete(&app, &d, &format!("/api/v1/users/far.away/roles/{grant}")).await;
        let (s2, b2) = delete(&app, &d, &format!("/api/v1/users/no.such.user/roles/{grant}")).await;
        assert_eq!((s1, &b1["error"]), (s2, &b2["error"]));
        assert_eq!(s1, 404);
        let strip = |b: &Value| b["message"].as_str().unwrap().replace("far.away", "X").replace("no.such.user", "X");
        assert_eq!(strip(&b1), strip(&b2));
    }

    /// Finding 6: concurrent guesses are counted before any password is checked, so no more than
    /// the limit are ever verified.
    async fn concurrent_guesses_check_no_more_than_the_limit(app: TestApp) {
        app.user("target", Role::Resident, Some("420100")).await;
        let attempts = (0..30).map(|i| {
            let client = app.client.clone();
            let url = app.url("/api/v1/auth/login");
            async move {
                let body = json!({"username": "target", "password": format!("wrong-guess-{i}")});
                client.post(url).json(&body).send().await.unwrap().status().as_u16()
            }
        });
        let mut set = tokio::task::JoinSet::new();
        for attempt in attempts {
            set.spawn(attempt);
        }
        let statuses: Vec<u16> = set.join_all().await;
        assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
        // Every attempt that got as far as checking its password counted one failure: the counter
        // is how many passwords were tried.
        let row = app
            .db
            .run(|conn| Ok(gridwork::queries::throttle::get(conn, "user:target")?))
            .await
            .unwrap()
            .expect("the account's throttle row");
        assert!(row.failures <= 5, "{} passwords were checked against a limit of 5: {statuses:?}", row.failures);
        // Locked now, even for the right password.
        let (s, b) = status_json(app.login_raw("target", PASSWORD).await).await;
        assert_error(s, &b, 429, "login_locked");
    }

    /// Finding 4: every part of a split lies inside the splitter's area.
    async fn split_parts_stay_inside_the_scope(app: TestApp) {
        let c = app.street_crew().await;
        let id = report(&app, &c.chen, IN).await;
        let (s, b) = act(&app, &c.coord, &id, json!({"action": "accept"})).await;
        assert_eq!(s, 200, "{b}");
        let parts = json!({"parts": [
            {"category": "C-03-01", "description": "here"},
            {"category": "E-01-02", "description": "there", "location": {"lat": OUT.0, "lng": OUT.1}}
        ], "reason": "two places"});
        let (s, b) = app.post(&format!("/api/v1/events/{id}/split"), &c.coord, parts).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["parts[1].location"]["code"], "outside_scope", "{b}");
        // Nothing was written: the root sees no event in the other district.
        let (_, list) = app.get("/api/v1/events?area=420103", &c.admin).await;
        assert_eq!(list["events"].as_array().unwrap().len(), 0, "{list}");
    }

    /// Finding 5: only handlers of the event's area may be named, each once; a handler taken off
    /// an event stops hearing of it.
    async fn dispatch_names_handlers_of_the_area_once(app: TestApp) {
        let c = app.street_crew().await;
        let far = app.user("far.worker", Role::GridWorker, Some("420103003001001")).await;
        let admin_id = app.id_of("root").await;
        let chen = app.id_of("chen").await;
        let (wang, li) = (app.id_of("wang").await, app.id_of("li.na").await);
        let id = report(&app, &c.chen, IN).await;
        let (s, b) = act(&app, &c.coord, &id, json!({"action": "accept"})).await;
        assert_eq!(s, 200, "{b}");
        for (who, code) in [(&chen, "not_a_handler_here"), (&admin_id, "not_a_handler_here"), (&far, "not_a_handler_here")] {
            let (s, b) = act(&app, &c.coord, &id, json!({"action": "dispatch", "assignees": [who]})).await;
            assert_error(s, &b, 422, "validation_failed");
            assert_eq!(b["fields"]["assignees[0]"]["code"], code, "{b}");
        }
        let (s, b) = act(&app, &c.coord, &id, json!({"action": "dispatch", "assignees": [wang, li, wang]})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["assignees"]["code"], "duplicate", "{b}");
        let many: Vec<String> = (0..21).map(|_| wang.clone()).collect();
        let (s, b) = act(&app, &c.coord, &id, json!({"action": "dispatch", "assignees": many})).await;
        assert_eq!((s, b["fields"]["assignees"]["code"].as_str()), (422, Some("too_many")), "{b}");
        // Given to wang, then taken from him: his feed says the task is gone, without the event.
        let (s, b) = act(&app, &c.coord, &id, json!({"action": "dispatch", "assignees": [wang]})).await;
        assert_eq!(s, 200, "{b}");
        let (_, first) = app.get("/api/v1/tasks/mine", &c.wang).await;
        let cursor = first["cursor"].as_str().unwrap().to_owned();
        let (s, b) = act(&app, &c.coord, &id, json!({"action": "dispatch", "assignees": [li], "reason": "wang is ill"})).await;
        assert_eq!(s, 200, "{b}");
        tokio::time::sleep(std::time::Duration::from_millis(5200)).await;
        let (_, feed) = app.get(&format!("/api/v1/tasks/mine?since={cursor}"), &c.wang).await;
        let task = feed["tasks"].as_array().unwrap().iter().find(|t| t["event_id"] == id.as_str()).unwrap_or_else(|| panic!("{feed}"));
        assert_eq!((task["state"].as_str(), task["open"].as_bool()), (Some("withdrawn"), Some(false)), "{task}");
        assert!(task["event"].is_null(), "a withdrawn handler still sees the event: {task}");
        // The departments list of a dispatch is bounded.
        let depts: Vec<String> = (0..5000).map(|i| format!("d{i}")).collect();
        let (s, b) = act(&app, &c.coord, &id, json!({"action": "dispatch", "assignees": [], "departments": depts})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert!(b["fields"]["departments"].is_object(), "{b}");
    }

    /// Finding 7: sloppy input is refused with the field at fault.
    async fn sloppy_input_is_refused(app: TestApp) {
        let c = app.street_crew().await;
        let id = report(&app, &c.chen, IN).await;
        let actions = &format!("/api/v1/events/{id}/actions");
        let (s, b) = raw(&app, &c.coord, actions, r#"{"action": "accept"} xyz"#).await;
        assert_error(s, &b, 400, "invalid_json");
        let (s, b) = raw(&app, &c.coord, actions, r#"{"a":"#).await;
        assert_error(s, &b, 400, "invalid_json");
        let (s, b) = raw(&app, &c.coord, actions, r#"[{"action": "accept"}]"#).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["body"]["code"], "invalid_type");
        let (s, b) = raw(&app, &c.coord, actions, r#"{"action": 7, "reason": "x"}"#).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["action"]["code"], "invalid_type");
        let bulk = json!({"events": [id], "action": {"action": 0}});
        let (s, b) = app.post("/api/v1/events/bulk", &c.coord, bulk).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["action.action"]["code"], "invalid_type");
        // The event is untouched by all of that.
        let (_, e) = app.get(&format!("/api/v1/events/{id}"), &c.coord).await;
        assert_eq!(e["state"], "reported");
        // Blank text and endless reasons.
        let (s, b) = app.post("/api/v1/events", &c.chen, json!({"category": "C-03-01", "lat": IN.0, "lng": IN.1, "description": "   "})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["description"]["code"], "blank");
        let (s, b) = app.post("/api/v1/users", &c.admin, json!({"username": "blank.name", "display_name": " \t ", "password": PASSWORD})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["display_name"]["code"], "blank");
        let long = "长".repeat(501);
        let (s, b) = act(&app, &c.coord, &id, json!({"action": "reject", "reason": long})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["reason"]["code"], "too_long");
        let (_, e) = app.get(&format!("/api/v1/events/{id}"), &c.coord).await;
        assert_eq!(e["state"], "reported");
        // Coordinates given in BD-09 near a pole stay on the globe.
        let (s, b) = app.post("/api/v1/events", &c.chen, json!({"category": "C-03-01", "lat": 89.9999, "lng": 179.9999, "crs": "bd09", "description": "north"})).await;
        assert!(s == 422 || s == 201, "{s} {b}");
        if s == 201 {
            assert!(b["location"]["lat"].as_f64().unwrap() <= 90.0 && b["location"]["lng"].as_f64().unwrap() <= 180.0, "{b}");
        }
    }

    /// Finding 3: an open event stream ends once its session does, however it ends.
    async fn streams_end_with_their_session(app: TestApp) {
        let c = app.street_crew().await;
        let coord_id = app.id_of("coord").await;
        for how in ["logout", "revoke-sessions", "password change", "disabled"] {
            let token = app.login("coord").await;
            let mut stream = app.client.get(app.url("/api/v1/events/stream")).bearer_auth(&token).send().await.unwrap();
            assert_eq!(stream.status(), 200);
            assert!(stream.chunk().await.unwrap().is_some(), "{how}: no greeting");
            let user = format!("/api/v1/users/{coord_id}");
            let (s, b) = match how {
                "logout" => app.post("/api/v1/auth/logout", &token, json!({})).await,
                "revoke-sessions" => app.post(&format!("{user}/revoke-sessions"), &c.admin, json!({})).await,
                "password change" => patch(&app, &c.admin, &user, json!({"password": PASSWORD})).await,
                _ => patch(&app, &c.admin, &user, json!({"is_active": false})).await,
            };
            assert_eq!(s, 200, "{how}: {b}");
            let started = std::time::Instant::now();
            let ended = tokio::time::timeout(std::time::Duration::from_secs(8), async {
                while let Ok(Some(_)) = stream.chunk().await {}
            })
            .await;
            assert!(ended.is_ok(), "{how}: the stream is still open after 8 s");
            assert!(started.elapsed() < std::time::Duration::from_secs(6), "{how}: took {:?}", started.elapsed());
            if how == "disabled" {
                let (s, b) = patch(&app, &c.admin, &user, json!({"is_active": true})).await;
                assert_eq!(s, 200, "{b}");
            }
        }
    }
}
