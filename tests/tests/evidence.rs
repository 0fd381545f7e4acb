//! Photo evidence end to end, on both backends with the local object store: real images with
//! EXIF (orientation, capture time, GPS), bad files, deduplication, the checks that flag
//! after-photos, closure by cited evidence, what each role sees, resumable uploads and retention.

use std::io::Cursor;

use chrono::{Duration, Utc};
use gridwork_mobile_core::Role;
use gridwork_mobile_core::photo_fixtures::{CameraExif, claim_dimensions, encode, jpeg_with_exif, two_tone};
use gridwork_tests::{TestApp, assert_error, both_backends, per_backend, unique_jpeg};
use image::ImageFormat;
use serde_json::{Value, json};
use sha2::Digest;

/// A point inside demo grid 420102003001001.
const P: (f64, f64) = (30.5825, 114.2740);

struct Case {
    coord: String,
    wang: String,
    li: String,
    chen: String,
    event: String,
}

/// A resident's report, accepted and dispatched to grid worker wang, who starts work.
async fn setup(app: &TestApp) -> Case {
    let gridwork_tests::Crew { coord, wang, li, chen, .. } = app.street_crew().await;
    let body = json!({"category": "E-01-02", "lat": P.0, "lng": P.1, "description": "渣土堆在路边"});
    let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&chen).header("Idempotency-Key", "k1").json(&body);
    let (s, e) = app.send(req).await;
    assert_eq!(s, 201, "{e}");
    let event = e["id"].as_str().unwrap().to_owned();
    let wang_id = app.id_of("wang").await;
    for action in [json!({"action": "accept"}), json!({"action": "dispatch", "assignees": [wang_id]})] {
        let (s, b) = app.post(&format!("/api/v1/events/{event}/actions"), &coord, action).await;
        assert_eq!(s, 200, "{b}");
    }
    for action in ["claim", "start"] {
        let (s, b) = app.post(&format!("/api/v1/events/{event}/actions"), &wang, json!({"action": action})).await;
        assert_eq!(s, 200, "{b}");
    }
    Case { coord, wang, li, chen, event }
}

/// A camera photo taken `minutes_from_now` (camera clock in China Standard Time) at `gps`.
fn camera_jpeg(minutes_from_now: i64, gps: Option<(f64, f64)>, orientation: u16) -> Vec<u8> {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let taken = (Utc::now() + Duration::minutes(minutes_from_now)).with_timezone(&cst).format("%Y:%m:%d %H:%M:%S");
    jpeg_with_exif(&two_tone(800, 400), &CameraExif { orientation, taken_at: &taken.to_string(), gps })
}

fn fields(kind: &str, event: Option<&str>) -> Vec<(&'static str, String)> {
    let mut f = vec![("kind", kind.to_owned())];
    if let Some(e) = event {
        f.push(("event_id", e.to_owned()));
    }
    f
}

async fn fetch(app: &TestApp, token: &str, url: &str) -> (u16, Vec<u8>) {
    let res = app.client.get(app.url(url)).bearer_auth(token).send().await.unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/events/{id}/actions"), token, body).await
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.db
        .run(move |conn| {
            use diesel::RunQueryDsl;
            Ok(diesel::sql_query(sql).get_result::<N>(conn)?.n)
        })
        .await
        .unwrap()
}

