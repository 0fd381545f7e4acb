//! The Open311 GeoReport v2 door on both backends: client applications registered by an
//! administrator over their jurisdiction; services from the catalog; a request filed as a form
//! runs the real loop (idempotent, deduplicated, resolved to the seven levels) and is followed
//! through it in JSON and XML; errors in the standard's shape; only what came through the door is
//! listed by it.

use diesel::prelude::*;
use gridwork::db::schema::{events, open311_requests};
use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, assert_error, both_backends};
use serde_json::{Value, json};

/// Inside demo grid 420102003001001 (street 420102003, district 420102).
const IN: (f64, f64) = (30.5825, 114.2740);
/// Inside district 420103.
const OUT: (f64, f64) = (30.5825, 114.3040);

async fn form(app: &TestApp, path: &str, fields: &[(&str, String)]) -> (u16, String) {
    let res = app.client.post(app.url(path)).form(fields).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, kind, res.text().await.unwrap())
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let (s, _, body) = get(app, path).await;
    (s, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn request(key: &str, at: (f64, f64), words: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_key", key.to_owned()),
        ("jurisdiction_id", "420102".to_owned()),
        ("service_code", "C-03-01".to_owned()),
        ("lat", at.0.to_string()),
        ("long", at.1.to_string()),
        ("address_string", "解放大道 1 号".to_owned()),
        ("description", words.to_owned()),
        ("media_url", "https://photos.example.org/manhole.jpg".to_owned()),
        ("attribute[grade]", "serious".to_owned()),
        ("first_name", "Ada".to_owned()),
        ("phone", "13900009999".to_owned()),
    ]
}

/// The standard's error: one `{code, description}` whose description names the parameter.
fn error_names(status: u16, body: &str, want_status: u16, field: &str) {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert_eq!(status, want_status, "{body}");
    assert_eq!(v[0]["code"], want_status, "{body}");
    assert!(v[0]["description"].as_str().unwrap().starts_with(field), "{field}: {body}");
}

