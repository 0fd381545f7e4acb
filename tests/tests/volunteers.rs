//! Work beyond one's own tasks, on both backends and through the field client: a volunteer
//! signs up, is approved by the street's coordinator, works the community pool from the phone
//! offline and earns points once the work is verified; a verifier sends work back from the phone
//! offline and it arrives once; tracks and phone numbers reach only those who need them, and
//! every read is audited.

use std::time::Duration;

use gridwork_mobile_core::Role;
use gridwork_mobile_core::client::{ClientConfig, FieldClient};
use gridwork_mobile_core::domain::event::Action;
use gridwork_tests::faults::{Fault, FaultyProxy};
use gridwork_tests::{PASSWORD, TestApp, assert_error, both_backends, unique_jpeg};
use serde_json::{Value, json};

/// A point inside demo grid 420102003001001 (community 420102003001).
const P: (f64, f64) = (30.5825, 114.2740);

fn phone_at(dir: &std::path::Path, url: &str) -> FieldClient {
    FieldClient::open(&ClientConfig {
        server_url: url.to_owned(),
        database_path: dir.join("phone.sqlite"),
        timeout: Duration::from_secs(60),
    })
    .unwrap()
}

/// A resident's report of a volunteer-eligible problem (illegal small ads), accepted: it waits
/// in the community's pool. Its id.
async fn pool_event(app: &TestApp, chen: &str, coord: &str, key: &str) -> String {
    let body = json!({"category": "E-02-01", "lat": P.0, "lng": P.1, "description": format!("小广告 {key}")});
    let req = app.client.post(app.url("/api/v1/events")).bearer_auth(chen).header("Idempotency-Key", key).json(&body);
    let (s, e) = app.send(req).await;
    assert_eq!(s, 201, "{e}");
    let id = e["id"].as_str().unwrap().to_owned();
    let (s, b) = app.post(&format!("/api/v1/events/{id}/actions"), coord, json!({"action": "accept"})).await;
    assert_eq!((s, b["state"].as_str()), (200, Some("accepted")), "{b}");
    id
}

async fn sign_up(app: &TestApp, body: Value) -> (u16, Value) {
    app.send(app.client.post(app.url("/api/v1/volunteers/sign-up")).json(&body)).await
}

fn applicant(name: &str, community: &str) -> Value {
    json!({"username": name, "password": PASSWORD, "display_name": format!("志愿者{name}"),
           "phone": "+86 139-0000-2222", "community": community, "note": "周末有空"})
}

async fn audit_actions(app: &TestApp, subject: &str) -> Vec<(Option<String>, String)> {
    let subject = subject.to_owned();
    app.db
        .run(move |conn| Ok(gridwork::queries::audit::for_subject(conn, &subject)?))
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.actor_id, a.action))
        .collect()
}

async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    let (s, inbox) = app.get("/api/v1/notifications", token).await;
    assert_eq!(s, 200, "{inbox}");
    inbox["notifications"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
}

async fn steps(app: &TestApp, token: &str, id: &str) -> Vec<String> {
    let (s, e) = app.get(&format!("/api/v1/events/{id}"), token).await;
    assert_eq!(s, 200, "{e}");
    e["timeline"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap().to_owned()).collect()
}

