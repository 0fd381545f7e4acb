//! The category catalog: shipped default, CSV export/import round trip, row-level errors.

use gridwork_mobile_core::Role;
use gridwork_tests::{assert_error, both_backends, status_json};

both_backends! {
    async fn default_catalog_exports_and_reimports_unchanged(app: TestApp) {
        app.user("root", Role::Admin, None).await;
        let token = app.login("root").await;
        let (s, b) = app.get("/api/v1/categories", &token).await;
        assert_eq!(s, 200, "{b}");
        let cats = b["categories"].as_array().unwrap();
        assert!(cats.len() >= 20);
        let manhole = cats.iter().find(|c| c["code"] == "C-01-01").unwrap();
        assert_eq!(manhole["handler_kind"], "department");
        assert_eq!(manhole["deadlines"]["handle"]["critical"], 120);
        let csv = app.client.get(app.url("/api/v1/categories.csv")).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
        assert!(csv.starts_with("family,major_code"));
        let post = |body: String| app.client.post(app.url("/api/v1/categories/import")).bearer_auth(&token).header("content-type", "text/csv").body(body);
        let (s, r) = status_json(post(csv.clone()).send().await.unwrap()).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["created"].as_u64(), r["updated"].as_u64()), (Some(0), Some(0)));
        assert_eq!(r["unchanged"].as_u64(), Some(cats.len() as u64));
        // Change one deadline, add one class.
        let edited = csv.replacen("1440/480/240/120", "1440/480/240/60", 1)
            + "event,06,其他,02,井盖异响,general,grid_worker,,false,30,240/120/60/30,240/120/60/30,4320/1440/480/240,2880/1440/720/240,true\n";
        let (s, r) = status_json(post(edited).send().await.unwrap()).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["created"].as_u64(), r["updated"].as_u64()), (Some(1), Some(1)));
        // A bad file: every bad row named, nothing written.
        let bad = csv.lines().next().unwrap().to_owned()
            + "\nevent,06,其他,03,x,urgent,grid_worker,,false,30,240/120/60/30,240/120/60/30,4320/1440/480/240,2880/1440/720/240,true"
            + "\nevent,06,其他,04,y,general,grid_worker,,false,30,1/120/60/30,240/120/60/30,4320/1440/480/240,2880/1440/720/240,true\n";
        let (s, b) = status_json(post(bad).send().await.unwrap()).await;
        assert_error(s, &b, 422, "validation_failed");
        let rows: Vec<(u64, &str)> = b["details"].as_array().unwrap().iter().map(|r| (r["row"].as_u64().unwrap(), r["code"].as_str().unwrap())).collect();
        assert_eq!(rows, [(1, "invalid_grade"), (2, "deadline_order")]);
        let (_, after) = app.get("/api/v1/categories", &token).await;
        assert_eq!(after["categories"].as_array().unwrap().len(), cats.len() + 1);
        // Only administrators import.
        app.user("coord", Role::Coordinator, Some("420102003")).await;
        let coord = app.login("coord").await;
        let req = app.client.post(app.url("/api/v1/categories/import")).bearer_auth(&coord).body(csv);
        let (s, b) = app.send(req).await;
        assert_error(s, &b, 403, "forbidden");
    }
}
