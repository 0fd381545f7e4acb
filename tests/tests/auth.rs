use gridwork_mobile_core::Role;
use gridwork_tests::{Backend, PASSWORD, TestApp, assert_error, both_backends, per_backend, status_json};
use serde_json::json;

both_backends! {
    async fn login_me_logout(app: TestApp) {
        app.user("worker.wang", Role::GridWorker, Some("420102003001001")).await;
        let res = app.login_raw("Worker.Wang", PASSWORD).await;
        assert_eq!(res.status(), 200);
        let (_, body) = status_json(res).await;
        let token = body["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with("gw_"));
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["user"]["username"], "worker.wang");
        assert!(body["user"].get("password_hash").is_none());

        let (status, me) = app.get("/api/v1/me", &token).await;
        assert_eq!(status, 200);
        assert_eq!(me["user"]["username"], "worker.wang");
        assert_eq!(me["roles"][0]["role"], "grid_worker");
        assert_eq!(me["roles"][0]["scope"]["area_code"], "420102003001001");

        let (status, _) = app.post("/api/v1/auth/logout", &token, json!({})).await;
        assert_eq!(status, 200);
        let (status, body) = app.get("/api/v1/me", &token).await;
        assert_error(status, &body, 401, "unauthorized");
    }

    async fn wrong_password_and_unknown_user_look_alike(app: TestApp) {
        app.user("li.na", Role::Volunteer, Some("420102003001")).await;
        let (s1, b1) = status_json(app.login_raw("li.na", "wrong-password").await).await;
        let (s2, b2) = status_json(app.login_raw("nobody.here", "wrong-password").await).await;
        assert_error(s1, &b1, 401, "invalid_credentials");
        assert_error(s2, &b2, 401, "invalid_credentials");
        assert_eq!(b1["message"], b2["message"]);
    }

    async fn tokens_are_stored_only_as_hashes(app: TestApp) {
        app.user("hash.check", Role::Resident, Some("420100")).await;
        let token = app.login("hash.check").await;
        let stored: Vec<String> = app
            .db
            .run(|conn| {
                use diesel::prelude::*;
                use gridwork::db::schema::sessions;
                Ok(sessions::table.select(sessions::token_hash).load(conn)?)
            })
            .await
            .unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0], token);
        assert!(!stored[0].contains(&token[3..]));
        assert_eq!(stored[0], gridwork::auth::token::hash(&token));
    }

    async fn passwords_are_stored_as_argon2id(app: TestApp) {
        let id = app.user("argon.check", Role::Resident, Some("420100")).await;
        let user = app.db.run(move |conn| Ok(gridwork::queries::users::by_id(conn, &id)?)).await.unwrap();
        assert!(user.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", user.password_hash);
        assert!(!user.password_hash.contains(PASSWORD));
    }

    async fn account_lockout_after_repeated_failures(app: TestApp) {
        app.user("target", Role::GridWorker, Some("420102003001001")).await;
        for i in 0..4 {
            let (s, b) = status_json(app.login_raw("target", "bad-password").await).await;
            assert_error(s, &b, 401, "invalid_credentials");
            let _ = i;
        }
        // The fifth failure trips the lock and says so.
        let res = app.login_raw("target", "bad-password").await;
        assert_eq!(res.status(), 429);
        let retry = res.headers().get("retry-after").unwrap().to_str().unwrap().parse::<u64>().unwrap();
        assert!(retry > 800 && retry <= 900, "retry-after {retry}");
        let (s, b) = status_json(res).await;
        assert_error(s, &b, 429, "login_locked");
        // Even the right password is refused while locked.
        let (s, b) = status_json(app.login_raw("target", PASSWORD).await).await;
        assert_error(s, &b, 429, "login_locked");
        // Other accounts from the same address still work (the per-address limit is higher).
        app.user("bystander", Role::Resident, Some("420100")).await;
        app.login("bystander").await;
    }

    async fn success_resets_the_account_counter(app: TestApp) {
        app.user("forgetful", Role::Resident, Some("420100")).await;
        for _ in 0..4 {
            assert_eq!(app.login_raw("forgetful", "bad-password").await.status(), 401);
        }
        app.login("forgetful").await;
        for _ in 0..4 {
            assert_eq!(app.login_raw("forgetful", "bad-password").await.status(), 401);
        }
        app.login("forgetful").await;
    }

    async fn revoke_all_sessions_signs_out_every_device(app: TestApp) {
        app.user("root", Role::Admin, None).await;
        let uid = app.user("lost.phone", Role::GridWorker, Some("420102003001001")).await;
        let phone = app.login("lost.phone").await;
        let tablet = app.login("lost.phone").await;
        let admin = app.login("root").await;
        let (s, b) = app.post(&format!("/api/v1/users/{uid}/revoke-sessions"), &admin, json!({})).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["sessions_revoked"], 2);
        for t in [&phone, &tablet] {
            let (s, b) = app.get("/api/v1/me", t).await;
            assert_error(s, &b, 401, "unauthorized");
        }
        // The admin's own session is untouched, and the user can sign in again.
        assert_eq!(app.get("/api/v1/me", &admin).await.0, 200);
        app.login("lost.phone").await;
    }

    async fn changing_password_needs_the_old_one_and_ends_sessions(app: TestApp) {
        app.user("changer", Role::Volunteer, Some("420102003001")).await;
        let other_device = app.login("changer").await;
        let token = app.login("changer").await;
        let (s, b) = app.post("/api/v1/me/password", &token, json!({"current_password": "nope", "new_password": "a-new-password"})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["current_password"]["code"], "wrong_password");
        let (s, b) = app.post("/api/v1/me/password", &token, json!({"current_password": PASSWORD, "new_password": "short"})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["new_password"]["code"], "too_short");
        let (s, b) = app.post("/api/v1/me/password", &token, json!({"current_password": PASSWORD, "new_password": "a-new-password"})).await;
        assert_eq!(s, 200);
        assert_eq!(b["sessions_revoked"], 1, "{b}");
        // Other devices are signed out; the device that changed it stays signed in (as the README says).
        assert_eq!(app.get("/api/v1/me", &other_device).await.0, 401);
        assert_eq!(app.get("/api/v1/me", &token).await.0, 200);
        assert_eq!(app.login_raw("changer", "a-new-password").await.status(), 200);
        assert_eq!(app.login_raw("changer", PASSWORD).await.status(), 401);
    }

    async fn disabled_accounts_cannot_sign_in(app: TestApp) {
        app.user("boss", Role::Admin, None).await;
        let uid = app.user("leaver", Role::GridWorker, Some("420102003001001")).await;
        let leaver = app.login("leaver").await;
        let admin = app.login("boss").await;
        let req = app.client.patch(app.url(&format!("/api/v1/users/{uid}"))).bearer_auth(&admin).json(&json!({"is_active": false}));
        let (s, b) = app.send(req).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(app.get("/api/v1/me", &leaver).await.0, 401);
        // The right password answers exactly as a wrong one: no oracle for guessers.
        let (s, right) = status_json(app.login_raw("leaver", PASSWORD).await).await;
        assert_error(s, &right, 401, "invalid_credentials");
        let (s, wrong) = status_json(app.login_raw("leaver", "bad-password").await).await;
        assert_error(s, &wrong, 401, "invalid_credentials");
        assert_eq!(right["message"], wrong["message"]);
    }

    async fn bad_authorization_headers_are_401(app: TestApp) {
        for header in ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer gw_notarealtoken"] {
            let req = app.client.get(app.url("/api/v1/me")).header("authorization", header);
            let (s, b) = app.send(req).await;
            assert_error(s, &b, 401, "unauthorized");
        }
        let (s, b) = app.send(app.client.get(app.url("/api/v1/me"))).await;
        assert_error(s, &b, 401, "unauthorized");
    }

    async fn expired_sessions_are_refused(app: TestApp) {
        app.user("shortlived", Role::Resident, Some("420100")).await;
        let token = app.login("shortlived").await;
        assert_eq!(app.get("/api/v1/me", &token).await.0, 200);
        // Age the session instead of sleeping: move its expiry into the past.
        app.db
            .run(|conn| {
                use diesel::prelude::*;
                use gridwork::db::schema::sessions;
                let past = gridwork::models::now() - chrono::Duration::seconds(1);
                diesel::update(sessions::table).set(sessions::expires_at.eq(past)).execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        // A hand edit is heard like any change made elsewhere: the triggers of migration 27 move
        // the generation (and NOTIFY on PostgreSQL), and the cached session is dropped.
        let start = std::time::Instant::now();
        loop {
            let (s, b) = app.get("/api/v1/me", &token).await;
            if s == 401 {
                assert_error(s, &b, 401, "unauthorized");
                break;
            }
            assert!(start.elapsed() < std::time::Duration::from_millis(2500), "still served: {s} {b}");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

per_backend! {
    async fn a_cached_session_ends_at_its_expiry(backend) {
        let Some(app) = TestApp::spawn_with(backend, |s| s.session_ttl = chrono::Duration::seconds(2)).await else { return };
        app.user("brief", Role::Resident, Some("420100")).await;
        let token = app.login("brief").await;
        let signed_in = std::time::Instant::now();
        // Served from memory from the second request on; the expiry it was read with still holds.
        for _ in 0..3 {
            assert_eq!(app.get("/api/v1/me", &token).await.0, 200);
        }
        tokio::time::sleep(std::time::Duration::from_secs(2).saturating_sub(signed_in.elapsed()) + std::time::Duration::from_millis(50)).await;
        let (s, b) = app.get("/api/v1/me", &token).await;
        assert_error(s, &b, 401, "unauthorized");
    }
}

/// The configured TTL is what the login answer carries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ttl_is_configurable() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.session_ttl = chrono::Duration::hours(2)).await.unwrap();
    app.user("ttl", Role::Resident, Some("420100")).await;
    let (_, body) = status_json(app.login_raw("ttl", PASSWORD).await).await;
    let expires: chrono::DateTime<chrono::Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(119) && left <= chrono::Duration::hours(2), "{left}");
}

/// Many accounts tried from one address: the address is locked, for every account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn address_lockout_covers_every_account() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.throttle.max_failures_per_ip = 3).await.unwrap();
    app.user("real.user", Role::Resident, Some("420100")).await;
    for name in ["guess.one", "guess.two"] {
        let (s, b) = status_json(app.login_raw(name, "bad-password").await).await;
        assert_error(s, &b, 401, "invalid_credentials");
    }
    let (s, b) = status_json(app.login_raw("guess.three", "bad-password").await).await;
    assert_error(s, &b, 429, "login_locked");
    let (s, b) = status_json(app.login_raw("real.user", PASSWORD).await).await;
    assert_error(s, &b, 429, "login_locked");
}