both_backends! {
    async fn photos_are_stripped_checked_cited_and_stored_once(app: TestApp) {
        let c = setup(&app).await;
        let ev = c.event.as_str();

        // A good after-photo: camera EXIF at the spot, taken just now, turned by orientation 6.
        let photo = camera_jpeg(1, Some((P.0 + 0.0001, P.1)), 6);
        let sha = format!("{:x}", sha2::Sha256::digest(&photo));
        let mut f = fields("after", Some(ev));
        f.push(("sha256", sha.clone()));
        let (s, good) = app.upload_photo(&c.wang, photo.clone(), &f).await;
        assert_eq!(s, 201, "{good}");
        assert_eq!(good["flags"], json!([]), "{good}");
        assert_eq!(good["capture"]["source"], "exif");
        assert!((good["capture"]["location"]["lat"].as_f64().unwrap() - (P.0 + 0.0001)).abs() < 1e-5);
        assert_eq!((good["width"].as_i64(), good["height"].as_i64()), (Some(400), Some(800)));
        // The stored copy: a JPEG that parses without any EXIF, and turned upright.
        let (s, stored) = fetch(&app, &c.wang, good["photo_url"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        assert!(exif::Reader::new().read_from_container(&mut Cursor::new(&stored)).is_err(), "EXIF left in the stored copy");
        assert!(!stored.windows(9).any(|w| w == b"TestPhone"));
        let img = image::load_from_memory_with_format(&stored, ImageFormat::Jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (400, 800));
        let (s, thumb) = fetch(&app, &c.wang, good["thumbnail_url"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        let t = image::load_from_memory(&thumb).unwrap();
        assert_eq!((t.width(), t.height()), (160, 320));
        // It sits in the local object store under the data folder, named by its hash.
        let key = good["sha256"].as_str().unwrap();
        let on_disk = app.state.settings.data_dir.join(format!("evidence/photos/{}/{key}.jpg", &key[..2]));
        assert_eq!(std::fs::read(&on_disk).unwrap(), stored);

        // The same bytes again: the same evidence. A damaged transfer is caught by its hash.
        let (s, again) = app.upload_photo(&c.wang, photo.clone(), &f).await;
        assert_eq!((s, &again["id"]), (200, &good["id"]));
        let mut bad_sum = fields("after", Some(ev));
        bad_sum.push(("sha256", "0".repeat(64)));
        let (s, b) = app.upload_photo(&c.wang, photo.clone(), &bad_sum).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["sha256"]["code"], "checksum_mismatch");
        // The reporter sends the very same file as a before-photo: new evidence, the image stored once.
        let (s, before) = app.upload_photo(&c.chen, photo.clone(), &fields("before", Some(ev))).await;
        assert_eq!(s, 201, "{before}");
        assert_ne!(before["id"], good["id"]);
        assert_eq!(before["sha256"], good["sha256"]);
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM evidence_blobs").await, 1);
        let files = walk(&app.state.settings.data_dir.join("evidence/photos"));
        assert_eq!(files, 1, "one stored image for one distinct upload");

        // Who may add what: only handlers add after-photos, only verifiers verify-photos.
        let (s, b) = app.upload_photo(&c.li, unique_jpeg(), &fields("after", Some(ev))).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.upload_photo(&c.chen, unique_jpeg(), &fields("after", Some(ev))).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.upload_photo(&c.wang, unique_jpeg(), &fields("verify", Some(ev))).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.upload_photo(&c.wang, unique_jpeg(), &fields("after", None)).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["event_id"]["code"], "required");

        // Flags, not refusals: 500 m away; taken an hour before dispatch (device clock); no data.
        let far = camera_jpeg(1, Some((P.0 + 0.0045, P.1)), 1);
        let (s, b) = app.upload_photo(&c.wang, far, &fields("after", Some(ev))).await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["flags"][0]["code"], "far_from_event", "{b}");
        let d = b["flags"][0]["distance_m"].as_f64().unwrap();
        assert!((480.0..520.0).contains(&d), "{d}");
        assert_eq!(b["flags"][0]["radius_m"], 50.0);
        let mut early = fields("after", Some(ev));
        early.push(("taken_at", (Utc::now() - Duration::hours(1)).to_rfc3339()));
        early.push(("lat", P.0.to_string()));
        early.push(("lng", P.1.to_string()));
        let (s, b) = app.upload_photo(&c.wang, unique_jpeg(), &early).await;
        assert_eq!(s, 201, "{b}");
        assert_eq!((b["flags"][0]["code"].as_str(), b["capture"]["source"].as_str()), (Some("before_dispatch"), Some("device")));
        assert!(b["flags"][0]["dispatched_at"].is_string() && b["flags"][0]["taken_at"].is_string());
        let (s, bare) = app.upload_photo(&c.wang, unique_jpeg(), &fields("after", Some(ev))).await;
        assert_eq!(s, 201);
        let codes: Vec<&str> = bare["flags"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["no_capture_location", "no_capture_time"]);
        // The coordinator hears of each flagged photo, and the timeline shows the checks.
        assert_eq!(
            count(&app, "SELECT COUNT(*) AS n FROM notifications WHERE kind = 'evidence_flagged'").await,
            3
        );
        let (_, detail) = app.get(&format!("/api/v1/events/{ev}"), &c.coord).await;
        let flagged: Vec<&Value> = detail["timeline"].as_array().unwrap().iter().filter(|t| t["action"] == "evidence_flagged").collect();
        assert_eq!(flagged.len(), 3);
        assert_eq!(flagged[0]["detail"]["flags"][0]["code"], "far_from_event");

        // Closure: an after-photo is required, it must be this event's after-photo by its handler.
        let (s, b) = act(&app, &c.wang, ev, json!({"action": "resolve"})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["evidence"]["code"], "evidence_required");
        let (s, b) = act(&app, &c.wang, ev, json!({"action": "resolve", "evidence": [before["id"]]})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["evidence[0]"]["code"], "unknown_evidence");
        let (s, b) = act(&app, &c.wang, ev, json!({"action": "resolve", "evidence": ["no-such-photo"]})).await;
        assert_eq!((s, b["fields"]["evidence[0]"]["code"].as_str()), (422, Some("unknown_evidence")));
        let (s, b) = act(&app, &c.wang, ev, json!({"action": "resolve", "evidence": [good["id"], good["id"]]})).await;
        assert_eq!((s, b["fields"]["evidence[1]"]["code"].as_str()), (422, Some("duplicate")));
        let (s, b) = act(&app, &c.wang, ev, json!({"action": "resolve", "evidence": [good["id"]]})).await;
        assert_eq!((s, b["state"].as_str()), (200, Some("resolved")), "{b}");

        // The verifier sees before and after together, with capture data and flags; a verify-photo.
        let (s, b) = app.upload_photo(&c.coord, unique_jpeg(), &fields("verify", Some(ev))).await;
        assert_eq!(s, 201, "{b}");
        let (s, all) = app.get(&format!("/api/v1/events/{ev}/evidence"), &c.coord).await;
        assert_eq!(s, 200);
        assert_eq!(
            (all["before"].as_array().unwrap().len(), all["after"].as_array().unwrap().len(), all["verify"].as_array().unwrap().len()),
            (1, 4, 1)
        );
        assert_eq!(all["after"][0]["cited"], true);
        assert!(all["after"][0]["capture"]["location"].is_object());
        assert_eq!(all["after"][1]["flags"][0]["code"], "far_from_event");
        // The reporter: stripped images only — no one else's capture place or time, no checks.
        let (_, mine) = app.get(&format!("/api/v1/events/{ev}"), &c.chen).await;
        let after = &mine["evidence"]["after"][0];
        assert!(after.get("capture").is_none() && after.get("flags").is_none() && after.get("uploader").is_none(), "{after}");
        assert!(mine["evidence"]["before"][0]["capture"].is_object(), "their own photo's data stays theirs to see");
        let (s, _) = fetch(&app, &c.chen, after["photo_url"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        // A stranger gets nothing.
        app.user("stranger", Role::Resident, Some("420100")).await;
        let stranger = app.login("stranger").await;
        let (s, _) = fetch(&app, &stranger, after["photo_url"].as_str().unwrap()).await;
        assert_eq!(s, 404);

        // Rework: the cited photo proved the first resolve; the second needs a new one.
        let (s, b) = act(&app, &c.coord, ev, json!({"action": "rework", "reason": "还有残渣"})).await;
        assert_eq!(s, 200, "{b}");
        act(&app, &c.wang, ev, json!({"action": "start"})).await;
        let (s, b) = act(&app, &c.wang, ev, json!({"action": "resolve", "evidence": [good["id"]]})).await;
        assert_eq!((s, b["fields"]["evidence[0]"]["code"].as_str()), (422, Some("already_cited")));
        let fresh = app.after_photo(&c.wang, ev).await;
        let (s, _) = act(&app, &c.wang, ev, json!({"action": "resolve", "evidence": [fresh]})).await;
        assert_eq!(s, 200);
    }

    async fn bad_files_get_clear_errors(app: TestApp) {
        let c = setup(&app).await;
        let ev = c.event.as_str();
        let after = fields("after", Some(ev));
        let err = |b: &Value| b["fields"]["file"]["code"].as_str().unwrap_or_default().to_owned();
        // A text file named photo.jpg.
        let (s, b) = app.upload_photo(&c.wang, b"not a photo, whatever its name says".to_vec(), &after).await;
        assert_error(s, &b, 415, "unsupported_media_type");
        assert_eq!(err(&b), "not_an_image");
        // A truncated JPEG.
        let jpeg = camera_jpeg(0, Some(P), 1);
        let (s, b) = app.upload_photo(&c.wang, jpeg[..jpeg.len() / 2].to_vec(), &after).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(err(&b), "corrupt");
        // A decompression bomb: refused from its header, quickly.
        let mut bomb = encode(&two_tone(8, 8), ImageFormat::Png);
        claim_dimensions(&mut bomb, 100_000, 100_000);
        let t = std::time::Instant::now();
        let (s, b) = app.upload_photo(&c.wang, bomb, &after).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(err(&b), "too_many_pixels");
        assert!(t.elapsed() < std::time::Duration::from_secs(2), "{:?}", t.elapsed());
        // Over the size limit: refused while it streams in.
        let (s, b) = app.upload_photo(&c.wang, vec![0xFF; 16 * 1024 * 1024], &after).await;
        assert_error(s, &b, 413, "payload_too_large");
        assert_eq!(err(&b), "too_large");
        // Missing and malformed fields.
        let (s, b) = app.upload_photo(&c.wang, unique_jpeg(), &[("event_id", ev.to_owned())]).await;
        assert_eq!((s, b["fields"]["kind"]["code"].as_str()), (422, Some("required")));
        let (s, b) = app.upload_photo(&c.wang, unique_jpeg(), &[("kind", "during".into())]).await;
        assert_eq!((s, b["fields"]["kind"]["code"].as_str()), (422, Some("invalid_kind")));
        let mut odd = after.clone();
        odd.push(("taken_at", "yesterday".into()));
        let (s, b) = app.upload_photo(&c.wang, unique_jpeg(), &odd).await;
        assert_eq!((s, b["fields"]["taken_at"]["code"].as_str()), (422, Some("invalid_time")));
        let mut far = after.clone();
        far.push(("lat", "95".into()));
        far.push(("lng", "114".into()));
        let (s, b) = app.upload_photo(&c.wang, unique_jpeg(), &far).await;
        assert_eq!((s, b["fields"]["location"]["code"].as_str()), (422, Some("out_of_range")));
        let form = reqwest::multipart::Form::new()
            .text("kind", "after")
            .text("event_id", ev.to_owned())
            .part("file", reqwest::multipart::Part::bytes(unique_jpeg()))
            .part("file", reqwest::multipart::Part::bytes(unique_jpeg()));
        let (s, b) = app.send(app.client.post(app.url("/api/v1/evidence")).bearer_auth(&c.wang).multipart(form)).await;
        assert_eq!((s, b["fields"]["file"]["code"].as_str()), (422, Some("duplicate")));
        let mut extra = after.clone();
        extra.push(("colour", "red".into()));
        let (s, b) = app.upload_photo(&c.wang, unique_jpeg(), &extra).await;
        assert_eq!((s, b["fields"]["colour"]["code"].as_str()), (422, Some("unknown_field")));
        let req = app.client.post(app.url("/api/v1/evidence")).bearer_auth(&c.wang).json(&json!({"kind": "after"}));
        let (s, b) = app.send(req).await;
        assert_error(s, &b, 415, "unsupported_media_type");
        let req = app.client.post(app.url("/api/v1/evidence")).multipart(reqwest::multipart::Form::new().text("kind", "after"));
        let (s, b) = app.send(req).await;
        assert_error(s, &b, 401, "unauthorized");
        assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM evidence").await, 0, "nothing was kept of any of them");
    }

    async fn a_report_carries_its_before_photos(app: TestApp) {
        let c = setup(&app).await;
        // Taken and uploaded first (no event yet), then named by the report.
        let (s, photo) = app.upload_photo(&c.chen, camera_jpeg(0, Some(P), 1), &fields("before", None)).await;
        assert_eq!(s, 201, "{photo}");
        let body = json!({"category": "C-03-01", "lat": P.0, "lng": P.1, "description": "路灯不亮", "evidence": [photo["id"]]});
        let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&c.chen).header("Idempotency-Key", "k2").json(&body);
        let (s, e) = app.send(req).await;
        assert_eq!(s, 201, "{e}");
        let (_, all) = app.get(&format!("/api/v1/events/{}/evidence", e["id"].as_str().unwrap()), &c.coord).await;
        assert_eq!(all["before"][0]["id"], photo["id"]);
        // Nobody can name someone else's photo, or one already attached.
        let body = json!({"category": "C-03-01", "lat": P.0, "lng": P.1 + 0.01, "description": "又一个", "evidence": [photo["id"]]});
        let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&c.wang).header("Idempotency-Key", "k3").json(&body);
        let (s, b) = app.send(req).await;
        assert_eq!((s, b["fields"]["evidence"]["code"].as_str()), (422, Some("unknown_evidence")), "{b}");
    }

    async fn resumable_uploads_continue_where_they_stopped(app: TestApp) {
        let c = setup(&app).await;
        let photo = camera_jpeg(1, Some(P), 1);
        let sha = format!("{:x}", sha2::Sha256::digest(&photo));
        let begin = json!({"kind": "after", "event_id": c.event, "size": photo.len(), "sha256": sha,
            "taken_at": Utc::now().to_rfc3339(), "location": {"lat": P.0, "lng": P.1}});
        let (s, up) = app.post("/api/v1/evidence/uploads", &c.wang, begin.clone()).await;
        assert_eq!(s, 201, "{up}");
        let url = format!("/api/v1/evidence/uploads/{}", up["id"].as_str().unwrap());
        let put = |offset: usize, bytes: Vec<u8>| {
            app.client.put(app.url(&url)).bearer_auth(&c.wang).header("Upload-Offset", offset.to_string()).body(bytes)
        };
        let third = photo.len() / 3;
        let (s, b) = app.send(put(0, photo[..third].to_vec())).await;
        assert_eq!((s, b["received"].as_u64()), (200, Some(third as u64)));
        // The same chunk again (its answer was lost): refused with where to go on from.
        let (s, b) = app.send(put(0, photo[..third].to_vec())).await;
        assert_error(s, &b, 409, "conflict");
        assert_eq!(b["details"]["received"].as_u64(), Some(third as u64));
        // The phone asks where to resume after a restart.
        let (s, b) = app.get(&url, &c.wang).await;
        assert_eq!((s, b["received"].as_u64()), (200, Some(third as u64)));
        let (s, b) = app.get(&url, &c.li).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.send(put(third, photo[third..2 * third].to_vec())).await;
        assert_eq!(s, 200, "{b}");
        let (s, done) = app.send(put(2 * third, photo[2 * third..].to_vec())).await;
        assert_eq!(s, 201, "{done}");
        assert_eq!(done["kind"], "after");
        assert_eq!(done["flags"], json!([]));
        // The last chunk once more: the same evidence, nothing new.
        let (s, again) = app.send(put(2 * third, photo[2 * third..].to_vec())).await;
        assert_eq!((s, &again["id"]), (200, &done["id"]));
        assert_eq!(walk(&app.state.settings.data_dir.join("evidence/uploads")), 0, "chunks are cleared");

        // Chunks that do not add up to the announced hash: refused, and the upload starts over.
        let mut wrong = begin.clone();
        wrong["sha256"] = json!("a".repeat(64));
        let (_, up) = app.post("/api/v1/evidence/uploads", &c.wang, wrong).await;
        let url = format!("/api/v1/evidence/uploads/{}", up["id"].as_str().unwrap());
        let req = app.client.put(app.url(&url)).bearer_auth(&c.wang).header("Upload-Offset", "0").body(photo.clone());
        let (s, b) = app.send(req).await;
        assert_eq!((s, b["fields"]["sha256"]["code"].as_str()), (422, Some("checksum_mismatch")));
        let (_, b) = app.get(&url, &c.wang).await;
        assert_eq!(b["received"], 0);
        // Too big to begin, and a chunk past the end.
        let mut big = begin.clone();
        big["size"] = json!(100 * 1024 * 1024);
        let (s, b) = app.post("/api/v1/evidence/uploads", &c.wang, big).await;
        assert_error(s, &b, 413, "payload_too_large");
        let req = app.client.put(app.url(&url)).bearer_auth(&c.wang).header("Upload-Offset", "0").body(vec![0u8; photo.len() + 1]);
        let (s, b) = app.send(req).await;
        assert_eq!((s, b["fields"]["body"]["code"].as_str()), (422, Some("out_of_range")));
        let req = app.client.put(app.url(&url)).bearer_auth(&c.wang).body(vec![0u8; 10]);
        let (s, b) = app.send(req).await;
        assert_eq!((s, b["fields"]["Upload-Offset"]["code"].as_str()), (422, Some("required")));
    }
}

per_backend! {
    async fn photos_leave_after_the_retention_period(backend) {
        let Some(app) = TestApp::spawn_with(backend, |s| s.evidence.retention_days = Some(30)).await else { return };
        let c = setup(&app).await;
        let ev = c.event.as_str();
        let photo = app.after_photo(&c.wang, ev).await;
        let (s, _) = act(&app, &c.wang, ev, json!({"action": "resolve", "evidence": [photo]})).await;
        assert_eq!(s, 200);
        let (s, _) = act(&app, &c.coord, ev, json!({"action": "verify"})).await;
        assert_eq!(s, 200);
        // An orphan before-photo (no report ever named it), and a photo of an open event.
        let (_, orphan) = app.upload_photo(&c.chen, unique_jpeg(), &fields("before", None)).await;
        let body = json!({"category": "E-01-02", "lat": P.0, "lng": P.1 + 0.01, "description": "另一处"});
        let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&c.chen).header("Idempotency-Key", "k9").json(&body);
        let (_, open) = app.send(req).await;
        let open = open["id"].as_str().unwrap().to_owned();
        let (s, kept) = app.upload_photo(&c.chen, unique_jpeg(), &fields("before", Some(&open))).await;
        assert_eq!(s, 201, "{kept}");
        let photos = app.state.settings.data_dir.join("evidence/photos");
        assert_eq!(walk(&photos), 3);

        let purge = |days: i64| gridwork::evidence::retention::purge(&app.state, gridwork::models::now() + Duration::days(days));
        assert_eq!(purge(29).await.unwrap(), 0, "not yet");
        assert_eq!(purge(31).await.unwrap(), 2);
        assert_eq!(walk(&photos), 1, "only the open event's photo is left");
        let (_, all) = app.get(&format!("/api/v1/events/{ev}/evidence"), &c.coord).await;
        assert_eq!(all["after"][0]["purged"], true, "the record says a photo existed");
        let (s, b) = app.get(all["after"][0]["photo_url"].as_str().unwrap(), &c.coord).await;
        assert_error(s, &b, 404, "not_found");
        let (s, _) = fetch(&app, &c.chen, &format!("/api/v1/evidence/{}/photo", kept["id"].as_str().unwrap())).await;
        assert_eq!(s, 200);
        let _ = orphan;
        assert_eq!(purge(62).await.unwrap(), 0, "purged once");
    }
}

