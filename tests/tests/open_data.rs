//! Open data on both backends: nothing is public until an administrator over an area publishes
//! it; then its events are public as CSV and GeoJSON, anonymised (no people, no free text, the
//! place coarsened to an H3 cell, no grid or building) and only for that area and period.

use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, assert_error, both_backends};
use serde_json::{Value, json};

/// Inside demo grid 420102003001001 (district 420102).
const IN: (f64, f64) = (30.5825, 114.2740);
/// Inside district 420103.
const OUT: (f64, f64) = (30.5825, 114.3040);

async fn public(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, kind, res.text().await.unwrap())
}

both_backends! {
    async fn published_events_are_public_and_anonymous(app: TestApp) {
        let crew = app.street_crew().await;
        app.user("d.admin", Role::Admin, Some("420102")).await;
        let d_admin = app.login("d.admin").await;
        let words = "张三 13912345678 家门口的井盖坏了";
        for (key, at) in [("o1", IN), ("o2", OUT)] {
            let body = json!({"category": "C-03-01", "lat": at.0, "lng": at.1, "description": words, "address": "解放大道 1 号"});
            let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&crew.chen).header("Idempotency-Key", key).json(&body);
            assert_eq!(app.send(req).await.0, 201);
        }
        // Nothing is public before it is published.
        let (s, _, body) = public(&app, "/api/v1/open-data/events.csv?area=420102").await;
        assert_eq!(s, 404, "{body}");
        assert_eq!(public(&app, "/api/v1/open-data/categories.csv").await.0, 404);
        let (s, _, body) = public(&app, "/api/v1/open-data/areas").await;
        assert_eq!((s, serde_json::from_str::<Value>(&body).unwrap()["areas"].clone()), (200, json!([])));
        // Only administrators over the area publish it.
        let (s, b) = app.put("/api/v1/open-data/areas/420102", &crew.coord, json!({})).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.put("/api/v1/open-data/areas/420103", &d_admin, json!({})).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.put("/api/v1/open-data/areas/420102", &d_admin, json!({})).await;
        assert_eq!((s, b["areas"][0]["code"].as_str()), (200, Some("420102")), "{b}");

        // Public now: that area (and what lies inside it), anonymised.
        let (s, kind, csv) = public(&app, "/api/v1/open-data/events.csv?area=420102003").await;
        assert_eq!((s, kind.starts_with("text/csv")), (200, true), "{csv}");
        let mut rows = csv::Reader::from_reader(csv.as_bytes());
        let headers = rows.headers().unwrap().clone();
        let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 1, "{csv}");
        let field = |name: &str| records[0].get(headers.iter().position(|h| h == name).unwrap()).unwrap().to_owned();
        assert_eq!((field("category").as_str(), field("street").as_str()), ("C-03-01", "420102003"));
        let cell: h3o::CellIndex = field("cell").parse().unwrap();
        assert_eq!(cell.resolution(), h3o::Resolution::Nine);
        assert_eq!(cell, h3o::LatLng::new(IN.0, IN.1).unwrap().to_cell(h3o::Resolution::Nine));
        let (lat, lng): (f64, f64) = (field("cell_lat").parse().unwrap(), field("cell_lng").parse().unwrap());
        assert!((lat, lng) != IN, "the point is coarsened");
        for secret in ["张三", "13912345678", "井盖坏了", "解放大道", "420102003001001", &app.id_of("chen").await] {
            assert!(!csv.contains(secret), "{secret} in {csv}");
        }
        let (s, kind, geo) = public(&app, "/api/v1/open-data/events.geojson?area=420102").await;
        assert_eq!((s, kind.as_str()), (200, "application/geo+json"));
        let geo: Value = serde_json::from_str(&geo).unwrap();
        assert_eq!(geo["type"], "FeatureCollection");
        let f = &geo["features"][0];
        assert_eq!((f["geometry"]["coordinates"][0].as_f64(), f["geometry"]["coordinates"][1].as_f64()), (Some(lng), Some(lat)));
        assert_eq!(f["properties"]["cell"], cell.to_string());
        assert!(!geo.to_string().contains("张三"));
        assert_eq!(public(&app, "/api/v1/open-data/categories.csv").await.0, 200);

        // Not the other district; periods are bounded.
        assert_eq!(public(&app, "/api/v1/open-data/events.csv?area=420103").await.0, 404);
        assert_eq!(public(&app, "/api/v1/open-data/events.csv?area=420100").await.0, 404, "not the whole city");
        let (s, _, body) = public(&app, "/api/v1/open-data/events.csv?area=420102&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z").await;
        assert_eq!(s, 422, "{body}");
        let (s, _, body) = public(&app, "/api/v1/open-data/events.csv?area=420102&from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z").await;
        assert_eq!((s, body.lines().count()), (200, 1), "only the header: {body}");

        // Withdrawn: private again.
        let res = app.client.delete(app.url("/api/v1/open-data/areas/420102")).bearer_auth(&d_admin).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(public(&app, "/api/v1/open-data/events.geojson?area=420102").await.0, 404);
    }
}