both_backends! {
    async fn a_client_files_and_follows_a_request_through_the_loop(app: TestApp) {
        let crew = app.street_crew().await;
        app.user("d.admin", Role::Admin, Some("420102")).await;
        app.user("o.admin", Role::Admin, Some("420103")).await;
        let (d_admin, o_admin) = (app.login("d.admin").await, app.login("o.admin").await);

        // Registering: administrators over the jurisdiction only.
        let (s, b) = app.post("/api/v1/open311/clients", &crew.coord, json!({"name": "市民通", "area": "420102"})).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post("/api/v1/open311/clients", &o_admin, json!({"name": "市民通", "area": "420102"})).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post("/api/v1/open311/clients", &d_admin, json!({"name": "市民通", "area": "999999"})).await;
        assert_eq!((s, b["fields"]["area"]["code"].as_str()), (422, Some("unknown_area")), "{b}");
        let (s, client) = app.post("/api/v1/open311/clients", &d_admin, json!({"name": "市民通", "area": "420102"})).await;
        assert_eq!(s, 201, "{client}");
        let key = client["api_key"].as_str().unwrap().to_owned();
        let (_, list) = app.get("/api/v1/open311/clients", &d_admin).await;
        assert_eq!(list["clients"][0]["id"], client["id"]);
        assert!(list["clients"][0].get("api_key").is_none(), "the key is shown once: {list}");
        let (_, list) = app.get("/api/v1/open311/clients", &o_admin).await;
        assert_eq!(list["clients"], json!([]));

        // Services are the catalog, in both formats; a definition offers the grade.
        let (s, services) = get_json(&app, "/open311/v2/services.json?jurisdiction_id=420102").await;
        assert_eq!(s, 200);
        let manhole = services.as_array().unwrap().iter().find(|v| v["service_code"] == "C-03-01").unwrap();
        assert_eq!((manhole["metadata"].as_bool(), manhole["type"].as_str()), (Some(true), Some("realtime")), "{manhole}");
        let (s, kind, xml) = get(&app, "/open311/v2/services.xml").await;
        assert_eq!((s, kind.starts_with("text/xml")), (200, true));
        assert!(xml.contains("<services><service>") && xml.contains("<service_code>C-03-01</service_code>"), "{xml}");
        let (s, definition) = get_json(&app, "/open311/v2/services/C-03-01.json").await;
        assert_eq!((s, definition["attributes"][0]["code"].as_str()), (200, Some("grade")), "{definition}");
        assert_eq!(definition["attributes"][0]["values"].as_array().map(Vec::len), Some(4));
        let (s, _, body) = get(&app, "/open311/v2/services/NOPE.json").await;
        error_names(s, &body, 404, "service_code");
        let (s, _, body) = get(&app, "/open311/v2/services.json?jurisdiction_id=nowhere").await;
        error_names(s, &body, 404, "jurisdiction_id");
        let (s, _, xml) = get(&app, "/open311/v2/services/NOPE.xml").await;
        assert_eq!(s, 404);
        assert!(xml.contains("<errors><error><code>404</code><description>service_code"), "{xml}");

        // Bad requests name the parameter at fault; nothing is filed.
        let without = |drop: &str| request(&key, IN, "井盖缺失").into_iter().filter(|(k, _)| *k != drop).collect::<Vec<_>>();
        let (s, body) = form(&app, "/open311/v2/requests.json", &without("api_key")).await;
        error_names(s, &body, 400, "api_key");
        let mut wrong = request("o311_not-a-key", IN, "井盖缺失");
        wrong.retain(|(k, _)| *k != "jurisdiction_id");
        let (s, body) = form(&app, "/open311/v2/requests.json", &wrong).await;
        error_names(s, &body, 403, "api_key");
        let mut address_only = without("lat");
        address_only.retain(|(k, _)| *k != "long");
        let (s, body) = form(&app, "/open311/v2/requests.json", &address_only).await;
        error_names(s, &body, 400, "lat");
        let (s, body) = form(&app, "/open311/v2/requests.json", &request(&key, OUT, "别区的井盖")).await;
        error_names(s, &body, 400, "lat");
        for (field, value) in [("service_code", "NOPE"), ("attribute[grade]", "apocalyptic"), ("media_url", "file:///etc/passwd"), ("lat", "91")] {
            let mut bad = request(&key, IN, "井盖缺失");
            bad.retain(|(k, _)| *k != field);
            bad.push((field, value.to_owned()));
            let (s, body) = form(&app, "/open311/v2/requests.json", &bad).await;
            error_names(s, &body, 400, field);
        }
        let res = app.client.post(app.url("/open311/v2/requests.json")).json(&json!({"api_key": key})).send().await.unwrap();
        let (s, body) = (res.status().as_u16(), res.text().await.unwrap());
        error_names(s, &body, 400, "body");
        let (s, _, body) = get(&app, "/open311/v2/requests.json").await;
        assert_eq!((s, body.as_str()), (200, "[]"));

        // Filed: an id at once; the same form again is the same request.
        let (s, body) = form(&app, "/open311/v2/requests.json", &request(&key, IN, "井盖缺失")).await;
        assert_eq!(s, 201, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        let id = answer[0]["service_request_id"].as_str().unwrap().to_owned();
        let (s, again) = form(&app, "/open311/v2/requests.json", &request(&key, IN, "井盖缺失")).await;
        let again: Value = serde_json::from_str(&again).unwrap();
        assert_eq!((s, again[0]["service_request_id"].as_str()), (201, Some(id.as_str())));
        // Another sender's report of the same manhole joins the same case.
        let (s, body) = form(&app, "/open311/v2/requests.xml", &request(&key, (IN.0 + 0.00001, IN.1), "还是那个井盖")).await;
        assert_eq!(s, 201, "{body}");
        assert!(body.contains("<service_requests><request>"), "{body}");
        let second = body.split("<service_request_id>").nth(1).unwrap().split('<').next().unwrap().to_owned();
        assert_ne!(second, id);
        let rows: Vec<(String, String)> = app
            .db
            .run(|conn| Ok(open311_requests::table.order(open311_requests::id.asc()).select((open311_requests::id, open311_requests::event_id)).load(conn)?))
            .await
            .unwrap();
        assert_eq!((rows.len(), &rows[0].1), (2, &rows[1].1), "one case: {rows:?}");
        let event = rows[0].1.clone();
        // The case is on the ops centre's desk like any report: seven levels, the grade a suggestion.
        let (s, e) = app.get(&format!("/api/v1/events/{event}"), &crew.coord).await;
        assert_eq!(s, 200, "{e}");
        let (grid, suggested, source): (Option<String>, Option<String>, String) = app
            .db
            .run({
                let ev = event.clone();
                move |conn| Ok(events::table.find(ev).select((events::grid_code, events::suggested_grade, events::source)).first(conn)?)
            })
            .await
            .unwrap();
        assert_eq!((grid.as_deref(), suggested.as_deref(), source.as_str()), (Some("420102003001001"), Some("serious"), "resident"));

        // Followed through the loop.
        let (s, list) = get_json(&app, &format!("/open311/v2/requests.json?service_request_id={id},{second}")).await;
        assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(2)), "{list}");
        let mine = list.as_array().unwrap().iter().find(|r| r["service_request_id"] == id.as_str()).unwrap().clone();
        assert_eq!((mine["status"].as_str(), mine["service_code"].as_str()), (Some("open"), Some("C-03-01")), "{mine}");
        assert_eq!((mine["lat"].as_f64(), mine["long"].as_f64()), (Some(IN.0), Some(IN.1)));
        assert_eq!(mine["media_url"], "https://photos.example.org/manhole.jpg");
        assert_eq!(mine["description"], "井盖缺失");
        assert!(mine["status_notes"].as_str().unwrap().contains("received"), "{mine}");
        assert!(!mine.to_string().contains("13900009999") && !mine.to_string().contains("Ada"), "contact data is not kept: {mine}");
        let act = |body: Value| {
            let (app, coord, event) = (&app, crew.coord.clone(), event.clone());
            async move {
                let (s, b) = app.post(&format!("/api/v1/events/{event}/actions"), &coord, body.clone()).await;
                assert_eq!(s, 200, "{body} → {b}");
            }
        };
        act(json!({"action": "accept"})).await;
        let (_, one) = get_json(&app, &format!("/open311/v2/requests/{id}.json")).await;
        assert!(one[0]["status_notes"].as_str().unwrap().contains("accepted"), "{one}");
        assert!(one[0]["expected_datetime"].is_string(), "{one}");
        assert_eq!(one[0]["agency_responsible"], "大智街道", "{one}");
        // Dispatched, handled with an after-photo, verified: closed for the sender too.
        let wang_id = app.id_of("wang").await;
        act(json!({"action": "dispatch", "assignees": [wang_id]})).await;
        for body in [json!({"action": "claim"}), json!({"action": "start"})] {
            let (s, b) = app.post(&format!("/api/v1/events/{event}/actions"), &crew.wang, body).await;
            assert_eq!(s, 200, "{b}");
        }
        let (_, one) = get_json(&app, &format!("/open311/v2/requests/{id}.json")).await;
        assert!(one[0]["status_notes"].as_str().unwrap().contains("being handled"), "{one}");
        let photo = app.after_photo(&crew.wang, &event).await;
        let (s, b) = app.post(&format!("/api/v1/events/{event}/actions"), &crew.wang, json!({"action": "resolve", "evidence": [photo]})).await;
        assert_eq!(s, 200, "{b}");
        act(json!({"action": "verify"})).await;
        let (_, one) = get_json(&app, &format!("/open311/v2/requests/{id}.json")).await;
        assert_eq!((one[0]["status"].as_str(), one[0]["status_notes"].as_str()), (Some("closed"), Some("已结案 (closed)")), "{one}");
        let (s, token) = get_json(&app, &format!("/open311/v2/tokens/{id}.json")).await;
        assert_eq!((s, token[0]["service_request_id"].as_str()), (200, Some(id.as_str())));
        let (s, _, body) = get(&app, "/open311/v2/tokens/nothing.json").await;
        error_names(s, &body, 404, "token");

        // A rejected case is closed, with the reason the sender reads.
        let (s, body) = form(&app, "/open311/v2/requests.json", &[
            ("api_key", key.clone()), ("service_code", "E-02-01".to_owned()),
            ("lat", IN.0.to_string()), ("long", IN.1.to_string()), ("description", "小广告".to_owned()),
        ]).await;
        assert_eq!(s, 201, "{body}");
        let ads: Value = serde_json::from_str(&body).unwrap();
        let ads = ads[0]["service_request_id"].as_str().unwrap().to_owned();
        let ads_event: String = app
            .db
            .run({ let id = ads.clone(); move |conn| Ok(open311_requests::table.find(id).select(open311_requests::event_id).first(conn)?) })
            .await
            .unwrap();
        let (s, b) = app.post(&format!("/api/v1/events/{ads_event}/actions"), &crew.coord, json!({"action": "reject", "reason": "已于昨日清理"})).await;
        assert_eq!(s, 200, "{b}");
        let (_, closed) = get_json(&app, "/open311/v2/requests.json?status=closed&service_code=E-02-01").await;
        assert_eq!(closed.as_array().map(Vec::len), Some(1), "{closed}");
        assert_eq!((closed[0]["service_request_id"].as_str(), closed[0]["status"].as_str()), (Some(ads.as_str()), Some("closed")));
        assert!(closed[0]["status_notes"].as_str().unwrap().ends_with("已于昨日清理"), "{closed}");
        let (_, closed_manholes) = get_json(&app, "/open311/v2/requests.json?status=closed&service_code=C-03-01").await;
        assert_eq!(closed_manholes.as_array().map(Vec::len), Some(2), "both senders of the manhole: {closed_manholes}");
        let (_, open) = get_json(&app, "/open311/v2/requests.json?status=open").await;
        assert_eq!(open, json!([]));
        let (_, kind, xml) = get(&app, &format!("/open311/v2/requests/{ads}.xml")).await;
        assert!(kind.starts_with("text/xml") && xml.contains("<status>closed</status>"), "{xml}");

        // Only what came through the door: a resident's own report is not listed by it.
        let report = json!({"category": "C-03-01", "lat": IN.0 + 0.003, "lng": IN.1, "description": "chen 的私人上报"});
        let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&crew.chen).header("Idempotency-Key", "chen-1").json(&report);
        assert_eq!(app.send(req).await.0, 201);
        let (_, all) = get_json(&app, "/open311/v2/requests.json").await;
        assert_eq!(all.as_array().map(Vec::len), Some(3), "{all}");
        assert!(!all.to_string().contains("chen"), "{all}");

        // Dates: a window of at most 90 days; w3c times.
        let (s, _, body) = get(&app, "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-12-31T00:00:00Z").await;
        error_names(s, &body, 400, "end_date");
        let (s, _, body) = get(&app, "/open311/v2/requests.json?start_date=yesterday").await;
        error_names(s, &body, 400, "start_date");
        let (s, _, body) = get(&app, "/open311/v2/requests.json?status=pending").await;
        error_names(s, &body, 400, "status");
        let (_, old) = get_json(&app, "/open311/v2/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z").await;
        assert_eq!(old, json!([]));
        let (_, other) = get_json(&app, "/open311/v2/requests.json?jurisdiction_id=420103").await;
        assert_eq!(other, json!([]));

        // Revoked: the key stops working at once; the requests stay.
        let path = format!("/api/v1/open311/clients/{}", client["id"].as_str().unwrap());
        let res = app.client.delete(app.url(&path)).bearer_auth(&o_admin).send().await.unwrap();
        assert_eq!(res.status(), 404, "another district's administrator does not reach it");
        let res = app.client.delete(app.url(&path)).bearer_auth(&d_admin).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let (s, body) = form(&app, "/open311/v2/requests.json", &request(&key, IN, "又一个")).await;
        error_names(s, &body, 403, "api_key");
        let (_, all) = get_json(&app, "/open311/v2/requests.json").await;
        assert_eq!(all.as_array().map(Vec::len), Some(3));
        let (s, _, body) = get(&app, "/open311/v2/nothing.json").await;
        error_names(s, &body, 404, "no such");
    }
}