// The same photo path with an S3-compatible store instead of the local one.
per_backend! {
    async fn photos_go_to_an_s3_compatible_store(backend) {
        let s3 = gridwork_tests::s3::S3Double::start().await;
        let options = s3.options();
        let Some(app) = TestApp::spawn_with(backend, |s| {
            s.evidence.store = gridwork::evidence::StoreLocation::S3 { url: "s3://city-evidence/gridwork".into(), options };
            s.evidence.retention_days = Some(30);
        })
        .await
        else {
            return;
        };
        let c = setup(&app).await;
        let ev = c.event.as_str();
        let (s, good) = app.upload_photo(&c.wang, camera_jpeg(1, Some(P), 1), &fields("after", Some(ev))).await;
        assert_eq!(s, 201, "{good}");
        let sha = good["sha256"].as_str().unwrap();
        let key = format!("city-evidence/gridwork/photos/{}/{sha}.jpg", &sha[..2]);
        let (s, served) = fetch(&app, &c.wang, good["photo_url"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        assert_eq!(s3.get(&key), Some(served), "served from the bucket, under the prefix: {:?}", s3.keys());
        assert!(s3.keys().iter().any(|k| k.starts_with("city-evidence/gridwork/thumbnails/")));
        // A resumable upload keeps its chunks in the bucket and clears them at the end.
        let photo = camera_jpeg(1, Some(P), 3);
        let begin = json!({"kind": "after", "event_id": ev, "size": photo.len(), "sha256": format!("{:x}", sha2::Sha256::digest(&photo))});
        let (_, up) = app.post("/api/v1/evidence/uploads", &c.wang, begin).await;
        let url = format!("/api/v1/evidence/uploads/{}", up["id"].as_str().unwrap());
        let half = photo.len() / 2;
        for (offset, part) in [(0, &photo[..half]), (half, &photo[half..])] {
            let req = app.client.put(app.url(&url)).bearer_auth(&c.wang).header("Upload-Offset", offset.to_string()).body(part.to_vec());
            let (s, b) = app.send(req).await;
            assert!(s == 200 || s == 201, "{b}");
        }
        assert!(!s3.keys().iter().any(|k| k.contains("/uploads/")), "{:?}", s3.keys());
        let (s, _) = act(&app, &c.wang, ev, json!({"action": "resolve", "evidence": [good["id"]]})).await;
        assert_eq!(s, 200);
        let (s, _) = act(&app, &c.coord, ev, json!({"action": "verify"})).await;
        assert_eq!(s, 200);
        assert_eq!(gridwork::evidence::retention::purge(&app.state, gridwork::models::now() + Duration::days(31)).await.unwrap(), 2);
        assert!(s3.get(&key).is_none(), "purged from the bucket too");
    }
}

/// Files under a directory (0 when it does not exist).
fn walk(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() { walk(&p) } else { 1 }
        })
        .sum()
}

/// The fixture the tests rely on for distinct uploads: distinct also after re-encoding.
#[test]
fn unique_photos_stay_unique_after_the_pipeline() {
    let limits = gridwork_mobile_core::photo::Limits::default();
    let hashes: std::collections::HashSet<String> =
        (0..500).map(|_| gridwork_mobile_core::photo::process(&unique_jpeg(), &limits).unwrap().sha256).collect();
    assert_eq!(hashes.len(), 500);
}