both_backends! {
    async fn a_volunteer_signs_up_works_the_pool_offline_and_earns_points(app: TestApp) {
        let crew = app.street_crew().await;
        app.user("coord.next", Role::Coordinator, Some("420102004")).await;
        app.user("district", Role::DistrictOperator, Some("420102")).await;
        let (other_coord, district) = (app.login("coord.next").await, app.login("district").await);

        // Bad sign-ups are refused field by field, and nothing is created.
        let bad = [
            (json!({"phone": "12345"}), "phone", "invalid_phone"),
            (json!({"community": "420102003"}), "community", "unknown_community"),
            (json!({"community": "999999999999"}), "community", "unknown_community"),
            (json!({"password": "short"}), "password", "too_short"),
            (json!({"display_name": "  "}), "display_name", "required"),
        ];
        for (patch, field, code) in bad {
            let mut body = applicant("liu.xiao", "420102003001");
            body.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
            let (s, b) = sign_up(&app, body).await;
            assert_error(s, &b, 422, "validation_failed");
            assert_eq!(b["fields"][field]["code"], code, "{b}");
        }
        let (s, b) = sign_up(&app, json!({"username": "x"})).await;
        assert_eq!(s, 422, "{b}");
        // The form finds communities by code or name, without sign-in; streets are not offered.
        let find = |q: &str| app.client.get(app.url("/api/v1/volunteers/communities")).query(&[("q", q)]);
        let (s, found) = app.send(find("420102003")).await;
        assert_eq!(s, 200, "{found}");
        let codes: Vec<&str> = found["communities"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert!(codes.contains(&"420102003001") && codes.iter().all(|c| c.len() == 12 && c.starts_with("420102003")), "{found}");
        let name = found["communities"][0]["name"].as_str().unwrap().to_owned();
        let (_, by_name) = app.send(find(&name)).await;
        assert_eq!(by_name["communities"][0]["code"], found["communities"][0]["code"], "{by_name}");
        let (s, b) = app.send(find(&"长".repeat(51))).await;
        assert_eq!((s, b["fields"]["q"]["code"].as_str()), (422, Some("too_long")));

        let (s, signed) = sign_up(&app, applicant("liu.xiao", "420102003001")).await;
        assert_eq!(s, 201, "{signed}");
        assert_eq!((signed["state"].as_str(), signed["phone"].as_str()), (Some("pending"), Some("13900002222")));
        let (s, b) = sign_up(&app, applicant("liu.xiao", "420102003001")).await;
        assert_eq!((s, b["fields"]["username"]["code"].as_str()), (409, Some("taken")), "{b}");
        let application = signed["id"].as_str().unwrap().to_owned();
        let volunteer_id = signed["user_id"].as_str().unwrap().to_owned();

        // Signed up, not yet a volunteer: the pool is closed to them.
        let liu = app.login("liu.xiao").await;
        let (s, _) = app.get("/api/v1/pool", &liu).await;
        assert_eq!(s, 403);
        let (_, mine) = app.get("/api/v1/me/volunteer-applications", &liu).await;
        assert_eq!(mine["applications"][0]["state"], "pending", "{mine}");
        assert_eq!(kinds(&app, &crew.coord).await, ["volunteer_signed_up"]);

        // Only the street's coordinators see and decide it.
        let (s, list) = app.get("/api/v1/volunteer-applications", &other_coord).await;
        assert_eq!((s, list["applications"].clone()), (200, json!([])), "{list}");
        let decide = format!("/api/v1/volunteer-applications/{application}/decision");
        let (s, b) = app.post(&decide, &other_coord, json!({"decision": "approve"})).await;
        assert_error(s, &b, 404, "not_found");
        let (s, _) = app.get("/api/v1/volunteer-applications", &district).await;
        assert_eq!(s, 403);
        let (s, _) = app.get("/api/v1/volunteer-applications", &liu).await;
        assert_eq!(s, 403);
        let (s, list) = app.get("/api/v1/volunteer-applications", &crew.coord).await;
        assert_eq!(s, 200, "{list}");
        assert_eq!(list["applications"][0]["phone"], "13900002222", "{list}");
        let coord_id = app.id_of("coord").await;
        assert!(audit_actions(&app, &volunteer_id).await.contains(&(Some(coord_id.clone()), "phone.read".into())));

        // A decline needs a reason; a decision is made once.
        let (s, b) = app.post(&decide, &crew.coord, json!({"decision": "decline"})).await;
        assert_eq!((s, b["fields"]["reason"]["code"].as_str()), (422, Some("reason_required")), "{b}");
        let (s, b) = app.post(&decide, &crew.coord, json!({"decision": "approve"})).await;
        assert_eq!((s, b["state"].as_str()), (200, Some("approved")), "{b}");
        let (s, b) = app.post(&decide, &crew.coord, json!({"decision": "decline", "reason": "x"})).await;
        assert_eq!((s, b["fields"]["decision"]["code"].as_str()), (409, Some("already_decided")), "{b}");
        assert_eq!(kinds(&app, &liu).await, ["volunteer_approved"]);

        // Another applicant is declined, and reads why.
        let (_, other) = sign_up(&app, applicant("ma.yi", "420102003001")).await;
        let path = format!("/api/v1/volunteer-applications/{}/decision", other["id"].as_str().unwrap());
        let (s, _) = app.post(&path, &crew.coord, json!({"decision": "decline", "reason": "不在本社区居住"})).await;
        assert_eq!(s, 200);
        let ma = app.login("ma.yi").await;
        let (_, mine) = app.get("/api/v1/me/volunteer-applications", &ma).await;
        assert_eq!((mine["applications"][0]["state"].as_str(), mine["applications"][0]["reason"].as_str()),
                   (Some("declined"), Some("不在本社区居住")));
        let (s, _) = app.get("/api/v1/pool", &ma).await;
        assert_eq!(s, 403);

        // A resident asks with their own account: once at a time, and not where they volunteer.
        let own = |community: &str| json!({"phone": "139 0000 7777", "community": community});
        let ask = "/api/v1/me/volunteer-applications";
        let (s, b) = app.post(ask, &crew.chen, json!({"phone": "1", "community": "420102003001"})).await;
        assert_eq!((s, b["fields"]["phone"]["code"].as_str()), (422, Some("invalid_phone")), "{b}");
        let (s, mine) = app.post(ask, &crew.chen, own("420102003001")).await;
        assert_eq!((s, mine["state"].as_str(), mine["username"].as_str()), (201, Some("pending"), Some("chen")), "{mine}");
        let (s, b) = app.post(ask, &crew.chen, own("420102003002")).await;
        assert_eq!((s, b["fields"]["community"]["code"].as_str()), (409, Some("already_pending")), "{b}");
        let path = format!("/api/v1/volunteer-applications/{}/decision", mine["id"].as_str().unwrap());
        assert_eq!(app.post(&path, &crew.coord, json!({"decision": "approve"})).await.0, 200);
        let (s, b) = app.post(ask, &crew.chen, own("420102003001")).await;
        assert_eq!((s, b["fields"]["community"]["code"].as_str()), (409, Some("already_volunteer")), "{b}");
        assert_eq!(app.get("/api/v1/pool", &crew.chen).await.0, 200, "a volunteer now, with the same account");

        // The pool reaches the approved volunteer's phone, and not a volunteer of another community.
        let event = pool_event(&app, &crew.chen, &crew.coord, "pool-1").await;
        let proxy = FaultyProxy::start(app.base.trim_start_matches("http://").parse().unwrap(), 7).await;
        let dir = tempfile::tempdir().unwrap();
        let phone = phone_at(dir.path(), &proxy.url());
        phone.sign_in("liu.xiao", PASSWORD).await.unwrap();
        phone.set_duty(true).unwrap();
        phone.record_location(P.0 + 0.001, P.1, Some(5.0)).unwrap();
        let synced = phone.sync().await.unwrap();
        assert_eq!((synced.pool, synced.to_verify), (1, 0), "{synced:?}");
        app.user("lin", Role::Volunteer, Some("420102003002")).await;
        let other_dir = tempfile::tempdir().unwrap();
        let lin = phone_at(other_dir.path(), &app.base);
        lin.sign_in("lin", PASSWORD).await.unwrap();
        assert_eq!(lin.sync().await.unwrap().pool, 0);
        assert!(lin.pool().unwrap().is_empty());

        // In the basement: the pool is on the phone; claim, start and resolve there.
        proxy.set_offline(true);
        let pool = phone.pool().unwrap();
        assert_eq!(pool.len(), 1);
        assert_eq!(pool[0].event_id, event);
        assert!(pool[0].distance_m.is_some_and(|d| (90.0..130.0).contains(&d)), "{pool:?}");
        phone.act(&event, &Action::Claim, &[], None).unwrap();
        assert!(phone.pool().unwrap().is_empty(), "claimed, it left the pool");
        assert_eq!(phone.tasks().unwrap()[0].task_state.as_deref(), Some("claimed"));
        phone.act(&event, &Action::Start, &[], None).unwrap();
        phone.act(&event, &Action::Resolve { evidence: vec![] }, &[unique_jpeg()], Some(P)).unwrap();
        assert!(phone.flush(false).await.unwrap().interrupted);
        proxy.set_offline(false);
        let r = phone.flush(false).await.unwrap();
        // Duty, the position, the claim, the start, the photo and the resolve.
        assert_eq!((r.sent, r.conflicts, r.remaining), (6, 0, 0), "{:?}", phone.queue().unwrap());
        assert_eq!(steps(&app, &crew.coord, &event).await.last().map(String::as_str), Some("resolve"));

        // The grid worker verifies from the phone: the event is in their verify queue; offline
        // they send it back with a photo, and the answer to the rework is lost on the way.
        let wang_dir = tempfile::tempdir().unwrap();
        let wang = phone_at(wang_dir.path(), &proxy.url());
        wang.sign_in("wang", PASSWORD).await.unwrap();
        assert_eq!(wang.sync().await.unwrap().to_verify, 1);
        proxy.set_offline(true);
        assert_eq!(wang.verify_queue().unwrap()[0].event_id, event);
        wang.act(&event, &Action::Rework { reason: "还有两张没撕干净".into() }, &[unique_jpeg()], Some(P)).unwrap();
        assert!(wang.verify_queue().unwrap().is_empty(), "checked, it left the queue");
        proxy.set_offline(false);
        proxy.aim(&format!("POST /api/v1/events/{event}/actions"), Fault::CutResponse(0)).await;
        let r = wang.flush(false).await.unwrap();
        assert!(r.interrupted && r.sent == 1, "the photo went, the rework's answer was lost: {r:?}");
        let r = wang.flush(false).await.unwrap();
        assert_eq!((r.sent, r.remaining), (1, 0), "{:?}", wang.queue().unwrap());
        let timeline = steps(&app, &crew.coord, &event).await;
        assert_eq!(timeline.iter().filter(|s| *s == "rework").count(), 1, "{timeline:?}");
        let (_, photos) = app.get(&format!("/api/v1/events/{event}/evidence"), &crew.coord).await;
        assert_eq!(photos["verify"].as_array().map(Vec::len), Some(1), "{photos}");

        // No points before verification. The volunteer fixes it; the verifier closes it.
        let (_, service) = app.get("/api/v1/me/service", &liu).await;
        assert_eq!((service["points"].as_i64(), service["tasks"].as_i64()), (Some(0), Some(0)), "{service}");
        phone.sync().await.unwrap();
        phone.act(&event, &Action::Start, &[], None).unwrap();
        phone.act(&event, &Action::Resolve { evidence: vec![] }, &[unique_jpeg()], Some(P)).unwrap();
        phone.flush(false).await.unwrap();
        assert_eq!(wang.sync().await.unwrap().to_verify, 1);
        wang.act(&event, &Action::Verify, &[], None).unwrap();
        assert_eq!(wang.flush(false).await.unwrap().sent, 1);
        assert_eq!(steps(&app, &crew.coord, &event).await.last().map(String::as_str), Some("verify"));

        let (_, service) = app.get("/api/v1/me/service", &liu).await;
        assert_eq!(service["tasks"], 1, "{service}");
        let points = service["points"].as_i64().unwrap();
        assert!(points >= 10, "a general event earns at least 10 points: {service}");
        assert!(service["minutes"].as_i64().unwrap() >= 1);
        assert_eq!(service["records"][0]["event_id"], event.as_str());
        assert!(kinds(&app, &liu).await.contains(&"service_recorded".to_owned()));

        // Rankings per community and street: the volunteer sees their own, not another community's.
        for area in ["420102003001", "420102003"] {
            let (s, ranking) = app.get(&format!("/api/v1/volunteers/ranking?area={area}"), &liu).await;
            assert_eq!(s, 200, "{ranking}");
            assert_eq!(ranking["rows"][0]["user_id"], volunteer_id.as_str(), "{ranking}");
            assert_eq!((ranking["rows"][0]["rank"].as_i64(), ranking["rows"][0]["points"].as_i64()), (Some(1), Some(points)));
            assert!(ranking["rows"][0].get("phone").is_none());
        }
        let (s, _) = app.get("/api/v1/volunteers/ranking?area=420102003002", &liu).await;
        assert_eq!(s, 403);
        let (s, ranking) = app.get("/api/v1/volunteers/ranking?area=420102003002", &app.login("lin").await).await;
        assert_eq!((s, ranking["rows"].clone()), (200, json!([])));
        let (s, b) = app.get("/api/v1/volunteers/ranking?area=420102", &district).await;
        assert_eq!((s, b["fields"]["area"]["code"].as_str()), (422, Some("not_ranked")));
        // Not for someone who neither steers nor serves there (the declined applicant).
        let (s, _) = app.get("/api/v1/volunteers/ranking?area=420102003", &ma).await;
        assert_eq!(s, 403);
    }

    async fn tracks_reach_only_coordinators_and_every_read_of_personal_data_is_audited(app: TestApp) {
        let crew = app.street_crew().await;
        app.user("district", Role::DistrictOperator, Some("420102")).await;
        app.user("coord.next", Role::Coordinator, Some("420102004")).await;
        let wang_id = app.id_of("wang").await;
        app.on_duty(&crew.wang, P).await;
        let t0 = chrono::Utc::now();
        let pings: Vec<Value> = (1..=3)
            .map(|i: i32| json!({"lat": P.0 + f64::from(i) * 0.0001, "lng": P.1, "recorded_at": (t0 + chrono::Duration::seconds(i.into())).to_rfc3339()}))
            .collect();
        let (s, b) = app.post("/api/v1/me/location", &crew.wang, json!({"pings": pings})).await;
        assert_eq!((s, b["accepted"].as_i64()), (200, Some(3)), "{b}");

        // Pings lie up to 3 s ahead of t0: the window ends a minute later.
        let to = (t0 + chrono::Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let path = format!("/api/v1/users/{wang_id}/track");
        let window = format!("{path}?to={to}");
        let (s, track) = app.get(&window, &crew.coord).await;
        assert_eq!(s, 200, "{track}");
        assert_eq!(track["points"].as_array().map(Vec::len), Some(4), "{track}");
        let coord_id = app.id_of("coord").await;
        assert_eq!(
            audit_actions(&app, &wang_id).await.iter().filter(|a| **a == (Some(coord_id.clone()), "track.read".to_owned())).count(),
            1
        );
        // The worker sees their own track (not audited); nobody else does.
        let (s, own) = app.get(&window, &crew.wang).await;
        assert_eq!((s, own["points"].as_array().map(Vec::len)), (200, Some(4)));
        let (s, b) = app.get(&path, &app.login("district").await).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, _) = app.get(&path, &crew.li).await;
        assert_eq!(s, 403);
        let (s, b) = app.get(&path, &app.login("coord.next").await).await;
        assert_error(s, &b, 404, "not_found");
        assert_eq!(audit_actions(&app, &wang_id).await.iter().filter(|a| a.1 == "track.read").count(), 1);
        // A window is at most a week, and runs forwards.
        let (s, b) = app.get(&format!("{path}?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"), &crew.coord).await;
        assert_eq!((s, b["fields"]["from"]["code"].as_str()), (422, Some("out_of_range")));
        let (s, _) = app.get(&format!("{path}?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"), &crew.coord).await;
        assert_eq!(s, 422);
        let (s, old) = app.get(&format!("{path}?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z"), &crew.coord).await;
        assert_eq!((s, old["points"].clone()), (200, json!([])));

        // Phone numbers: not in the user list; one user's record shows it, and the read is audited.
        let (s, users) = app.get("/api/v1/users", &crew.coord).await;
        assert_eq!(s, 200, "{users}");
        assert!(users["users"].as_array().unwrap().iter().all(|u| u.get("phone").is_none()), "{users}");
        let reads = |a: &Vec<(Option<String>, String)>| a.iter().filter(|a| a.1 == "phone.read").count();
        assert_eq!(reads(&audit_actions(&app, &wang_id).await), 0);
        let (s, user) = app.get(&format!("/api/v1/users/{wang_id}"), &crew.coord).await;
        assert_eq!((s, user["phone"].as_str()), (200, Some("13900001111")), "{user}");
        assert_eq!(reads(&audit_actions(&app, &wang_id).await), 1);
        let (_, me) = app.get("/api/v1/me", &crew.wang).await;
        assert_eq!(me["user"]["phone"], "13900001111");
        assert_eq!(reads(&audit_actions(&app, &wang_id).await), 1, "one's own number is no one else's read");
    }
}
