//! Retention of personal data beyond photos and pings, under a fake clock on both backends:
//! notifications and their delivery records, deactivated devices' push tokens, audit entries —
//! each kept its period and then gone, the fresh ones untouched.

use diesel::prelude::*;
use gridwork::db::schema::{audit_log, devices, notifications};
use gridwork::retention::{Purged, Retention, purge};
use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, both_backends};
use serde_json::json;

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    app.db
        .run(|conn| {
            Ok((
                notifications::table.count().get_result(conn)?,
                devices::table.count().get_result(conn)?,
                audit_log::table.count().get_result(conn)?,
            ))
        })
        .await
        .unwrap()
}

async fn purge_at(app: &TestApp, days_ahead: i64) -> Purged {
    let r = app.state.settings.retention;
    assert_eq!(
        r,
        Retention {
            notifications: Some(chrono::Duration::days(180)),
            deactivated_devices: Some(chrono::Duration::days(30)),
            audit: Some(chrono::Duration::days(1095)),
            hotline_callers: Some(chrono::Duration::days(365)),
        },
        "the defaults"
    );
    let at = gridwork::models::now() + chrono::Duration::days(days_ahead);
    app.db.run(move |conn| purge(conn, &r, at)).await.unwrap()
}

both_backends! {
    async fn personal_data_is_kept_its_period_and_then_purged(app: TestApp) {
        let admin = app.demo_city().await;
        let wang_id = app.user("wang", Role::GridWorker, Some("420102003001001")).await;
        let wang = app.login("wang").await;
        // Two phones: one FCM gave up on (deactivated), one in use.
        for token in ["fcm-token-of-an-old-phone-00001", "fcm-token-of-the-new-phone-0002"] {
            let (s, b) = app.post("/api/v1/devices", &wang, json!({"fcm_token": token, "platform": "android", "app_version": "1.0"})).await;
            assert_eq!(s, 201, "{b}");
        }
        app.db
            .run(|conn| {
                Ok(diesel::update(devices::table.filter(devices::fcm_token.eq("fcm-token-of-an-old-phone-00001")))
                    .set((devices::active.eq(false), devices::deactivated_reason.eq(Some("unregistered"))))
                    .execute(conn)?)
            })
            .await
            .unwrap();
        // A notification for wang, and an audited read of his phone number.
        let id = wang_id.clone();
        app.db
            .run(move |conn| gridwork::events::notify::send_to(conn, &[id], None, "volunteer_approved", &json!({})))
            .await
            .unwrap();
        let (s, _) = app.get(&format!("/api/v1/users/{wang_id}"), &admin).await;
        assert_eq!(s, 200);
        let (notes, phones, audit) = counts(&app).await;
        assert_eq!((notes, phones), (1, 2));
        assert!(audit >= 3, "user, role and phone read entries: {audit}");

        assert_eq!(purge_at(&app, 29).await, Purged::default(), "nothing is due yet");
        assert_eq!(purge_at(&app, 31).await, Purged { notifications: 0, devices: 1, audit: 0, hotline_callers: 0 });
        let (s, mine) = app.get("/api/v1/devices", &wang).await;
        assert_eq!((s, mine["devices"].as_array().map(Vec::len)), (200, Some(1)), "the phone in use stays");
        assert_eq!(purge_at(&app, 181).await, Purged { notifications: 1, devices: 0, audit: 0, hotline_callers: 0 });
        let (_, inbox) = app.get("/api/v1/notifications", &wang).await;
        assert_eq!(inbox["notifications"], json!([]));
        let gone = purge_at(&app, 1096).await;
        assert_eq!((gone.notifications, gone.devices), (0, 0));
        assert!(gone.audit as i64 >= audit, "{gone:?}");
        assert_eq!(counts(&app).await, (0, 1, 0));
    }
}

both_backends! {
    async fn the_privacy_report_says_what_is_held_and_who_read_it(app: TestApp) {
        let admin = app.demo_city().await;
        let wang_id = app.user("wang", Role::GridWorker, Some("420102003001001")).await;
        app.user("coord", Role::Coordinator, Some("420102003")).await;
        let coord = app.login("coord").await;
        // The coordinator reads wang's number twice and his track once.
        for _ in 0..2 {
            assert_eq!(app.get(&format!("/api/v1/users/{wang_id}"), &coord).await.0, 200);
        }
        assert_eq!(app.get(&format!("/api/v1/users/{wang_id}/track"), &coord).await.0, 200);
        let (s, report) = app.get("/api/v1/privacy/report", &admin).await;
        assert_eq!(s, 200, "{report}");
        let holding = |kind: &str| report["holdings"].as_array().unwrap().iter().find(|h| h["kind"] == kind).cloned().unwrap();
        assert_eq!(holding("phone numbers of accounts")["rows"], 3, "root, wang and coord: {report}");
        assert_eq!(holding("location trails")["retention_days"], 30);
        assert_eq!(holding("notifications")["retention_days"], 180);
        let reads = report["recent_reads"].as_array().unwrap();
        let coord_id = app.id_of("coord").await;
        let of = |action: &str| reads.iter().find(|r| r["reader_id"] == coord_id.as_str() && r["action"] == action).cloned().unwrap();
        assert_eq!((of("phone.read")["reads"].as_i64(), of("phone.read")["people"].as_i64()), (Some(2), Some(1)));
        assert_eq!((of("track.read")["reads"].as_i64(), of("track.read")["reader"].as_str()), (Some(1), Some("coord")));
        // System administrators only.
        let (s, _) = app.get("/api/v1/privacy/report", &coord).await;
        assert_eq!(s, 403);
    }
}
