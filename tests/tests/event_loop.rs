//! The closed loop end to end on both backends: automatic, explained dispatch from duty and
//! location; return and redispatch; cross-department tasks; merge, split and bulk reassignment;
//! deadline warnings and escalation with a fake clock (two servers, one database); the task feed,
//! the live stream, evaluation, the timeline's hash chain; and scope violations refused.

use gridwork::events::actions::Ctx;
use gridwork::events::{hotspots, scheduler};
use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, assert_error, both_backends};
use serde_json::{Value, json};

/// Inside grid 420102003001001 (street 420102003).
const P: (f64, f64) = (30.5825, 114.2740);

struct City {
    admin: String,
    coord: String,
    wang: String,
    zhou: String,
    sun: String,
    he: String,
    zhao: String,
    chen: String,
    district: String,
}

async fn city(app: &TestApp) -> City {
    let admin = app.demo_city().await;
    for (code, name) in [("water", "水务局"), ("roads", "市政道路")] {
        let (s, b) =
            app.post("/api/v1/departments", &admin, json!({"code": code, "name": name, "area_code": "420102"})).await;
        assert_eq!(s, 201, "{b}");
    }
    app.user("coord", Role::Coordinator, Some("420102003")).await;
    app.user("wang", Role::GridWorker, Some("420102003001001")).await;
    app.user("zhou", Role::GridWorker, Some("420102003002001")).await;
    app.user("sun", Role::GridWorker, Some("420102003001002")).await;
    app.user("qian", Role::GridWorker, Some("420102003001001")).await;
    app.user("he.wei", Role::GridWorker, Some("420102004001001")).await;
    app.user("zhao", Role::Volunteer, Some("420102003001")).await;
    app.user("chen", Role::Resident, Some("420100")).await;
    app.user("district", Role::DistrictOperator, Some("420102")).await;
    app.user("city", Role::CityOperator, Some("420100")).await;
    app.user_in_dept("water1", Role::DeptHandler, Some("420102"), Some("water")).await;
    app.user_in_dept("roads1", Role::DeptHandler, Some("420102"), Some("roads")).await;
    City {
        admin,
        coord: app.login("coord").await,
        wang: app.login("wang").await,
        zhou: app.login("zhou").await,
        sun: app.login("sun").await,
        he: app.login("he.wei").await,
        zhao: app.login("zhao").await,
        chen: app.login("chen").await,
        district: app.login("district").await,
    }
}

async fn report(app: &TestApp, token: &str, key: &str, category: &str, at: (f64, f64)) -> Value {
    file(
        app,
        token,
        key,
        json!({"category": category, "lat": at.0, "lng": at.1, "description": format!("{category} at {at:?}")}),
    )
    .await
}

/// A grid worker's patrol report: accepted (and dispatched) at once.
async fn patrol(app: &TestApp, token: &str, key: &str, category: &str, at: (f64, f64)) -> Value {
    let body =
        json!({"category": category, "lat": at.0, "lng": at.1, "description": "巡查发现", "source": "grid_worker"});
    file(app, token, key, body).await
}

async fn file(app: &TestApp, token: &str, key: &str, body: Value) -> Value {
    let req = app.client.post(app.url("/api/v1/events")).bearer_auth(token).header("Idempotency-Key", key).json(&body);
    let (s, e) = app.send(req).await;
    assert!(s == 201 || s == 200, "{s} {e}");
    e
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/events/{id}/actions"), token, body).await
}

async fn ok(app: &TestApp, token: &str, id: &str, body: Value) -> Value {
    let (s, b) = act(app, token, id, body.clone()).await;
    assert_eq!(s, 200, "{body} → {b}");
    b
}

/// The lead assignee of an event.
async fn e_assignee(app: &TestApp, token: &str, id: &str) -> String {
    detail(app, token, id).await["assignees"][0].as_str().unwrap_or_default().to_owned()
}

async fn detail(app: &TestApp, token: &str, id: &str) -> Value {
    let (s, b) = app.get(&format!("/api/v1/events/{id}"), token).await;
    assert_eq!(s, 200, "{b}");
    b
}

fn id(e: &Value) -> String {
    e["id"].as_str().unwrap().to_owned()
}

async fn tick(app: &TestApp, minutes_ahead: i64) -> scheduler::Tick {
    let state = app.state.clone();
    let at = gridwork::models::now() + chrono::Duration::minutes(minutes_ahead);
    app.db
        .run(move |conn| {
            let index = state.areas();
            scheduler::tick(conn, Ctx { index: &index, policy: &state.settings.event_loop }, at)
        })
        .await
        .unwrap()
}

