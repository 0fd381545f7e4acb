//! Role grants carry scopes, and every check asks "is this inside the caller's area".

use gridwork_mobile_core::Role;
use gridwork_tests::{assert_error, both_backends};
use serde_json::json;

const STREET: &str = "420102003";

both_backends! {
    async fn admins_grant_and_revoke_scoped_roles(app: TestApp) {
        app.user("root", Role::Admin, None).await;
        let uid = app.user("newbie", Role::Resident, Some("420100")).await;
        let admin = app.login("root").await;
        let path = format!("/api/v1/users/{uid}/roles");
        let (s, g) = app.post(&path, &admin, json!({"role": "coordinator", "scope": STREET})).await;
        assert_eq!(s, 201, "{g}");
        assert_eq!(g["role"], "coordinator");
        assert_eq!(g["scope"]["area_code"], STREET);
        // Granting it again is idempotent: same assignment back.
        let (s, again) = app.post(&path, &admin, json!({"role": "coordinator", "scope": STREET})).await;
        assert_eq!(s, 201);
        assert_eq!(again["id"], g["id"]);

        let newbie = app.login("newbie").await;
        let (_, me) = app.get("/api/v1/me", &newbie).await;
        let roles: Vec<&str> = me["roles"].as_array().unwrap().iter().map(|r| r["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["resident", "coordinator"]);

        let req = app.client.delete(app.url(&format!("{path}/{}", g["id"].as_str().unwrap()))).bearer_auth(&admin);
        let (s, b) = app.send(req).await;
        assert_eq!(s, 200, "{b}");
        let (_, me) = app.get("/api/v1/me", &newbie).await;
        assert_eq!(me["roles"].as_array().unwrap().len(), 1);

        // Every change is in the audit log, with who did it.
        let id = uid.clone();
        let log = app.db.run(move |conn| Ok(gridwork::queries::audit::for_subject(conn, &id)?)).await.unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["user.create", "role.grant", "role.grant", "role.revoke"]);
        assert!(log[2].actor_id.is_some());
    }

    async fn grants_are_checked(app: TestApp) {
        app.user("root", Role::Admin, None).await;
        let uid = app.user("someone", Role::Resident, Some("420100")).await;
        let admin = app.login("root").await;
        let path = format!("/api/v1/users/{uid}/roles");
        let cases = [
            (json!({"role": "mayor", "scope": STREET}), "role", "invalid_role"),
            (json!({"role": "coordinator"}), "scope", "scope_required"),
            (json!({"role": "coordinator", "scope": "bad code!"}), "scope", "invalid_format"),
            (json!({"role": "dept_handler", "scope": STREET}), "department", "department_required"),
            (json!({"role": "dept_handler", "scope": STREET, "department": "nope"}), "department", "unknown_department"),
            (json!({"role": "grid_worker", "scope": STREET, "department": "water"}), "department", "department_not_allowed"),
        ];
        for (body, field, code) in cases {
            let (s, b) = app.post(&path, &admin, body.clone()).await;
            assert_error(s, &b, 422, "validation_failed");
            assert_eq!(b["fields"][field]["code"], code, "{body} gave {b}");
        }
        let (s, d) = app.post("/api/v1/departments", &admin, json!({"code": "water-420102", "name": "江岸区水务局", "area_code": "420102"})).await;
        assert_eq!(s, 201, "{d}");
        let (s, g) = app.post(&path, &admin, json!({"role": "dept_handler", "scope": "420102", "department": "water-420102"})).await;
        assert_eq!(s, 201, "{g}");
        assert_eq!(g["department"], "water-420102");
    }

    async fn only_admins_over_the_scope_may_grant(app: TestApp) {
        app.user("street.admin", Role::Admin, Some(STREET)).await;
        app.user("coord", Role::Coordinator, Some(STREET)).await;
        let uid = app.user("target", Role::Resident, Some("420100")).await;
        let path = format!("/api/v1/users/{uid}/roles");
        let coord = app.login("coord").await;
        let (s, b) = app.post(&path, &coord, json!({"role": "grid_worker", "scope": STREET})).await;
        assert_error(s, &b, 403, "forbidden");
        let street_admin = app.login("street.admin").await;
        let (s, _) = app.post(&path, &street_admin, json!({"role": "volunteer", "scope": STREET})).await;
        assert_eq!(s, 201);
        // Outside its street, or system-wide: refused.
        let (s, b) = app.post(&path, &street_admin, json!({"role": "volunteer", "scope": "420102004"})).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post(&path, &street_admin, json!({"role": "admin"})).await;
        assert_error(s, &b, 403, "forbidden");
    }

    async fn the_last_admin_cannot_be_removed(app: TestApp) {
        let uid = app.user("only.admin", Role::Admin, None).await;
        let admin = app.login("only.admin").await;
        let (_, me) = app.get("/api/v1/me", &admin).await;
        let grant = me["roles"][0]["id"].as_str().unwrap().to_owned();
        let req = app.client.delete(app.url(&format!("/api/v1/users/{uid}/roles/{grant}"))).bearer_auth(&admin);
        let (s, b) = app.send(req).await;
        assert_error(s, &b, 409, "conflict");
    }

    async fn user_listings_are_scoped_and_phones_stay_private(app: TestApp) {
        app.user("coord", Role::Coordinator, Some(STREET)).await;
        app.user("mate", Role::Volunteer, Some(STREET)).await;
        app.user("stranger", Role::Volunteer, Some("420102004")).await;
        app.user("worker", Role::GridWorker, Some("420102003001001")).await;
        let coord = app.login("coord").await;
        let (s, b) = app.get("/api/v1/users", &coord).await;
        assert_eq!(s, 200, "{b}");
        let names: Vec<&str> = b["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert!(names.contains(&"mate") && names.contains(&"coord"), "{names:?}");
        assert!(!names.contains(&"stranger"), "{names:?}");
        // Managers see a phone number one person at a time (each read audited), never in a list;
        // outsiders are not even found.
        assert!(b["users"].as_array().unwrap().iter().all(|u| u.get("phone").is_none()), "{b}");
        let (s, mate) = app.get("/api/v1/users/mate", &coord).await;
        assert_eq!((s, mate["phone"].is_string()), (200, true), "{mate}");
        let (s, b) = app.get("/api/v1/users/stranger", &coord).await;
        assert_error(s, &b, 404, "not_found");
        // Field roles may not list people at all.
        let worker = app.login("worker").await;
        let (s, b) = app.get("/api/v1/users", &worker).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.get("/api/v1/users/mate", &worker).await;
        assert_error(s, &b, 403, "forbidden");
    }
}
