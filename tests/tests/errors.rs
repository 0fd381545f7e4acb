//! Every kind of bad input gets a 4xx in the one error shape — never a 500, never a panic.

use gridwork_mobile_core::Role;
use gridwork_tests::{assert_error, both_backends};
use serde_json::json;

both_backends! {
    async fn malformed_and_mistyped_bodies(app: TestApp) {
        let login = app.url("/api/v1/auth/login");
        // (body, status, error code, field and its code)
        type Case<'a> = (&'a str, u16, &'a str, Option<(&'a str, &'a str)>);
        let cases: Vec<Case> = vec![
            ("{\"username\": ", 400, "invalid_json", None),
            ("not json at all", 400, "invalid_json", None),
            ("", 400, "invalid_json", None),
            ("{\"username\": 42, \"password\": \"x\"}", 422, "validation_failed", Some(("username", "invalid_type"))),
            ("{\"password\": \"x\"}", 422, "validation_failed", Some(("username", "required"))),
            ("{\"username\": \"a\", \"password\": \"x\", \"admin\": true}", 422, "validation_failed", Some(("admin", "unknown_field"))),
            ("[1, 2]", 422, "validation_failed", Some(("body", "invalid_type"))),
            ("{\"username\": \"\", \"password\": \"x\"}", 422, "validation_failed", Some(("username", "length"))),
        ];
        for (body, status, code, field) in cases {
            let req = app.client.post(&login).header("content-type", "application/json").body(body);
            let (s, b) = app.send(req).await;
            assert_error(s, &b, status, code);
            if let Some((name, fcode)) = field {
                assert_eq!(b["fields"][name]["code"], fcode, "body {body:?} gave {b}");
            }
        }
    }

    async fn wrong_content_type_and_oversized_bodies(app: TestApp) {
        let login = app.url("/api/v1/auth/login");
        let req = app.client.post(&login).header("content-type", "text/plain").body("{}");
        let (s, b) = app.send(req).await;
        assert_error(s, &b, 415, "unsupported_media_type");
        let req = app.client.post(&login).body("{}");
        let (s, b) = app.send(req).await;
        assert_error(s, &b, 415, "unsupported_media_type");
        let huge = format!("{{\"username\": \"{}\", \"password\": \"x\"}}", "a".repeat(400 * 1024));
        let req = app.client.post(&login).header("content-type", "application/json").body(huge);
        let (s, b) = app.send(req).await;
        assert_error(s, &b, 413, "payload_too_large");
    }

    async fn unknown_routes_and_methods(app: TestApp) {
        let (s, b) = app.send(app.client.get(app.url("/api/v1/nothing-here"))).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.send(app.client.get(app.url("/nothing-here"))).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.send(app.client.get(app.url("/console/no-such-file.js"))).await;
        assert_error(s, &b, 404, "not_found");
        // The root is the console's door; the console is served with its CSP.
        let page = app.client.get(app.url("/")).send().await.unwrap();
        assert_eq!(page.url().path(), "/console/");
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
        let (s, b) = app.send(app.client.delete(app.url("/healthz"))).await;
        assert_error(s, &b, 405, "method_not_allowed");
        let (s, b) = app.send(app.client.get(app.url("/api/v1/auth/login"))).await;
        assert_error(s, &b, 405, "method_not_allowed");
    }

    async fn bad_query_strings_and_fields(app: TestApp) {
        app.user("qadmin", Role::Admin, None).await;
        let token = app.login("qadmin").await;
        let (s, b) = app.get("/api/v1/users?limit=lots", &token).await;
        assert_error(s, &b, 400, "invalid_query");
        let (s, b) = app.get("/api/v1/users?limit=0", &token).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["limit"]["code"], "out_of_range");
        let (s, b) = app.get("/api/v1/users/no-such-user", &token).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.post("/api/v1/users", &token, json!({"username": "ok.name", "display_name": "x", "password": "short"})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["password"]["code"], "too_short");
        let (s, b) = app.post("/api/v1/users", &token, json!({"username": "bad name!", "display_name": "x", "password": "long-enough-pw"})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["username"]["code"], "invalid_format");
        let (s, b) = app.post("/api/v1/users", &token, json!({"username": "dup.name", "display_name": "x", "password": "long-enough-pw"})).await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = app.post("/api/v1/users", &token, json!({"username": "DUP.name", "display_name": "y", "password": "long-enough-pw"})).await;
        assert_error(s, &b, 409, "conflict");
        assert_eq!(b["fields"]["username"]["code"], "taken");
    }

    async fn request_ids_are_echoed_and_made(app: TestApp) {
        let res = app.client.get(app.url("/healthz")).header("x-request-id", "trace-abc_123").send().await.unwrap();
        assert_eq!(res.headers()["x-request-id"], "trace-abc_123");
        // A hostile id is replaced, not echoed.
        let res = app.client.get(app.url("/healthz")).header("x-request-id", "<script>").send().await.unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id, "<script>");
        assert_eq!(id.len(), 36);
        let res = app.client.get(app.url("/nope")).send().await.unwrap();
        let header = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["request_id"], header);
    }
}