both_backends! {
    async fn a_volunteer_report_is_dispatched_to_the_grid_worker_and_the_loop_closes(app: TestApp) {
        let c = city(&app).await;
        app.on_duty(&c.wang, (30.584, 114.276)).await;
        app.on_duty(&c.sun, (30.595, 114.280)).await;
        // 积存垃圾渣土: a grid-worker category.
        let e = report(&app, &c.zhao, "v-1", "E-01-02", P).await;
        assert_eq!(e["state"], "reported");
        // Filed as a volunteer's by role, not by the client's say-so; a resident cannot claim it.
        assert_eq!(e["source"], "volunteer");
        let body = json!({"category": "E-01-02", "lat": P.0, "lng": P.1, "description": "冒充志愿者", "source": "volunteer"});
        let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&c.chen).header("Idempotency-Key", "fake-vol").json(&body);
        let (s, b) = app.send(req).await;
        assert_eq!((s, b["fields"]["source"]["code"].as_str()), (422, Some("source_not_permitted")), "{b}");
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "accept"})).await;
        assert_eq!(e["state"], "dispatched");
        assert_eq!(e["assignees"], json!([app.id_of("wang").await]));
        let full = detail(&app, &c.coord, &id(&e)).await;
        let why = &full["tasks"][0]["why"];
        assert_eq!(why["rule"], "grid_on_duty", "{full}");
        assert_eq!(why["grid"], "420102003001001");
        assert!(why["distance_m"].as_f64().unwrap() < 300.0, "{why}");

        // The worker's queue has it; the phone syncs from the cursor afterwards.
        let (s, q) = app.get("/api/v1/tasks/mine", &c.wang).await;
        assert_eq!(s, 200, "{q}");
        assert_eq!(q["tasks"][0]["event_id"], e["id"]);
        let cursor = q["cursor"].as_str().unwrap().to_owned();
        let at = json!({"lat": 30.5826, "lng": 114.2741});
        ok(&app, &c.wang, &id(&e), json!({"action": "claim", "location": at})).await;
        ok(&app, &c.wang, &id(&e), json!({"action": "start"})).await;
        ok(&app, &c.wang, &id(&e), json!({"action": "resolve", "evidence": [app.after_photo(&c.wang, &id(&e)).await]})).await;
        let (_, q) = app.get(&format!("/api/v1/tasks/mine?since={cursor}"), &c.wang).await;
        assert_eq!(q["tasks"][0]["state"], "resolved", "{q}");
        // Rework by a different grid worker, then a second resolution verified by the coordinator.
        let (s, b) = act(&app, &c.wang, &id(&e), json!({"action": "verify"})).await;
        assert_error(s, &b, 403, "forbidden");
        // Sun works another grid: he cannot even see it. Qian, of the same grid, checks it.
        let (s, b) = act(&app, &c.sun, &id(&e), json!({"action": "rework", "reason": "渣土还在"})).await;
        assert_error(s, &b, 404, "not_found");
        let qian = app.login("qian").await;
        // It waits in the verify queue of qian and the coordinator, not of wang who resolved it,
        // nor of sun of another grid.
        let queued = |b: &Value| b["events"].as_array().unwrap().iter().any(|x| x["id"] == e["id"]);
        for (token, expected) in [(&qian, true), (&c.coord, true), (&c.wang, false), (&c.sun, false)] {
            let (s, b) = app.get("/api/v1/verify-queue", token).await;
            assert_eq!((s, queued(&b)), (200, expected), "{b}");
        }
        let (s, _) = app.get("/api/v1/verify-queue", &c.zhao).await;
        assert_eq!(s, 403);
        ok(&app, &qian, &id(&e), json!({"action": "rework", "reason": "渣土还在"})).await;
        let (_, b) = app.get("/api/v1/verify-queue", &qian).await;
        assert!(!queued(&b), "{b}");
        ok(&app, &c.wang, &id(&e), json!({"action": "start"})).await;
        ok(&app, &c.wang, &id(&e), json!({"action": "resolve", "evidence": [app.after_photo(&c.wang, &id(&e)).await, app.after_photo(&c.wang, &id(&e)).await]})).await;
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "verify"})).await;
        assert_eq!((e["state"].as_str(), e["rework_count"].as_i64()), (Some("closed"), Some(1)));

        let full = detail(&app, &c.coord, &id(&e)).await;
        let tl = full["timeline"].as_array().unwrap();
        let steps: Vec<&str> = tl.iter().map(|t| t["action"].as_str().unwrap()).collect();
        assert_eq!(steps, ["report", "accept", "dispatch", "claim", "start", "resolve", "rework", "start", "resolve", "verify"]);
        assert_eq!(tl[2]["role"], "system");
        assert_eq!(tl[3]["location"]["lat"], 30.5826);
        assert_eq!(tl[6]["reason"], "渣土还在");
        // The reporter heard it was accepted and closed; the worker of the task and the rework.
        let kinds = notifications(&app, "zhao").await;
        assert_eq!(kinds, ["report_accepted", "report_closed"]);
        assert_eq!(notifications(&app, "wang").await, ["task_assigned", "rework", "verified"]);
    }

    async fn with_the_grid_off_duty_the_nearest_free_worker_of_the_street_gets_it(app: TestApp) {
        let c = city(&app).await;
        // Another street's worker stands right beside the problem: not eligible.
        app.on_duty(&c.he, (P.0 + 0.0001, P.1 + 0.0001)).await;
        app.on_duty(&c.zhou, (30.583, 114.287)).await; // ~1.3 km
        app.on_duty(&c.sun, (30.595, 114.280)).await; // ~1.5 km
        let e = patrol(&app, &c.wang, "patrol-1", "C-03-01", P).await;
        // A patrol report is accepted and dispatched at once.
        assert_eq!(e["state"], "dispatched", "{e}");
        assert_eq!(e["assignees"], json!([app.id_of("zhou").await]));
        let why = detail(&app, &c.coord, &id(&e)).await["tasks"][0]["why"].clone();
        assert_eq!((why["rule"].as_str(), why["on_duty_in_street"].as_i64()), (Some("nearest_in_street"), Some(2)), "{why}");

        // Zhou hands it back: redispatched to the next one, never back to zhou.
        let (s, b) = act(&app, &c.zhou, &id(&e), json!({"action": "return", "reason": " "})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["reason"]["code"], "reason_required");
        let e = ok(&app, &c.zhou, &id(&e), json!({"action": "return", "reason": "不在我的片区"})).await;
        assert_eq!((e["state"].as_str(), e["assignees"].clone()), (Some("dispatched"), json!([app.id_of("sun").await])));
        let full = detail(&app, &c.coord, &id(&e)).await;
        let states: Vec<&str> = full["tasks"].as_array().unwrap().iter().map(|t| t["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["returned", "assigned"]);
        // Sun asks for more time: nothing moves until the coordinator extends.
        let due = e["due_at"].clone();
        let e = ok(&app, &c.sun, &id(&e), json!({"action": "request_extension", "reason": "等待物业开门"})).await;
        assert_eq!((&e["due_at"], e["extension_requested"].as_bool()), (&due, Some(true)));
        assert!(notifications(&app, "coord").await.contains(&"extension_requested".to_owned()));
        // It waits in the coordinator's list of requests; asking twice is refused.
        let (s, b) = app.get("/api/v1/events?extension_requested=true", &c.coord).await;
        assert_eq!((s, b["events"][0]["id"].as_str()), (200, e["id"].as_str()), "{b}");
        let (s, b) = act(&app, &c.sun, &id(&e), json!({"action": "request_extension", "reason": "再等等"})).await;
        assert_eq!((s, b["fields"]["action"]["code"].as_str()), (409, Some("extension_pending")), "{b}");
        // Refused: the deadline stands, sun is told why, and the request is answered.
        let (s, b) = act(&app, &c.sun, &id(&e), json!({"action": "refuse_extension", "reason": "x"})).await;
        assert_eq!((s, b["fields"]["action"]["code"].as_str()), (403, Some("not_permitted")), "{b}");
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "refuse_extension", "reason": "物业已开门"})).await;
        assert_eq!((&e["due_at"], e["extension_requested"].as_bool()), (&due, Some(false)));
        assert!(notifications(&app, "sun").await.contains(&"extension_refused".to_owned()));
        let (_, b) = app.get("/api/v1/events?extension_requested=true", &c.coord).await;
        assert_eq!(b["events"], json!([]));
        let (s, b) = act(&app, &c.coord, &id(&e), json!({"action": "refuse_extension", "reason": "x"})).await;
        assert_eq!((s, b["fields"]["action"]["code"].as_str()), (409, Some("no_extension_requested")), "{b}");
        // Asked again and granted: the deadline moves.
        let e = ok(&app, &c.sun, &id(&e), json!({"action": "request_extension", "reason": "零件未到"})).await;
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "extend", "reason": "同意延期"})).await;
        assert_ne!(e["due_at"], due);
        assert_eq!(e["extension_requested"], false);
        assert!(notifications(&app, "sun").await.contains(&"extension_granted".to_owned()));
        // Taking it from sun needs a reason.
        let wang = app.id_of("wang").await;
        let (s, b) = act(&app, &c.coord, &id(&e), json!({"action": "dispatch", "assignees": [wang]})).await;
        assert_eq!((s, b["fields"]["reason"]["code"].as_str()), (422, Some("reason_required")));
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "dispatch", "assignees": [wang], "reason": "王已回岗"})).await;
        assert_eq!(e["assignees"], json!([wang]));

        // With nobody of the street on duty, it waits for the coordinator.
        app.put("/api/v1/me/duty", &c.sun, json!({"on_duty": false})).await;
        let e2 = patrol(&app, &c.zhou, "patrol-2", "C-06-01", (30.5835, 114.2745)).await;
        assert_eq!(e2["assignees"], json!([app.id_of("zhou").await]));
        let full = detail(&app, &c.coord, &id(&e2)).await;
        assert_eq!(full["tasks"][0]["why"]["rule"], "nearest_in_street");
        app.put("/api/v1/me/duty", &c.zhou, json!({"on_duty": false})).await;
        let e3 = patrol(&app, &c.wang, "patrol-3", "C-06-01", (30.5815, 114.2790)).await;
        assert_eq!(e3["state"], "accepted");
        let last = detail(&app, &c.coord, &id(&e3)).await["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "dispatch_pending");
        assert_eq!(last["detail"]["problem"], "no grid worker on duty in the street");
        assert!(notifications(&app, "coord").await.contains(&"dispatch_needed".to_owned()));
    }

    /// The candidate list is dispatch's own order (the first free one is whom it picks), with
    /// load and distance, and only for those who may dispatch the event.
    async fn the_candidate_list_ranks_like_dispatch_and_only_ops_centres_see_it(app: TestApp) {
        let c = city(&app).await;
        app.on_duty(&c.he, (P.0 + 0.0001, P.1 + 0.0001)).await; // another street: never listed
        app.on_duty(&c.zhou, (30.583, 114.287)).await; // ~1.3 km
        app.on_duty(&c.sun, (30.595, 114.280)).await; // ~1.5 km
        let e = report(&app, &c.zhao, "cand-1", "C-03-01", P).await;
        // The queue filters by source and grade; an unknown value is named, not ignored.
        let listed = |b: &Value| b["events"].as_array().unwrap().iter().any(|x| x["id"] == e["id"]);
        let (_, b) = app.get(&format!("/api/v1/events?source={}&grade={}", e["source"].as_str().unwrap(), e["grade"].as_str().unwrap()), &c.coord).await;
        assert!(listed(&b), "{b}");
        let (_, b) = app.get("/api/v1/events?source=sensor", &c.coord).await;
        assert!(!listed(&b), "{b}");
        let (s, b) = app.get("/api/v1/events?grade=urgent", &c.coord).await;
        assert_eq!((s, b["fields"]["grade"]["code"].as_str().is_some()), (422, true), "{b}");
        let path = format!("/api/v1/events/{}/candidates", id(&e));
        // Reported, not accepted yet: nothing to dispatch.
        let (s, b) = app.get(&path, &c.coord).await;
        assert_error(s, &b, 409, "conflict");
        ok(&app, &c.coord, &id(&e), json!({"action": "accept"})).await;
        let (s, b) = app.get(&path, &c.coord).await;
        assert_eq!(s, 200, "{b}");
        let list = b["candidates"].as_array().unwrap();
        let names: Vec<&str> = list.iter().map(|x| x["display_name"].as_str().unwrap()).collect();
        let (zhou, sun) = (app.id_of("zhou").await, app.id_of("sun").await);
        // Zhou, nearest, got it at accept; with one task he now weighs ~500 m more than sun, so
        // sun is whom dispatch would pick next.
        assert_eq!(e_assignee(&app, &c.coord, &id(&e)).await, zhou);
        assert_eq!(list[0]["user_id"], sun, "{b}");
        assert_eq!(list[1]["user_id"], zhou, "{b}");
        assert!(!names.contains(&"he.wei"), "a worker of another street is listed: {names:?}");
        // Then the department pools serving the area, each with its least-loaded handler.
        let depts: Vec<&str> = list.iter().filter_map(|x| x["department"].as_str()).collect();
        assert_eq!(depts, ["roads", "water"], "{b}");
        assert!(list.iter().filter(|x| x["department"].is_string()).all(|x| x["rule"] == "department_pool"));
        assert_eq!((list[0]["rule"].as_str(), list[0]["recommended"].as_bool()), (Some("nearest_in_street"), Some(true)));
        assert_eq!((list[0]["load"].as_i64(), list[1]["load"].as_i64()), (Some(0), Some(1)));
        assert!(list[1]["distance_m"].as_f64().unwrap() < list[0]["distance_m"].as_f64().unwrap(), "{b}");
        assert_eq!(list[1]["recommended"], false);
        // A grid worker over the event, the reporter and a worker of another street may not ask.
        for token in [&c.wang, &c.zhao] {
            let (s, b) = app.get(&path, token).await;
            assert_error(s, &b, 403, "forbidden");
        }
        let (s, b) = app.get(&path, &c.he).await;
        assert_error(s, &b, 404, "not_found");
    }

    /// The workforce board: the field workers of the caller's area with duty, load and last
    /// position; another street's workers only to those over both streets.
    async fn the_workforce_board_shows_the_callers_area_only(app: TestApp) {
        let c = city(&app).await;
        app.on_duty(&c.wang, (30.584, 114.276)).await;
        app.on_duty(&c.he, (30.5826, 114.2741)).await;
        let (s, b) = app.get("/api/v1/workforce", &c.coord).await;
        assert_eq!(s, 200, "{b}");
        let names: Vec<&str> = b["workers"].as_array().unwrap().iter().map(|w| w["display_name"].as_str().unwrap()).collect();
        assert_eq!(names[0], "wang", "on duty first: {b}");
        for name in ["zhou", "sun", "qian", "zhao"] {
            assert!(names.contains(&name), "{name} missing: {names:?}");
        }
        assert!(!names.contains(&"he.wei"), "another street's worker is shown: {names:?}");
        let wang = &b["workers"][0];
        assert_eq!((wang["on_duty"].as_bool(), wang["role"].as_str()), (Some(true), Some("grid_worker")));
        assert_eq!(wang["location"]["lat"], 30.584);
        // Narrowing to a grid; an area outside the caller's is not found, not widened.
        let (s, b) = app.get("/api/v1/workforce?area=420102003001001", &c.coord).await;
        assert_eq!(s, 200, "{b}");
        let names: Vec<&str> = b["workers"].as_array().unwrap().iter().map(|w| w["display_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["wang", "qian"]);
        let (s, b) = app.get("/api/v1/workforce?area=420102004", &c.coord).await;
        assert_error(s, &b, 404, "not_found");
        // The district sees both streets; field workers see no one's position.
        let (_, b) = app.get("/api/v1/workforce", &c.district).await;
        assert!(b["workers"].as_array().unwrap().iter().any(|w| w["display_name"] == "he.wei"), "{b}");
        let (s, b) = app.get("/api/v1/workforce", &c.wang).await;
        assert_error(s, &b, 403, "forbidden");
    }

    async fn a_cross_department_event_resolves_when_every_department_has(app: TestApp) {
        let c = city(&app).await;
        let water1 = app.login("water1").await;
        let roads1 = app.login("roads1").await;
        // 自来水管爆裂 goes to the water department's pool automatically.
        let e = report(&app, &c.chen, "burst", "E-05-02", P).await;
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "accept"})).await;
        assert_eq!(e["assignees"], json!([app.id_of("water1").await]));
        // The road is broken too: the coordinator makes it a joint case, water leading.
        let (s, b) = act(&app, &c.coord, &id(&e), json!({"action": "dispatch", "assignees": [], "departments": ["water", "nowhere"]})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["departments[1]"]["code"], "no_handler");
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "dispatch", "assignees": [], "departments": ["water", "roads"]})).await;
        assert_eq!(e["assignees"].as_array().unwrap().len(), 2);
        for t in [&water1, &roads1] {
            ok(&app, t, &id(&e), json!({"action": "claim"})).await;
            ok(&app, t, &id(&e), json!({"action": "start"})).await;
        }
        let e = ok(&app, &water1, &id(&e), json!({"action": "resolve", "evidence": [app.after_photo(&water1, &id(&e)).await]})).await;
        assert_eq!(e["state"], "in_progress");
        let (s, b) = act(&app, &water1, &id(&e), json!({"action": "resolve", "evidence": [app.after_photo(&water1, &id(&e)).await]})).await;
        assert_error(s, &b, 409, "conflict");
        let e = ok(&app, &roads1, &id(&e), json!({"action": "resolve", "evidence": [app.after_photo(&roads1, &id(&e)).await]})).await;
        assert_eq!(e["state"], "resolved");
        let full = detail(&app, &c.coord, &id(&e)).await;
        let tasks: Vec<(bool, &str, &str)> = full["tasks"].as_array().unwrap().iter()
            .map(|t| (t["lead"].as_bool().unwrap(), t["state"].as_str().unwrap(), t["why"]["department"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(tasks, [(true, "resolved", "water"), (false, "resolved", "roads")]);
        assert_eq!(ok(&app, &c.coord, &id(&e), json!({"action": "verify"})).await["state"], "closed");
    }

    async fn the_ops_centre_grades_and_the_deadline_follows(app: TestApp) {
        let c = city(&app).await;
        // A resident's grade is a suggestion: the event keeps the category's default.
        let body = json!({"category": "C-03-01", "lat": P.0, "lng": P.1, "description": "垃圾桶满溢", "grade": "critical"});
        let e = file(&app, &c.chen, "grade-1", body).await;
        assert_eq!((e["grade"].as_str(), e["suggested_grade"].as_str()), (Some("general"), Some("critical")), "{e}");
        let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
        let created = time(&e["created_at"]);
        assert_eq!(time(&e["due_at"]) - created, chrono::Duration::minutes(120), "general: 2 hours to accept");
        // Only the ops centre regrades, with a reason, to another grade.
        let regrade = |g: &str, r: &str| json!({"action": "regrade", "grade": g, "reason": r});
        let (s, b) = act(&app, &c.wang, &id(&e), regrade("critical", "学校门口")).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = act(&app, &c.coord, &id(&e), regrade("critical", " ")).await;
        assert_eq!((s, b["fields"]["reason"]["code"].as_str()), (422, Some("reason_required")), "{b}");
        let (s, b) = act(&app, &c.coord, &id(&e), regrade("general", "照旧")).await;
        assert_eq!((s, b["fields"]["grade"]["code"].as_str()), (422, Some("same_grade")), "{b}");
        let (s, b) = act(&app, &c.coord, &id(&e), json!({"action": "regrade", "grade": "urgent", "reason": "x"})).await;
        assert_eq!(s, 422, "{b}");
        let r = ok(&app, &c.coord, &id(&e), regrade("critical", "学校门口，影响学生")).await;
        assert_eq!((r["grade"].as_str(), r["state"].as_str()), (Some("critical"), Some("reported")));
        // The running stage is due by the new grade, from when it started.
        let e = detail(&app, &c.coord, &id(&e)).await;
        assert_eq!(time(&e["due_at"]) - created, chrono::Duration::minutes(15), "critical: 15 minutes to accept");
        let step = e["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((step["action"].as_str(), step["reason"].as_str()), (Some("regrade"), Some("学校门口，影响学生")));
        // The next stage runs by it too.
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "accept"})).await;
        let left = time(&e["due_at"]) - chrono::Utc::now().fixed_offset();
        assert!(left <= chrono::Duration::minutes(15) && left > chrono::Duration::minutes(13), "{left}");
        // An ops centre's own report is graded as filed.
        let body = json!({"category": "E-01-02", "lat": P.0, "lng": P.1, "description": "渣土", "grade": "serious"});
        let own = file(&app, &c.coord, "grade-2", body).await;
        assert_eq!((own["grade"].as_str(), own.get("suggested_grade")), (Some("serious"), None), "{own}");
        // A finished event is not regraded.
        let (s, b) = act(&app, &c.coord, &id(&own), json!({"action": "merge", "into": id(&e), "reason": "同一处"})).await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = act(&app, &c.coord, &id(&own), regrade("general", "x")).await;
        assert_eq!((s, b["fields"]["action"]["code"].as_str()), (409, Some("invalid_transition")), "{b}");
    }

    async fn a_supervision_order_is_answered_late_escalates_and_closes(app: TestApp) {
        let c = city(&app).await;
        app.on_duty(&c.wang, P).await;
        let e = report(&app, &c.chen, "sup-1", "C-03-01", P).await;
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "accept"})).await;
        assert_eq!(e["assignees"], json!([app.id_of("wang").await]), "{e}");
        ok(&app, &c.coord, &id(&e), json!({"action": "supervise", "reason": "群众反映强烈"})).await;
        let full = detail(&app, &c.coord, &id(&e)).await;
        let street = full["supervision_orders"][0].clone();
        assert_eq!((street["level"].as_str(), street["state"].as_str()), (Some("street"), Some("open")), "{street}");
        let due = chrono::DateTime::parse_from_rfc3339(street["due_at"].as_str().unwrap()).unwrap();
        let issued = chrono::DateTime::parse_from_rfc3339(street["created_at"].as_str().unwrap()).unwrap();
        assert_eq!(due - issued, chrono::Duration::hours(24), "a day to reply by default");
        let street_id = street["id"].as_str().unwrap().to_owned();
        // The handler has it to answer; the reporter and another street's worker do not see it.
        let listed = |b: &Value| b["orders"].as_array().unwrap().iter().map(|o| o["order"]["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        let (s, mine) = app.get("/api/v1/supervision-orders", &c.wang).await;
        assert_eq!((s, listed(&mine)), (200, vec![street_id.clone()]), "{mine}");
        for outsider in [&c.chen, &c.he] {
            let (s, none) = app.get("/api/v1/supervision-orders", outsider).await;
            assert_eq!((s, listed(&none)), (200, vec![]), "{none}");
        }
        let (s, b) = app.get("/api/v1/supervision-orders?state=lost", &c.coord).await;
        assert_eq!((s, b["fields"]["state"]["code"].as_str()), (422, Some("invalid_state")), "{b}");

        // Nobody answers in time: the scheduler hands it to the district.
        let id_ = street_id.clone();
        app.db
            .run(move |conn| {
                let mut o = gridwork::queries::events::order_by_id(conn, &id_)?.unwrap();
                o.due_at = Some(gridwork::models::now() - chrono::Duration::minutes(1));
                Ok(gridwork::queries::events::update_order(conn, &o, "open")?)
            })
            .await
            .unwrap();
        assert_eq!(tick(&app, 0).await.orders_escalated, 1);
        assert_eq!(tick(&app, 0).await.orders_escalated, 0, "once");
        let full = detail(&app, &c.coord, &id(&e)).await;
        let orders = full["supervision_orders"].as_array().unwrap().clone();
        assert_eq!(orders.len(), 2, "{orders:?}");
        let district_id = orders[1]["id"].as_str().unwrap().to_owned();
        assert_eq!((orders[0]["state"].as_str(), orders[0]["escalated_to"].as_str()), (Some("escalated"), Some(district_id.as_str())));
        assert_eq!((orders[1]["level"].as_str(), orders[1]["state"].as_str(), orders[1]["automatic"].as_bool()), (Some("district"), Some("open"), Some(true)));
        assert!(notifications(&app, "district").await.contains(&"supervision".to_owned()));

        // The late reply goes to the district's order; the escalated one takes none.
        let order_act = |o: &str| format!("/api/v1/supervision-orders/{o}/actions");
        let reply = |text: &str| json!({"action": "reply", "text": text});
        let (s, b) = app.post(&order_act(&street_id), &c.wang, reply("已处理")).await;
        assert_eq!((s, b["fields"]["action"]["code"].as_str()), (409, Some("invalid_transition")), "{b}");
        let (s, b) = app.post(&order_act(&district_id), &c.chen, reply("我来答")).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post(&order_act(&district_id), &c.he, reply("我来答")).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.post(&order_act(&district_id), &c.wang, reply(" ")).await;
        assert_eq!((s, b["fields"]["text"]["code"].as_str()), (422, Some("reason_required")), "{b}");
        let (s, b) = app.post(&order_act(&district_id), &c.wang, json!({"action": "reply", "text": "x", "evidence": ["nope"]})).await;
        assert_eq!((s, b["fields"]["evidence"]["code"].as_str()), (422, Some("unknown_evidence")), "{b}");
        let (s, photo) = app.upload_photo(&c.wang, gridwork_tests::unique_jpeg(), &[("kind", "before".into()), ("event_id", id(&e))]).await;
        assert!(s == 201 || s == 200, "{photo}");
        let (s, b) = app.post(&order_act(&district_id), &c.wang, json!({"action": "reply", "text": "已清运，附照片", "evidence": [photo["id"]]})).await;
        assert_eq!((s, b["state"].as_str(), b["reply_evidence"][0].as_str()), (200, Some("replied"), photo["id"].as_str()), "{b}");
        assert!(notifications(&app, "district").await.contains(&"supervision_replied".to_owned()));
        // The street cannot close the district's order; the district sends the reply back once.
        let (s, b) = app.post(&order_act(&district_id), &c.coord, json!({"action": "accept"})).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post(&order_act(&district_id), &c.district, json!({"action": "send_back"})).await;
        assert_eq!(s, 422, "{b}");
        let back = app.post(&order_act(&district_id), &c.district, json!({"action": "send_back", "reason": "没有整改前后对比"})).await;
        assert_eq!((back.0, back.1["state"].as_str()), (200, Some("open")), "{}", back.1);
        assert!(notifications(&app, "wang").await.contains(&"supervision_sent_back".to_owned()));
        let (s, _) = app.post(&order_act(&district_id), &c.district, json!({"action": "accept"})).await;
        assert_eq!(s, 409, "nothing to accept until the next reply");
        ok_order(&app, &c.wang, &order_act(&district_id), reply("已补充整改前后对比照片")).await;
        let closed = ok_order(&app, &c.district, &order_act(&district_id), json!({"action": "accept"})).await;
        assert_eq!(closed["state"], "closed");
        let steps: Vec<String> = detail(&app, &c.coord, &id(&e)).await["timeline"].as_array().unwrap().iter()
            .map(|t| t["action"].as_str().unwrap().to_owned()).filter(|a| a.starts_with("supervis")).collect();
        assert_eq!(steps, ["supervise", "supervision_escalate", "supervision_reply", "supervision_send_back", "supervision_reply", "supervision_accept"]);
        let (_, done) = app.get("/api/v1/supervision-orders?state=closed", &c.district).await;
        assert_eq!(listed(&done), vec![district_id]);
    }

    async fn recurring_reports_in_one_cell_become_a_hotspot_for_the_street(app: TestApp) {
        let c = city(&app).await;
        // Points around the centre of P's cell, 45 to 65 m apart: not duplicates of each other
        // (30 m for this category), all in one cell.
        let centre = h3o::LatLng::from(h3o::LatLng::new(P.0, P.1).unwrap().to_cell(h3o::Resolution::Nine));
        let spots = [(0.0003, 0.0), (-0.0003, 0.0), (0.0, 0.0004), (0.0, -0.0004)];
        let mut ids = vec![];
        for (i, (dlat, dlng)) in spots.iter().take(3).enumerate() {
            let body = json!({"category": "C-03-01", "lat": centre.lat() + dlat, "lng": centre.lng() + dlng, "description": format!("垃圾桶又满了 {i}")});
            let e = file(&app, &c.chen, &format!("hot-{i}"), body).await;
            assert_eq!(e["filed"], "created", "{e}");
            ids.push(id(&e));
            if i == 1 {
                assert_eq!(hotspot_scan(&app, 0).await.detected, 0, "two reports are no hotspot yet");
            }
        }
        // Another category in the same cell does not count.
        file(&app, &c.chen, "hot-x", json!({"category": "E-01-02", "lat": centre.lat(), "lng": centre.lng(), "description": "渣土"})).await;
        assert_eq!(hotspot_scan(&app, 0).await, hotspots::Scan { detected: 1, grown: 0, cooled: 0 });
        assert_eq!(hotspot_scan(&app, 0).await, hotspots::Scan::default(), "found once");
        let (s, list) = app.get("/api/v1/hotspots", &c.coord).await;
        assert_eq!(s, 200, "{list}");
        let h = &list["hotspots"][0];
        assert_eq!((h["category"].as_str(), h["street_code"].as_str(), h["event_count"].as_i64()), (Some("C-03-01"), Some("420102003"), Some(3)), "{h}");
        let mut listed: Vec<String> = h["events"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_owned()).collect();
        listed.sort();
        ids.sort();
        assert_eq!(listed, ids);
        assert!(notifications(&app, "coord").await.contains(&"hotspot".to_owned()));
        assert!(notifications(&app, "district").await.contains(&"hotspot".to_owned()));
        // Not for another street's coordinator, nor for field workers.
        app.user("coord.next", Role::Coordinator, Some("420102004")).await;
        let (s, other) = app.get("/api/v1/hotspots", &app.login("coord.next").await).await;
        assert_eq!((s, other["hotspots"].clone()), (200, json!([])));
        let (s, _) = app.get("/api/v1/hotspots", &c.wang).await;
        assert_eq!(s, 403);
        let (s, b) = app.get("/api/v1/hotspots?state=hot", &c.coord).await;
        assert_eq!((s, b["fields"]["state"]["code"].as_str()), (422, Some("invalid_state")));
        // A fourth report grows it; once the window has passed, it cools.
        let (dlat, dlng) = spots[3];
        let body = json!({"category": "C-03-01", "lat": centre.lat() + dlat, "lng": centre.lng() + dlng, "description": "垃圾桶又满了 3"});
        file(&app, &c.chen, "hot-3", body).await;
        assert_eq!(hotspot_scan(&app, 0).await.grown, 1);
        let (_, list) = app.get("/api/v1/hotspots?area=420102003", &c.coord).await;
        assert_eq!(list["hotspots"][0]["event_count"], 4);
        assert_eq!(hotspot_scan(&app, 8 * 24 * 60).await.cooled, 1);
        let (_, active) = app.get("/api/v1/hotspots", &c.coord).await;
        assert_eq!(active["hotspots"], json!([]));
        let (_, cooled) = app.get("/api/v1/hotspots?state=cooled", &c.coord).await;
        assert_eq!(cooled["hotspots"][0]["id"], h["id"]);
    }

    async fn an_excused_late_stage_stays_on_record_and_counts_as_on_time(app: TestApp) {
        let c = city(&app).await;
        app.on_duty(&c.wang, P).await;
        let e = report(&app, &c.chen, "late-1", "C-03-01", P).await;
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "accept"})).await;
        assert_eq!(e["state"], "dispatched", "{e}");
        // The claim comes after the stage's deadline: a late stage.
        let event = id(&e);
        app.db
            .run(move |conn| {
                use diesel::prelude::*;
                use gridwork::db::schema::events::dsl as ev;
                let past = gridwork::models::now() - chrono::Duration::minutes(1);
                Ok(diesel::update(ev::events.find(&event)).set(ev::due_at.eq(Some(past))).execute(conn)?)
            })
            .await
            .unwrap();
        ok(&app, &c.wang, &id(&e), json!({"action": "claim"})).await;
        ok(&app, &c.wang, &id(&e), json!({"action": "start"})).await;
        let photo = app.after_photo(&c.wang, &id(&e)).await;
        ok(&app, &c.wang, &id(&e), json!({"action": "resolve", "evidence": [photo]})).await;
        let closed = ok(&app, &c.coord, &id(&e), json!({"action": "verify"})).await;
        assert_eq!((closed["state"].as_str(), closed["late_stages"].as_i64()), (Some("closed"), Some(1)));
        let street = |b: &Value| b["units"].as_array().unwrap().iter().find(|u| u["unit"] == "420102003").cloned().unwrap();
        let to = chrono::Utc::now() + chrono::Duration::hours(1);
        let q = format!(
            "/api/v1/evaluation?by=street&from={}&to={}",
            (to - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ"),
            to.format("%Y-%m-%dT%H:%M:%SZ")
        );
        let (s, before) = app.get(&q, &c.coord).await;
        assert_eq!(s, 200, "{before}");
        let u = street(&before);
        assert_eq!((u["closed"].as_u64(), u["closed_on_time"].as_u64(), u["excused"].as_u64()), (Some(1), Some(0), Some(0)), "{u}");
        // Only the ops centre excuses, with a reason, each late stage once — after closing too.
        let excuse = json!({"action": "excuse", "reason": "暴雨预警停工，经批准"});
        let (s, b) = act(&app, &c.wang, &id(&e), excuse.clone()).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = act(&app, &c.coord, &id(&e), json!({"action": "excuse", "reason": ""})).await;
        assert_eq!((s, b["fields"]["reason"]["code"].as_str()), (422, Some("reason_required")));
        ok(&app, &c.coord, &id(&e), excuse.clone()).await;
        let (s, b) = act(&app, &c.coord, &id(&e), excuse).await;
        assert_eq!((s, b["fields"]["action"]["code"].as_str()), (409, Some("nothing_to_excuse")), "{b}");
        // It stays on the record: late stages and the timeline keep it.
        let full = detail(&app, &c.coord, &id(&e)).await;
        assert_eq!(full["late_stages"], 1);
        let step = full["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((step["action"].as_str(), step["reason"].as_str()), (Some("excuse"), Some("暴雨预警停工，经批准")));
        let (_, after) = app.get(&q, &c.coord).await;
        let u = street(&after);
        assert_eq!((u["closed"].as_u64(), u["closed_on_time"].as_u64(), u["excused"].as_u64()), (Some(1), Some(1), Some(1)), "{u}");
        assert_eq!(u["on_time_closure_rate"], 1.0);
    }

    async fn volunteers_claim_from_the_community_pool(app: TestApp) {
        let c = city(&app).await;
        // 非法小广告: volunteer-eligible, stays in the pool once accepted.
        let e = report(&app, &c.chen, "ads", "E-02-01", P).await;
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "accept"})).await;
        assert_eq!((e["state"].as_str(), e["assignees"].clone()), (Some("accepted"), json!([])));
        assert_eq!(notifications(&app, "zhao").await, ["pool_open"]);
        let (s, _) = app.get(&format!("/api/v1/events/{}", id(&e)), &c.zhao).await;
        assert_eq!(s, 200);
        // The pool lists it for the community's volunteers, with the distance from where they are.
        let (s, pool) = app.get(&format!("/api/v1/pool?lat={}&lng={}", P.0 + 0.001, P.1), &c.zhao).await;
        assert_eq!(s, 200, "{pool}");
        assert_eq!(pool["events"][0]["id"], e["id"], "{pool}");
        let d = pool["events"][0]["distance_m"].as_f64().unwrap();
        assert!((100.0..120.0).contains(&d), "{d}");
        // Not for a volunteer of another community, and not for someone who is no volunteer.
        app.user("lin", Role::Volunteer, Some("420102003002")).await;
        let (s, other) = app.get("/api/v1/pool", &app.login("lin").await).await;
        assert_eq!((s, other["events"].clone()), (200, json!([])), "{other}");
        let (s, _) = app.get("/api/v1/pool", &c.chen).await;
        assert_eq!(s, 403);
        let (s, b) = app.get("/api/v1/pool?lat=30.5", &c.zhao).await;
        assert_eq!((s, b["fields"]["lng"]["code"].as_str()), (422, Some("required")));
        let e = ok(&app, &c.zhao, &id(&e), json!({"action": "claim"})).await;
        // Claimed, it leaves the pool.
        let (_, pool) = app.get("/api/v1/pool", &c.zhao).await;
        assert_eq!(pool["events"], json!([]));
        assert_eq!(e["assignees"], json!([app.id_of("zhao").await]));
        let full = detail(&app, &c.coord, &id(&e)).await;
        assert_eq!(full["tasks"][0]["why"]["rule"], "volunteer_claim");
        ok(&app, &c.zhao, &id(&e), json!({"action": "start"})).await;
        ok(&app, &c.zhao, &id(&e), json!({"action": "resolve", "evidence": [app.after_photo(&c.zhao, &id(&e)).await]})).await;
        // A volunteer cannot close, not even someone else's work.
        let (s, b) = act(&app, &c.zhao, &id(&e), json!({"action": "verify"})).await;
        assert_error(s, &b, 403, "forbidden");
    }

    async fn coordinators_merge_split_and_bulk_reassign_within_their_street(app: TestApp) {
        let c = city(&app).await;
        let a = report(&app, &c.chen, "m-a", "E-01-02", P).await;
        // Same category 300 m away (outside the 50 m radius): a separate event.
        let b = report(&app, &c.chen, "m-b", "E-01-02", (P.0 + 0.0027, P.1)).await;
        assert_ne!(a["id"], b["id"]);
        let (s, r) = act(&app, &c.coord, &id(&b), json!({"action": "merge", "into": id(&b), "reason": "x"})).await;
        assert_eq!((s, r["fields"]["into"]["code"].as_str()), (422, Some("same_event")));
        let merged = ok(&app, &c.coord, &id(&b), json!({"action": "merge", "into": id(&a), "reason": "同一堆渣土"})).await;
        assert_eq!(merged["state"], "closed");
        let full = detail(&app, &c.coord, &id(&a)).await;
        assert_eq!(full["links"][0]["kind"], "merged_into");
        assert_eq!(full["timeline"].as_array().unwrap().last().unwrap()["action"], "merge_in");

        // Split a report holding two problems.
        let (s, r) = app.post(&format!("/api/v1/events/{}/split", id(&a)), &c.wang, json!({"parts": [{"category": "E-01-02", "description": "渣土"}, {"category": "C-03-01", "description": "垃圾桶坏了"}], "reason": "两个问题"})).await;
        assert_error(s, &r, 403, "forbidden");
        let (s, r) = app.post(&format!("/api/v1/events/{}/split", id(&a)), &c.coord, json!({"parts": [{"category": "E-01-02", "description": "渣土"}, {"category": "C-99-01", "description": "?"}], "reason": "两个问题"})).await;
        assert_eq!((s, r["fields"]["parts[1].category"]["code"].as_str()), (422, Some("unknown_category")), "{r}");
        let (s, r) = app.post(&format!("/api/v1/events/{}/split", id(&a)), &c.coord, json!({"parts": [{"category": "E-01-02", "description": "渣土"}, {"category": "C-03-01", "description": "垃圾桶坏了", "location": {"lat": 30.5829, "lng": 114.2745}}], "reason": "两个问题"})).await;
        assert_eq!(s, 201, "{r}");
        let parts: Vec<String> = r["events"].as_array().unwrap().iter().map(id).collect();
        assert_eq!(r["events"][1]["state"], "accepted");

        // Bulk reassignment: both parts to wang; an event of another street fails on its own.
        let other = report(&app, &c.chen, "m-c", "E-01-02", (30.61, 114.275)).await;
        let wang = app.id_of("wang").await;
        let body = json!({"events": [parts[0], parts[1], id(&other)], "action": {"action": "dispatch", "assignees": [wang]}});
        let (s, r) = app.post("/api/v1/events/bulk", &c.coord, body).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["done"].as_i64(), r["failed"].as_i64()), (Some(2), Some(1)));
        assert_eq!(r["results"][2]["error"]["error"], "not_found");
        let (_, q) = app.get("/api/v1/tasks/mine", &c.wang).await;
        assert_eq!(q["tasks"].as_array().unwrap().len(), 2);
        let (s, r) = app.post("/api/v1/events/bulk", &c.coord, json!({"events": [], "action": {"action": "accept"}})).await;
        assert_error(s, &r, 422, "validation_failed");
        let (s, r) = app.post("/api/v1/events/bulk", &c.coord, json!({"events": ["x"], "action": {"action": "fly"}})).await;
        assert_eq!((s, r["fields"]["action"]["code"].as_str()), (422, Some("invalid")));
    }

    async fn overdue_events_are_warned_then_escalated_once_even_with_two_servers(app: TestApp) {
        let c = city(&app).await;
        // Nobody on duty: a patrol report waits in `accepted`; the dispatch stage of C-03-01
        // (general) has 120 minutes.
        let e = patrol(&app, &c.wang, "late", "C-03-01", P).await;
        assert_eq!(e["state"], "accepted");
        assert_eq!(tick(&app, 60).await, scheduler::Tick { warned: 0, escalated: 0, unacknowledged: 0, orders_escalated: 0 });
        assert_eq!(tick(&app, 100).await, scheduler::Tick { warned: 1, escalated: 0, unacknowledged: 0, orders_escalated: 0 });
        assert_eq!(tick(&app, 101).await.warned, 0);
        // A second server on the same database scans at the same moment as the first.
        let second = gridwork::startup::Application::build(app.state.settings.as_ref().clone()).await.unwrap();
        let other = second.state().clone();
        let at = gridwork::models::now() + chrono::Duration::minutes(125);
        let scan = |state: gridwork::state::AppState| async move {
            let s2 = state.clone();
            state.db.run(move |conn| {
                let index = s2.areas();
                scheduler::tick(conn, Ctx { index: &index, policy: &s2.settings.event_loop }, at)
            }).await.unwrap()
        };
        let (a, b) = tokio::join!(scan(app.state.clone()), scan(other.clone()));
        assert_eq!(a.escalated + b.escalated, 1, "{a:?} {b:?}");
        let full = detail(&app, &c.coord, &id(&e)).await;
        assert_eq!(full["escalation_level"], "district");
        let orders = full["supervision_orders"].as_array().unwrap();
        assert_eq!(orders.len(), 1);
        assert_eq!((orders[0]["level"].as_str(), orders[0]["automatic"].as_bool(), orders[0]["area_code"].as_str()), (Some("district"), Some(true), Some("420102")));
        assert!(notifications(&app, "district").await.contains(&"supervision".to_owned()));
        // Still overdue a full stage later: up to the city, and no further.
        assert_eq!(tick(&app, 130).await.escalated, 0);
        assert_eq!(tick(&app, 250).await.escalated, 1);
        assert_eq!(tick(&app, 600).await.escalated, 0);
        let full = detail(&app, &c.coord, &id(&e)).await;
        assert_eq!(full["escalation_level"], "city");
        let actions: Vec<&str> = full["timeline"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["report", "dispatch_pending", "deadline_warning", "escalate", "escalate"]);

        // Operators supervise by hand; a grid worker may not.
        let (s, b) = act(&app, &c.wang, &id(&e), json!({"action": "supervise", "reason": "催办"})).await;
        assert_error(s, &b, 403, "forbidden");
        ok(&app, &c.district, &id(&e), json!({"action": "supervise", "reason": "请今日内处理"})).await;
        let full = detail(&app, &c.coord, &id(&e)).await;
        assert_eq!(full["supervision_orders"][2]["automatic"], false);
        // The fake clock moved only the scheduler: the real dispatch is within its deadline.
        let wang = app.id_of("wang").await;
        let e = ok(&app, &c.coord, &id(&e), json!({"action": "dispatch", "assignees": [wang]})).await;
        assert_eq!(e["late_stages"], 0, "dispatched before the real deadline passed");
    }

    async fn every_read_and_action_is_scoped(app: TestApp) {
        let c = city(&app).await;
        let e = report(&app, &c.chen, "s-1", "E-01-02", P).await;
        // A worker of another street neither sees nor touches it; nor lists it.
        let (s, b) = app.get(&format!("/api/v1/events/{}", id(&e)), &c.he).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = act(&app, &c.he, &id(&e), json!({"action": "accept"})).await;
        assert_error(s, &b, 404, "not_found");
        let (_, l) = app.get("/api/v1/events", &c.he).await;
        assert_eq!(l["events"], json!([]));
        // Another street's coordinator cannot dispatch or merge it.
        app.user("coord2", Role::Coordinator, Some("420102004")).await;
        let coord2 = app.login("coord2").await;
        let (s, _) = act(&app, &coord2, &id(&e), json!({"action": "accept"})).await;
        assert_eq!(s, 404);
        // Filters and pagination stay inside the scope.
        let (s, b) = app.get("/api/v1/events?area=999999", &c.coord).await;
        assert_eq!((s, b["fields"]["area"]["code"].as_str()), (422, Some("unknown_area")));
        for i in 0..3 {
            report(&app, &c.chen, &format!("p-{i}"), "C-06-01", (30.581 + 0.001 * f64::from(i), 114.2720)).await;
        }
        let (_, page1) = app.get("/api/v1/events?limit=2&area=420102003001001", &c.coord).await;
        assert_eq!(page1["events"].as_array().unwrap().len(), 2);
        let next = page1["next"].as_str().unwrap();
        let (_, page2) = app.get(&format!("/api/v1/events?limit=2&area=420102003001001&cursor={next}"), &c.coord).await;
        assert_eq!(page2["events"].as_array().unwrap().len(), 2);
        assert!(page2["next"].is_null());
        let (_, cat) = app.get("/api/v1/events?category=C-06-01", &c.coord).await;
        assert_eq!(cat["events"].as_array().unwrap().len(), 3);
        let (_, none) = app.get("/api/v1/events?category=C-06-01&area=420102004", &c.coord).await;
        assert_eq!(none["events"], json!([]));
        // Evaluation needs an operations role.
        let (s, b) = app.get("/api/v1/evaluation?from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z", &c.wang).await;
        assert_error(s, &b, 403, "forbidden");
        // Residents cannot go on duty.
        let (s, b) = app.put("/api/v1/me/duty", &c.chen, json!({"on_duty": true})).await;
        assert_error(s, &b, 403, "forbidden");
        let _ = (&c.admin, &c.zhou, &c.sun, &c.zhao);
    }

    async fn location_pings_arrive_in_batches_once_and_only_on_duty(app: TestApp) {
        let c = city(&app).await;
        let at = |t: chrono::DateTime<chrono::Utc>, lat: f64| json!({"lat": lat, "lng": 114.276, "accuracy_m": 8.5, "recorded_at": t.to_rfc3339()});
        // Off duty, positions are not tracked: the pings are counted as such, and not kept.
        let (s, b) = app.post("/api/v1/me/location", &c.wang, json!({"pings": [at(chrono::Utc::now(), 30.58)]})).await;
        assert_eq!((s, b["accepted"].as_i64(), b["off_duty"].as_i64()), (200, Some(0), Some(1)), "{b}");
        let (_, d) = app.get("/api/v1/me/duty", &c.wang).await;
        assert_eq!(d["location"], Value::Null);

        // The phone went on duty ten minutes ago, offline: its queue says when, and what it
        // recorded since is kept. A switch "in the future" is refused.
        let (s, b) = app.put("/api/v1/me/duty", &c.wang, json!({"on_duty": true, "at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()})).await;
        assert_eq!((s, b["fields"]["at"]["code"].as_str()), (422, Some("in_the_future")), "{b}");
        let ten_ago = chrono::Utc::now() - chrono::Duration::minutes(10);
        let (s, _) = app.put("/api/v1/me/duty", &c.wang, json!({"on_duty": true, "at": ten_ago.to_rfc3339()})).await;
        assert_eq!(s, 200);
        let (_, b) = app.post("/api/v1/me/location", &c.wang, json!({"pings": [at(ten_ago + chrono::Duration::minutes(5), 30.579), at(ten_ago - chrono::Duration::minutes(5), 30.578)]})).await;
        assert_eq!((b["accepted"].as_i64(), b["off_duty"].as_i64()), (Some(1), Some(1)), "{b}");
        let t0 = chrono::Utc::now();
        let ping = |secs: i64, lat: f64| at(t0 + chrono::Duration::seconds(secs), lat);
        let batch = json!({"pings": [ping(10, 30.581), ping(20, 30.582), ping(30, 30.583)]});
        let (s, b) = app.post("/api/v1/me/location", &c.wang, batch.clone()).await;
        assert_eq!((s, b["accepted"].as_i64(), b["duplicates"].as_i64()), (200, Some(3), Some(0)), "{b}");
        // The phone resends (it never saw the answer) with one more: only the new one is stored.
        let mut again = batch.clone();
        again["pings"].as_array_mut().unwrap().push(ping(40, 30.584));
        let (_, b) = app.post("/api/v1/me/location", &c.wang, again).await;
        assert_eq!((b["accepted"].as_i64(), b["duplicates"].as_i64(), b["off_duty"].as_i64()), (Some(1), Some(3), Some(0)));
        // An older batch arriving late does not move the position back.
        let (_, b) = app.post("/api/v1/me/location", &c.wang, json!({"pings": [ping(5, 30.570)]})).await;
        assert_eq!(b["accepted"], 1);
        let (_, d) = app.get("/api/v1/me/duty", &c.wang).await;
        assert_eq!(d["location"]["lat"], 30.584);

        // Off duty again: what the phone recorded on duty still arrives from its queue; what it
        // recorded afterwards does not.
        let on = chrono::Utc::now();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        app.put("/api/v1/me/duty", &c.wang, json!({"on_duty": false})).await;
        let late = chrono::Utc::now() + chrono::Duration::minutes(2);
        let (_, b) = app.post("/api/v1/me/location", &c.wang, json!({"pings": [at(on, 30.585), at(late, 30.59)]})).await;
        assert_eq!((b["accepted"].as_i64(), b["off_duty"].as_i64()), (Some(1), Some(1)), "{b}");
        // Going off duty twice opens and closes nothing more.
        app.put("/api/v1/me/duty", &c.wang, json!({"on_duty": false})).await;

        // Bad pings name the one at fault.
        let (s, b) = app.post("/api/v1/me/location", &c.wang, json!({"pings": [ping(0, 30.5), ping(1, 95.0)]})).await;
        assert_eq!((s, b["fields"]["pings[1]"]["code"].as_str()), (422, Some("out_of_range")));
        let future = json!({"pings": [{"lat": 30.5, "lng": 114.2, "recorded_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()}]});
        let (s, b) = app.post("/api/v1/me/location", &c.wang, future).await;
        assert_eq!((s, b["fields"]["pings[0].recorded_at"]["code"].as_str()), (422, Some("in_the_future")));
        let (s, b) = app.post("/api/v1/me/location", &c.wang, json!({"pings": []})).await;
        assert_error(s, &b, 422, "validation_failed");
        let (s, _) = app.post("/api/v1/me/location", &c.chen, json!({"pings": [ping(0, 30.58)]})).await;
        assert_eq!(s, 403);

        // Retention: the trail is kept 30 days by default, then purged by the scheduler's pass.
        let stored = || async { pings_of(&app, "wang").await };
        assert_eq!(stored().await, 7);
        let purge = |days: i64| gridwork::duty::purge(&app.state, gridwork::models::now() + chrono::Duration::days(days));
        assert_eq!(purge(29).await.unwrap(), 0);
        assert_eq!(stored().await, 7);
        assert_eq!(purge(31).await.unwrap(), 7);
        assert_eq!(stored().await, 0);
    }

    async fn the_stream_pushes_changes_in_scope_and_resumes(app: TestApp) {
        let c = city(&app).await;
        let mut res = app.client.get(app.url("/api/v1/events/stream")).bearer_auth(&c.coord).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        let e = report(&app, &c.chen, "live", "E-01-02", P).await;
        let _elsewhere = report(&app, &c.chen, "live-2", "E-01-02", (30.61, 114.275)).await;
        let mut text = String::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !text.contains(e["id"].as_str().unwrap()) && std::time::Instant::now() < deadline {
            if let Ok(Ok(Some(chunk))) = tokio::time::timeout(std::time::Duration::from_secs(3), res.chunk()).await {
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
        assert!(text.contains("event: event"), "{text}");
        assert!(text.contains(e["id"].as_str().unwrap()), "{text}");
        assert!(!text.contains(_elsewhere["id"].as_str().unwrap()), "another street's event leaked: {text}");
        let last_id = text.lines().rev().find_map(|l| l.strip_prefix("id: ")).unwrap().to_owned();
        drop(res);
        // Reconnecting with Last-Event-ID gets what happened meanwhile.
        ok(&app, &c.coord, &id(&e), json!({"action": "accept"})).await;
        let mut res = app.client.get(app.url("/api/v1/events/stream")).bearer_auth(&c.coord).header("Last-Event-ID", &last_id).send().await.unwrap();
        let mut text = String::new();
        while !text.contains("\"accepted\"") && std::time::Instant::now() < deadline + std::time::Duration::from_secs(10) {
            if let Ok(Ok(Some(chunk))) = tokio::time::timeout(std::time::Duration::from_secs(3), res.chunk()).await {
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
        }
        assert!(text.contains("\"accepted\""), "{text}");
        let (s, b) = app.send(app.client.get(app.url("/api/v1/events/stream")).bearer_auth(&c.coord).header("Last-Event-ID", "garbage")).await;
        assert_eq!((s, b["fields"]["Last-Event-ID"]["code"].as_str()), (422, Some("invalid")));
    }

    async fn a_stream_looks_at_most_ten_times_a_second(app: TestApp) {
        use std::time::{Duration, Instant};
        let c = city(&app).await;
        let mut res = app.client.get(app.url("/api/v1/events/stream")).bearer_auth(&c.coord).send().await.unwrap();
        assert_eq!(res.status(), 200);
        // Reports in the next street wake every stream of this server but bring this one
        // nothing: each look it takes at the database is one keep-alive.
        let reader = tokio::spawn(async move {
            let until = Instant::now() + Duration::from_millis(1500);
            let mut text = String::new();
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                if let Ok(Ok(Some(chunk))) = tokio::time::timeout(left, res.chunk()).await {
                    text.push_str(&String::from_utf8_lossy(&chunk));
                }
            }
            text
        });
        let start = Instant::now();
        let mut n = 0u32;
        while start.elapsed() < Duration::from_secs(1) {
            let at = (30.601 + 0.0006 * f64::from(n % 30), 114.271 + 0.0006 * f64::from(n / 30));
            report(&app, &c.chen, &format!("burst-{n}"), "E-01-02", at).await;
            n += 1;
        }
        let text = reader.await.unwrap();
        let looks = text.matches(": keep-alive").count();
        assert!(n >= 20, "only {n} reports: too few wakes to tell");
        assert!((1..=17).contains(&looks), "{looks} looks in 1.5 s for {n} changes: {text}");
        eprintln!("{n} changes, {looks} looks");
    }

    /// More changes than one page (200) inside a stream's look-back window: the stream still moves
    /// on to what comes next (it used to read the window's oldest page again and again).
    async fn a_stream_moves_past_a_window_fuller_than_a_page(app: TestApp) {
        use std::time::{Duration, Instant};
        let c = city(&app).await;
        let mut res = app.client.get(app.url("/api/v1/events/stream")).bearer_auth(&c.district).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let mut text = String::new();
        let at = |n: u32| (30.601 + 0.0006 * f64::from(n % 30), 114.271 + 0.0006 * f64::from(n / 30));
        let started = Instant::now();
        let mut ids = Vec::new();
        for n in 0..240u32 {
            ids.push(id(&report(&app, &c.chen, &format!("page-{n}"), "E-01-02", at(n)).await));
        }
        let filed_in = started.elapsed();
        let last = ids.last().unwrap().clone();
        assert!(read_until(&mut res, &mut text, &last, Duration::from_secs(10)).await, "the burst never arrived");
        let seen = ids.iter().filter(|i| text.contains(i.as_str())).count();
        assert_eq!(seen, ids.len(), "{seen} of {} reports streamed", ids.len());
        // Now one more: it must come through although the window behind holds 240 sent changes.
        let one = id(&report(&app, &c.chen, "page-after", "E-01-02", at(250)).await);
        assert!(
            read_until(&mut res, &mut text, &one, Duration::from_secs(4)).await,
            "the stream stalled behind a full window (240 reports filed in {filed_in:?})"
        );
    }

    async fn evaluation_counts_on_time_and_rework_per_unit(app: TestApp) {
        let c = city(&app).await;
        app.on_duty(&c.wang, (30.584, 114.276)).await;
        // Two events closed in the street: one cleanly, one after a rework.
        for (key, rework) in [("ev-1", false), ("ev-2", true)] {
            let e = patrol(&app, &c.wang, key, "C-03-01", (30.581 + if rework { 0.003 } else { 0.0 }, 114.2745)).await;
            ok(&app, &c.wang, &id(&e), json!({"action": "claim"})).await;
            ok(&app, &c.wang, &id(&e), json!({"action": "start"})).await;
            if rework {
                // The one reworked also had its deadline extended once.
                ok(&app, &c.wang, &id(&e), json!({"action": "request_extension", "reason": "等配件"})).await;
                ok(&app, &c.coord, &id(&e), json!({"action": "extend", "reason": "同意"})).await;
            }
            ok(&app, &c.wang, &id(&e), json!({"action": "resolve", "evidence": [app.after_photo(&c.wang, &id(&e)).await]})).await;
            if rework {
                ok(&app, &c.coord, &id(&e), json!({"action": "rework", "reason": "没清干净"})).await;
                ok(&app, &c.wang, &id(&e), json!({"action": "start"})).await;
                ok(&app, &c.wang, &id(&e), json!({"action": "resolve", "evidence": [app.after_photo(&c.wang, &id(&e)).await]})).await;
            }
            ok(&app, &c.coord, &id(&e), json!({"action": "verify"})).await;
        }
        let from = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
        let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        let q = |by: &str| format!("/api/v1/evaluation?by={by}&from={}&to={}", urlencode(&from), urlencode(&to));
        let (s, b) = app.get(&q("street"), &c.district).await;
        assert_eq!(s, 200, "{b}");
        let u = &b["units"][0];
        assert_eq!((u["unit"].as_str(), u["closed"].as_i64(), u["closed_on_time"].as_i64(), u["reworked"].as_i64()), (Some("420102003"), Some(2), Some(2), Some(1)), "{b}");
        assert_eq!((u["on_time_closure_rate"].as_f64(), u["rework_rate"].as_f64()), (Some(1.0), Some(0.5)));
        assert_eq!((u["extended"].as_i64(), u["extension_rate"].as_f64(), u["closure_rate"].as_f64()), (Some(1), Some(0.5), Some(1.0)));
        assert!(u["name"].as_str().is_some_and(|n| !n.is_empty() && n != "420102003"), "{u}");
        let (_, b) = app.get(&q("handler"), &c.district).await;
        assert_eq!(b["units"][0]["unit"], app.id_of("wang").await);
        assert_eq!(b["units"][0]["closed"], 2);
        let (_, me) = app.get("/api/v1/me", &c.wang).await;
        assert_eq!(b["units"][0]["name"], me["user"]["display_name"], "{b}");
        let (s, b) = app.get(&q("galaxy"), &c.district).await;
        assert_eq!((s, b["fields"]["by"]["code"].as_str()), (422, Some("invalid")));

        // The hotspot layer: the two events ~330 m apart fall in two res-9 cells (of 6 corners),
        // one in a res-6 cell; a category filter narrows, a worker is refused.
        let (s, b) = app.get("/api/v1/events/density?res=9&state=closed", &c.coord).await;
        assert_eq!((s, b["total"].as_u64()), (200, Some(2)), "{b}");
        let counts: Vec<u64> = b["cells"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()).collect();
        assert_eq!(counts, [1, 1]);
        assert_eq!(b["cells"][0]["boundary"].as_array().map(Vec::len), Some(6));
        let (_, b) = app.get("/api/v1/events/density?res=6&state=closed", &c.coord).await;
        assert_eq!(b["cells"].as_array().map(|c| c.iter().map(|x| x["count"].as_u64().unwrap()).sum::<u64>()), Some(2));
        let (_, b) = app.get("/api/v1/events/density?category=C-01-01", &c.coord).await;
        assert_eq!(b["total"], 0);
        let (s, b) = app.get("/api/v1/events/density?res=15", &c.coord).await;
        assert_eq!((s, b["fields"]["res"]["code"].as_str()), (422, Some("out_of_range")));
        let (s, _) = app.get("/api/v1/events/density", &c.wang).await;
        assert_eq!(s, 403);
    }
}

/// Reads a stream into `text` until `want` appears; false after `limit`.
async fn read_until(res: &mut reqwest::Response, text: &mut String, want: &str, limit: std::time::Duration) -> bool {
    let until = std::time::Instant::now() + limit;
    while !text.contains(want) {
        let Some(left) = until.checked_duration_since(std::time::Instant::now()) else { return false };
        if let Ok(Ok(Some(chunk))) = tokio::time::timeout(left, res.chunk()).await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    true
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// How many location pings are stored for a user.
async fn pings_of(app: &TestApp, name: &str) -> i64 {
    let user = app.id_of(name).await;
    app.db
        .run(move |conn| {
            use diesel::prelude::*;
            use gridwork::db::schema::location_pings;
            Ok(location_pings::table.filter(location_pings::user_id.eq(user)).count().get_result::<i64>(conn)?)
        })
        .await
        .unwrap()
}

/// The kinds of notifications queued for a user, oldest first.
async fn hotspot_scan(app: &TestApp, minutes_ahead: i64) -> hotspots::Scan {
    let state = app.state.clone();
    let at = gridwork::models::now() + chrono::Duration::minutes(minutes_ahead);
    app.db
        .run(move |conn| {
            let index = state.areas();
            hotspots::scan(conn, Ctx { index: &index, policy: &state.settings.event_loop }, at)
        })
        .await
        .unwrap()
}

async fn ok_order(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (s, b) = app.post(path, token, body.clone()).await;
    assert_eq!(s, 200, "{body} → {b}");
    b
}

async fn notifications(app: &TestApp, name: &str) -> Vec<String> {
    let user = app.id_of(name).await;
    app.db
        .run(move |conn| {
            use diesel::prelude::*;
            use gridwork::db::schema::notifications::dsl as n;
            Ok(n::notifications
                .filter(n::user_id.eq(&user))
                .order((n::created_at.asc(), n::id.asc()))
                .select(n::kind)
                .load::<String>(conn)?)
        })
        .await
        .unwrap()
}
