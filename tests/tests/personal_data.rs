//! Data subject rights on both backends: a person's export holds what the database holds about
//! them (photos included); an erasure requested by a resident and carried out by an
//! administrator over their area leaves their reports and verifying timelines but no trace of
//! their name or phone in any table; everyone else is refused.

use std::collections::BTreeSet;
use std::io::Read;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use gridwork::db::DbConn;
use gridwork::db::schema::{
    devices, event_log, evidence, location_pings, service_records, sessions, volunteer_applications,
};
use gridwork::evidence::store::PhotoStore;
use gridwork_mobile_core::Role;
use gridwork_tests::{PASSWORD, TestApp, assert_error, both_backends, unique_jpeg};
use serde_json::{Value, json};

/// Inside demo grid 420102003001001 (community 420102003001, district 420102).
const P: (f64, f64) = (30.5825, 114.2740);

/// `GET /me/data-export`: the archive's `data.json` and its other files by name.
async fn export(app: &TestApp, token: &str) -> (Value, Vec<(String, Vec<u8>)>) {
    let res = app.client.get(app.url("/api/v1/me/data-export")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let bytes = res.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut data = Value::Null;
    let mut files = vec![];
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().into_owned();
        let mut buf = vec![];
        f.read_to_end(&mut buf).unwrap();
        if name == "data.json" {
            data = serde_json::from_slice(&buf).unwrap();
        } else {
            files.push((name, buf));
        }
    }
    (data, files)
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    col: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every (table, column) of the database in which any of `needles` occurs.
async fn traces(app: &TestApp, needles: &[&str]) -> BTreeSet<(String, String, String)> {
    let needles: Vec<String> = needles.iter().map(|n| (*n).to_owned()).collect();
    app.db
        .run(move |conn| {
            let list = match conn {
                DbConn::Sqlite(_) => {
                    "SELECT m.name AS tbl, p.name AS col FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
                }
                DbConn::Postgres(_) => {
                    "SELECT table_name::text AS tbl, column_name::text AS col FROM information_schema.columns \
                     WHERE table_schema = current_schema()"
                }
            };
            let columns: Vec<Column> = diesel::sql_query(list).load(conn)?;
            assert!(columns.len() > 100, "every table's columns: {}", columns.len());
            let mut found = BTreeSet::new();
            for c in &columns {
                for needle in &needles {
                    let q = format!(
                        "SELECT COUNT(*) AS n FROM \"{}\" WHERE CAST(\"{}\" AS TEXT) LIKE '%{}%'",
                        c.tbl, c.col, needle
                    );
                    let n: Count = diesel::sql_query(q).get_result(conn)?;
                    if n.n > 0 {
                        found.insert((c.tbl.clone(), c.col.clone(), needle.clone()));
                    }
                }
            }
            Ok(found)
        })
        .await
        .unwrap()
}

async fn verify_timelines(app: &TestApp) -> gridwork::events::timeline::Verification {
    app.db.run(gridwork::events::timeline::verify).await.unwrap()
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> Value {
    let (s, b) = app.post(&format!("/api/v1/events/{id}/actions"), token, body.clone()).await;
    assert_eq!(s, 200, "{body} → {b}");
    b
}

both_backends! {
    async fn an_erased_resident_leaves_reports_verifying_timelines_and_no_trace(app: TestApp) {
        let crew = app.street_crew().await;
        app.user("d.admin", Role::Admin, Some("420102")).await;
        app.user("o.admin", Role::Admin, Some("420103")).await;
        let (d_admin, o_admin) = (app.login("d.admin").await, app.login("o.admin").await);
        let body = json!({"username": "zhao.liu", "display_name": "赵六", "phone": "+86 139-1234-5678", "password": PASSWORD});
        let (s, zhao) = app.post("/api/v1/users", &crew.admin, body).await;
        assert_eq!(s, 201, "{zhao}");
        let zhao_id = zhao["id"].as_str().unwrap().to_owned();
        let grant = json!({"role": "resident", "scope": "420102003001"});
        assert_eq!(app.post(&format!("/api/v1/users/{zhao_id}/roles"), &crew.admin, grant).await.0, 201);
        let zhao = app.login("zhao.liu").await;

        // A report with a before-photo taken where he stood, words that name him, and a second
        // report of the same thing (a duplicate: his words go on the first one's timeline).
        let fields = [
            ("kind", "before".to_owned()),
            ("taken_at", chrono::Utc::now().to_rfc3339()),
            ("lat", "30.5825149".to_owned()),
            ("lng", "114.27401".to_owned()),
        ];
        let (s, photo) = app.upload_photo(&zhao, unique_jpeg(), &fields).await;
        assert_eq!(s, 201, "{photo}");
        let report = |key: &str, description: &str, evidence: Vec<Value>| {
            let body = json!({"category": "E-02-01", "lat": P.0, "lng": P.1, "description": description,
                              "reporter_location": {"lat": 30.5825137, "lng": 114.2740218}, "evidence": evidence});
            app.client.post(app.url("/api/v1/events")).bearer_auth(&zhao).header("Idempotency-Key", key).json(&body)
        };
        let (s, e) = app.send(report("zhao-1", "电线杆上小广告，我是赵六，电话 139-1234-5678", vec![photo["id"].clone()])).await;
        assert_eq!(s, 201, "{e}");
        let event = e["id"].as_str().unwrap().to_owned();
        let (s, dup) = app.send(report("zhao-2", "还在，赵六 13912345678", vec![])).await;
        assert_eq!((s, dup["id"].as_str()), (200, Some(event.as_str())), "{dup}");
        act(&app, &crew.coord, &event, json!({"action": "accept"})).await;
        // His coordinator reads his number (audited); he has a phone registered.
        assert_eq!(app.get(&format!("/api/v1/users/{zhao_id}"), &crew.coord).await.0, 200);
        let device = json!({"fcm_token": "fcm-token-of-zhaos-phone-000001", "platform": "android", "app_version": "1.0"});
        assert_eq!(app.post("/api/v1/devices", &zhao, device).await.0, 201);

        // His export holds all of it, the photo too, and who read his number.
        let (data, files) = export(&app, &zhao).await;
        assert_eq!(data["account"]["display_name"], "赵六", "{data}");
        assert!(data["account"]["phone"].as_str().unwrap().contains("1234"), "{data}");
        assert_eq!(data["reports"][0]["id"], event.as_str());
        let steps = data["timeline_steps"].as_array().unwrap();
        let first = steps.iter().find(|s| s["action"] == "report").unwrap();
        assert_eq!((first["lat"].as_f64(), first["lng"].as_f64()), (Some(30.5825137), Some(114.2740218)), "{first}");
        let duplicate = steps.iter().find(|s| s["action"] == "report_duplicate").unwrap();
        assert!(duplicate["detail"].as_str().unwrap().contains("13912345678"), "{duplicate}");
        assert_eq!(data["photos"][0]["capture_lat"].as_f64(), Some(30.5825149), "{data}");
        let file = data["photos"][0]["file"].as_str().unwrap();
        let (_, jpeg) = files.iter().find(|(n, _)| n == file).unwrap();
        assert!(image::load_from_memory(jpeg).unwrap().width() > 0);
        let coord_id = app.id_of("coord").await;
        assert!(data["reads_by_others"].as_array().unwrap().iter().any(|r| r["actor_id"] == coord_id.as_str() && r["action"] == "phone.read"), "{data}");
        assert_eq!(data["devices"].as_array().map(Vec::len), Some(1));

        // He asks for erasure, once at a time.
        let (s, request) = app.post("/api/v1/me/erasure-requests", &zhao, json!({})).await;
        assert_eq!((s, request["state"].as_str()), (201, Some("requested")), "{request}");
        assert_eq!(request["areas"], json!(["420102003001"]));
        let (s, b) = app.post("/api/v1/me/erasure-requests", &zhao, json!({})).await;
        assert_eq!((s, b["fields"]["state"]["code"].as_str()), (409, Some("already_requested")), "{b}");
        let (_, mine) = app.get("/api/v1/me/erasure-requests", &zhao).await;
        assert_eq!(mine["requests"].as_array().map(Vec::len), Some(1));
        let decision = format!("/api/v1/erasure-requests/{}/decision", request["id"].as_str().unwrap());

        // Not his to carry out; not another district's administrator's, nor a coordinator's.
        let (s, b) = app.post(&decision, &zhao, json!({"decision": "carry_out"})).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, list) = app.get("/api/v1/erasure-requests", &o_admin).await;
        assert_eq!((s, list["requests"].clone()), (200, json!([])), "{list}");
        let (s, b) = app.post(&decision, &o_admin, json!({"decision": "carry_out"})).await;
        assert_error(s, &b, 404, "not_found");
        assert_eq!(app.get("/api/v1/erasure-requests", &crew.coord).await.0, 403);
        let (s, b) = app.post(&decision, &crew.coord, json!({"decision": "carry_out"})).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.get("/api/v1/erasure-requests?state=gone", &d_admin).await;
        assert_eq!((s, b["fields"]["state"]["code"].as_str()), (422, Some("invalid_state")), "{b}");
        // His district's administrator: a decline needs a reason; carrying it out erases.
        let (s, list) = app.get("/api/v1/erasure-requests?state=requested", &d_admin).await;
        assert_eq!((s, list["requests"][0]["user_id"].as_str()), (200, Some(zhao_id.as_str())), "{list}");
        let (s, b) = app.post(&decision, &d_admin, json!({"decision": "decline"})).await;
        assert_eq!((s, b["fields"]["reason"]["code"].as_str()), (422, Some("reason_required")), "{b}");
        let needles = ["赵六", "zhao.liu", "13912345678", "1234-5678", "30.5825137", "30.5825149"];
        let held = traces(&app, &needles).await;
        for place in [("users", "phone", "1234-5678"), ("users", "username", "zhao.liu"), ("events", "description", "赵六"),
                      ("event_log", "detail", "13912345678"), ("event_log", "lat", "30.5825137"), ("evidence", "capture_lat", "30.5825149"),
                      ("audit_log", "detail", "zhao.liu")] {
            let place = (place.0.to_owned(), place.1.to_owned(), place.2.to_owned());
            assert!(held.contains(&place), "the search finds {place:?} before: {held:?}");
        }
        let before = verify_timelines(&app).await;
        assert!(before.problems.is_empty(), "{:?}", before.problems);
        let (s, done) = app.post(&decision, &d_admin, json!({"decision": "carry_out"})).await;
        assert_eq!((s, done["state"].as_str()), (200, Some("erased")), "{done}");
        assert_eq!(done["summary"]["timeline_entries"], 2, "the report and the duplicate: {done}");
        assert_eq!((done["summary"]["photos"].as_i64(), done["summary"]["reports_scrubbed"].as_i64()), (Some(1), Some(1)), "{done}");
        let (s, b) = app.post(&decision, &d_admin, json!({"decision": "carry_out"})).await;
        assert_eq!((s, b["fields"]["decision"]["code"].as_str()), (409, Some("already_decided")), "{b}");

        // No trace of him in any table: name, account name, phone however written.
        let found = traces(&app, &needles).await;
        assert!(found.is_empty(), "{found:?}");
        // His report stays, with the case and without him; every timeline still verifies.
        let (s, e) = app.get(&format!("/api/v1/events/{event}"), &crew.coord).await;
        assert_eq!(s, 200, "{e}");
        assert_eq!(e["description"], "电线杆上小广告，我是[erased]，电话 [erased]", "{e}");
        let after = verify_timelines(&app).await;
        assert!(after.problems.is_empty(), "{:?}", after.problems);
        assert_eq!(after.entries, before.entries);
        let erased: Vec<(Option<f64>, Option<String>)> = app
            .db
            .run({
                let id = zhao_id.clone();
                move |conn| Ok(event_log::table.filter(event_log::actor_id.eq(id)).select((event_log::lat, event_log::personal_salt)).load(conn)?)
            })
            .await
            .unwrap();
        assert_eq!(erased, vec![(None, None), (None, None)]);
        // Signed out everywhere, for good.
        assert_eq!(app.get("/api/v1/me", &zhao).await.0, 401);
        assert_eq!(app.login_raw("zhao.liu", PASSWORD).await.status(), 401);
        // The administrator's act is on the audit log, without his name.
        let audit = app.db.run({ let id = zhao_id.clone(); move |conn| Ok(gridwork::queries::audit::for_subject(conn, &id)?) }).await.unwrap();
        let d_admin_id = app.id_of("d.admin").await;
        assert!(audit.iter().any(|a| a.action == "erasure.carry_out" && a.actor_id.as_deref() == Some(d_admin_id.as_str())));

        // Editing an erased entry's remaining fields is still found.
        app.db
            .run({
                let id = zhao_id.clone();
                move |conn| Ok(diesel::update(event_log::table.filter(event_log::actor_id.eq(id))).set(event_log::action.eq("accept")).execute(conn)?)
            })
            .await
            .unwrap();
        let tampered = verify_timelines(&app).await;
        assert_eq!(tampered.problems.first().map(|p| p.problem), Some("edited"), "{:?}", tampered.problems);
    }
}

both_backends! {
    async fn a_volunteers_export_is_what_the_database_holds(app: TestApp) {
        let crew = app.street_crew().await;
        let body = json!({"username": "liu.xiao", "password": PASSWORD, "display_name": "刘晓", "phone": "139 0000 2222",
                          "community": "420102003001", "note": "周末有空"});
        let (s, signed) = app.send(app.client.post(app.url("/api/v1/volunteers/sign-up")).json(&body)).await;
        assert_eq!(s, 201, "{signed}");
        let path = format!("/api/v1/volunteer-applications/{}/decision", signed["id"].as_str().unwrap());
        assert_eq!(app.post(&path, &crew.coord, json!({"decision": "approve"})).await.0, 200);
        let liu = app.login("liu.xiao").await;
        let liu_id = signed["user_id"].as_str().unwrap().to_owned();
        app.on_duty(&liu, P).await;
        // A pool job from a resident: claimed, done with an after-photo, verified.
        let body = json!({"category": "E-02-01", "lat": P.0, "lng": P.1, "description": "小广告"});
        let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&crew.chen).header("Idempotency-Key", "pool-1").json(&body);
        let (s, e) = app.send(req).await;
        assert_eq!(s, 201, "{e}");
        let event = e["id"].as_str().unwrap().to_owned();
        act(&app, &crew.coord, &event, json!({"action": "accept"})).await;
        act(&app, &liu, &event, json!({"action": "claim", "location": {"lat": P.0, "lng": P.1}})).await;
        act(&app, &liu, &event, json!({"action": "start"})).await;
        let photo = app.after_photo(&liu, &event).await;
        act(&app, &liu, &event, json!({"action": "resolve", "evidence": [photo]})).await;
        act(&app, &crew.wang, &event, json!({"action": "verify"})).await;
        let device = json!({"fcm_token": "fcm-token-of-lius-phone-0000001", "platform": "ios", "app_version": "2.1"});
        assert_eq!(app.post("/api/v1/devices", &liu, device).await.0, 201);

        let (data, files) = export(&app, &liu).await;
        // Section by section against the tables.
        type Held = (i64, i64, Vec<(i32, i32)>, Vec<(String, i32, String)>, Vec<(f64, f64)>, String);
        let held: Held = app
            .db
            .run({
                let id = liu_id.clone();
                move |conn| {
                    Ok((
                        sessions::table.filter(sessions::user_id.eq(&id)).count().get_result(conn)?,
                        devices::table.filter(devices::user_id.eq(&id)).count().get_result(conn)?,
                        service_records::table.filter(service_records::user_id.eq(&id)).select((service_records::points, service_records::minutes)).load(conn)?,
                        event_log::table
                            .filter(event_log::actor_id.eq(&id))
                            .order((event_log::event_id.asc(), event_log::seq.asc()))
                            .select((event_log::event_id, event_log::seq, event_log::action))
                            .load(conn)?,
                        location_pings::table.filter(location_pings::user_id.eq(&id)).order(location_pings::recorded_at.asc()).select((location_pings::lat, location_pings::lng)).load(conn)?,
                        volunteer_applications::table.filter(volunteer_applications::user_id.eq(&id)).select(volunteer_applications::phone).first(conn)?,
                    ))
                }
            })
            .await
            .unwrap();
        let (n_sessions, n_devices, service, steps, pings, phone) = held;
        let len = |k: &str| data[k].as_array().map_or(0, Vec::len);
        assert_eq!(len("sessions") as i64, n_sessions, "{data}");
        assert_eq!(len("devices") as i64, n_devices);
        assert_eq!(data["devices"][0]["platform"], "ios");
        let exported: Vec<(i32, i32)> = data["service_records"].as_array().unwrap().iter()
            .map(|r| (r["points"].as_i64().unwrap() as i32, r["minutes"].as_i64().unwrap() as i32)).collect();
        assert_eq!((exported.len(), exported), (1, service));
        let exported: Vec<(String, i32, String)> = data["timeline_steps"].as_array().unwrap().iter()
            .map(|s| (s["event_id"].as_str().unwrap().to_owned(), s["seq"].as_i64().unwrap() as i32, s["action"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(exported, steps);
        assert!(steps.iter().any(|s| s.2 == "claim") && steps.iter().any(|s| s.2 == "resolve"), "{steps:?}");
        let exported: Vec<(f64, f64)> = data["location_pings"].as_array().unwrap().iter()
            .map(|p| (p["lat"].as_f64().unwrap(), p["lng"].as_f64().unwrap())).collect();
        assert_eq!((exported.is_empty(), exported), (false, pings));
        assert_eq!(data["volunteer_applications"][0]["phone"].as_str(), Some(phone.as_str()));
        assert_eq!(data["volunteer_applications"][0]["note"], "周末有空");
        assert_eq!(data["account"]["display_name"], "刘晓");
        assert_eq!(len("duty_periods"), 1);
        assert_eq!(len("reports"), 0, "the report is the resident's");
        assert!(data["roles"].as_array().unwrap().iter().any(|g| g["role"] == "volunteer"), "{data}");
        // Her photo: the bytes the store keeps, a real JPEG.
        assert_eq!(len("photos"), 1);
        assert_eq!(data["photos"][0]["id"], photo.as_str());
        let sha: String = app
            .db
            .run({
                let id = photo.clone();
                move |conn| {
                    use gridwork::db::schema::evidence_blobs;
                    Ok(evidence::table
                        .inner_join(evidence_blobs::table.on(evidence_blobs::upload_sha256.eq(evidence::upload_sha256)))
                        .filter(evidence::id.eq(id))
                        .select(evidence_blobs::sha256)
                        .first(conn)?)
                }
            })
            .await
            .unwrap();
        let stored = app.state.photos.get(&PhotoStore::photo_key(&sha)).await.unwrap().unwrap();
        let (name, jpeg) = &files[0];
        assert_eq!((files.len(), name.as_str()), (1, format!("photos/{photo}.jpg").as_str()));
        assert_eq!(jpeg.as_slice(), stored.as_ref());
        image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).unwrap();
        // The export is audited; without a session there is none.
        let audit = app.db.run({ let id = liu_id.clone(); move |conn| Ok(gridwork::queries::audit::for_subject(conn, &id)?) }).await.unwrap();
        assert!(audit.iter().any(|a| a.action == "data.export"));
        let res = app.client.get(app.url("/api/v1/me/data-export")).send().await.unwrap();
        assert_eq!(res.status(), 401);
        // Nobody but the person reads it: the verifier's own export holds only the verifier.
        let (theirs, files) = export(&app, &crew.wang).await;
        assert_eq!((theirs["account"]["username"].as_str(), files.len()), (Some("wang"), 0), "{theirs}");
        assert!(!theirs.to_string().contains("139 0000 2222") && !theirs.to_string().contains("13900002222"));
    }
}
