//! The area map with real boundary data: imports with mapping options, every defect reported,
//! and lookups checked against an independent containment computation.

use geo::{Contains, InteriorPoint, MultiPolygon, Point};
use gridwork::areas::AreaIndex;
use gridwork_mobile_core::Role;
use gridwork_mobile_core::domain::crs::Crs;
use gridwork_tests::{Rng, TestApp, assert_error, both_backends, boundary_data};
use serde_json::{Value, json};

const HZ: &str = "hangzhou_xiacheng";

/// (code, geometry) of every feature in a file, parts merged by code.
fn load(rel: &str, code_prop: &str) -> Vec<(String, MultiPolygon<f64>)> {
    let text = std::fs::read_to_string(boundary_data(rel)).unwrap();
    let fc: geojson::FeatureCollection = text.parse().unwrap();
    let mut out: Vec<(String, MultiPolygon<f64>)> = Vec::new();
    for f in fc.features {
        let code = match f.property(code_prop).unwrap() {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let g: geo::Geometry<f64> = f.geometry.unwrap().try_into().unwrap();
        let polys = match g {
            geo::Geometry::Polygon(p) => vec![p],
            geo::Geometry::MultiPolygon(m) => m.0,
            _ => panic!("unexpected geometry"),
        };
        match out.iter_mut().find(|(c, _)| *c == code) {
            Some((_, m)) => m.0.extend(polys),
            None => out.push((code, MultiPolygon(polys))),
        }
    }
    out
}

async fn admin(app: &TestApp) -> String {
    app.user("root", Role::Admin, None).await;
    app.login("root").await
}

async fn import_hangzhou(app: &TestApp, token: &str) {
    let steps = [
        ("xiacheng_district_wgs84.geojson", "code_prop=adcode&level=district"),
        (
            "xiacheng_streets_wgs84.geojson",
            "code_prop=street_code&name_prop=street_name&level=street&parent_code=330103",
        ),
        (
            "xiacheng_communities_wgs84.geojson",
            "code_prop=community_code&name_prop=community_name&level=community&parent_prop=parent",
        ),
        ("xiacheng_grids_wgs84.geojson", "code_prop=grid_code&name_prop=grid_org_name&level=grid&parent_prop=parent"),
    ];
    for (file, query) in steps {
        let (s, r) = app.import(token, &boundary_data(&format!("{HZ}/{file}")), query).await;
        assert_eq!(s, 200, "{file}: {r}");
        assert!(r["applied"].as_bool().unwrap());
        assert_eq!(r["created"], r["areas"], "{file}");
    }
}

async fn index_of(app: &TestApp) -> AreaIndex {
    app.db
        .run(|conn| {
            gridwork::areas::store::build_index(conn).map_err(|e| gridwork::error::ApiError::internal(e.to_string()))
        })
        .await
        .unwrap()
}

/// Points `offset_m` either side of sampled boundary edges of `areas`.
fn near_boundaries(areas: &[(String, MultiPolygon<f64>)], offset_m: f64, every: usize) -> Vec<(f64, f64)> {
    let mut pts = Vec::new();
    for (_, g) in areas {
        for poly in &g.0 {
            for (i, line) in poly.exterior().lines().enumerate() {
                if i % every != 0 {
                    continue;
                }
                let (mx, my) = ((line.start.x + line.end.x) / 2.0, (line.start.y + line.end.y) / 2.0);
                let kx = 111_320.0 * my.to_radians().cos();
                let ky = 110_574.0;
                let (dx, dy) = ((line.end.x - line.start.x) * kx, (line.end.y - line.start.y) * ky);
                let len = (dx * dx + dy * dy).sqrt();
                if len < 0.5 {
                    continue;
                }
                let (nx, ny) = (-dy / len * offset_m / kx, dx / len * offset_m / ky);
                pts.push((mx + nx, my + ny));
                pts.push((mx - nx, my - ny));
            }
        }
    }
    pts
}

both_backends! {
    async fn hangzhou_lookups_equal_plain_containment(app: TestApp) {
        let token = admin(&app).await;
        import_hangzhou(&app, &token).await;
        let district = load(&format!("{HZ}/xiacheng_district_wgs84.geojson"), "adcode");
        let streets = load(&format!("{HZ}/xiacheng_streets_wgs84.geojson"), "street_code");
        let communities = load(&format!("{HZ}/xiacheng_communities_wgs84.geojson"), "community_code");
        let grids = load(&format!("{HZ}/xiacheng_grids_wgs84.geojson"), "grid_code");
        let expected = |x: f64, y: f64| -> Option<String> {
            let p = Point::new(x, y);
            [&grids, &communities, &streets, &district]
                .iter()
                .find_map(|level| level.iter().find(|(_, g)| g.contains(&p)).map(|(c, _)| c.clone()))
        };
        let index = index_of(&app).await;
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut points: Vec<(f64, f64)> = (0..20_000).map(|_| (120.13 + rng.unit() * 0.10, 30.26 + rng.unit() * 0.09)).collect();
        let uniform = points.len();
        points.extend(near_boundaries(&grids, 3.0, 3));
        points.extend(near_boundaries(&grids, 0.05, 7));
        points.extend(near_boundaries(&communities, 0.05, 5));
        let mut inside = 0;
        for (i, &(x, y)) in points.iter().enumerate() {
            let got = index.lookup(x, y).last().map(|a| a.code.clone());
            assert_eq!(got, expected(x, y), "point #{i} ({x}, {y}) {}", if i < uniform { "uniform" } else { "near a boundary" });
            inside += usize::from(got.is_some());
        }
        assert!(points.len() > 25_000 && inside > 10_000, "{} points, {inside} inside", points.len());

        // The HTTP answer is the same index, with the whole chain.
        let (s, body) = app.get("/api/v1/areas/lookup?lat=30.2778&lng=120.1734", &token).await;
        assert_eq!(s, 200, "{body}");
        let chain: Vec<&str> = body["chain"].as_array().unwrap().iter().map(|a| a["level"].as_str().unwrap()).collect();
        let want = expected(120.1734, 30.2778).unwrap();
        assert_eq!(body["chain"].as_array().unwrap().last().unwrap()["code"], want.as_str());
        assert_eq!(chain, ["district", "street", "community", "grid"]);
        let (_, outside) = app.get("/api/v1/areas/lookup?lat=31.5&lng=121.0", &token).await;
        assert_eq!(outside["chain"], json!([]));
    }

    async fn reimporting_changes_nothing_and_edits_keep_history(app: TestApp) {
        let token = admin(&app).await;
        import_hangzhou(&app, &token).await;
        let file = boundary_data(&format!("{HZ}/xiacheng_grids_wgs84.geojson"));
        let q = "code_prop=grid_code&name_prop=grid_org_name&level=grid&parent_prop=parent";
        let (s, r) = app.import(&token, &file, q).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["created"].as_u64(), r["updated"].as_u64(), r["unchanged"].as_u64()), (Some(0), Some(0), Some(297)));
        // Rename one grid: one new version, the old one kept.
        let mut fc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let code = fc["features"][0]["properties"]["grid_code"].as_str().unwrap().to_owned();
        fc["features"][0]["properties"]["grid_org_name"] = json!("改名后的网格");
        let edited = app.test_db.dir.path().join("edited.geojson");
        std::fs::write(&edited, fc.to_string()).unwrap();
        let (s, r) = app.import(&token, &edited, q).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["updated"].as_u64(), r["unchanged"].as_u64()), (Some(1), Some(296)));
        let (s, area) = app.get(&format!("/api/v1/areas/{code}"), &token).await;
        assert_eq!(s, 200, "{area}");
        assert_eq!(area["name"], "改名后的网格");
        assert_eq!(area["versions"].as_array().unwrap().len(), 2);
        assert!(area["versions"][0]["valid_to"].is_string() && area["versions"][1]["valid_to"].is_null());
        assert_eq!(area["level"], "grid");
        assert_eq!(area["geometry"]["type"].as_str().map(|t| t.ends_with("Polygon")), Some(true));
        assert!(area["parent"]["code"].is_string());
        // The live index answers with the new name at once.
        let p = area["geometry"].clone();
        let g: geo::Geometry<f64> = geojson::Geometry::from_json_value(p).unwrap().try_into().unwrap();
        let ip = g.interior_point().unwrap();
        let (_, look) = app.get(&format!("/api/v1/areas/lookup?lat={}&lng={}", ip.y(), ip.x()), &token).await;
        assert_eq!(look["chain"].as_array().unwrap().last().unwrap()["name"], "改名后的网格");
    }

    async fn browsing_and_cells(app: TestApp) {
        let token = admin(&app).await;
        import_hangzhou(&app, &token).await;
        let (s, b) = app.get("/api/v1/areas?level=street", &token).await;
        assert_eq!(s, 200);
        assert_eq!(b["areas"].as_array().unwrap().len(), 8);
        let (_, b) = app.get("/api/v1/areas?parent=TS", &token).await;
        assert!(b["areas"].as_array().unwrap().iter().all(|a| a["level"] == "community" && a["code"].as_str().unwrap().starts_with("TS-")));
        // One level down with outlines, in one answer: the same children as the browse list.
        let listed: Vec<Value> = b["areas"].as_array().unwrap().iter().map(|a| a["code"].clone()).collect();
        let (s, o) = app.get("/api/v1/areas/TS/children", &token).await;
        assert_eq!(s, 200, "{o}");
        let outlined: Vec<Value> = o["areas"].as_array().unwrap().iter().map(|a| a["code"].clone()).collect();
        assert_eq!(listed.len(), outlined.len());
        assert!(listed.iter().all(|c| outlined.contains(c)));
        assert!(o["areas"].as_array().unwrap().iter().all(|a| a["geometry"]["type"].as_str().is_some_and(|t| t.ends_with("Polygon"))), "{o}");
        let (s, b) = app.get("/api/v1/areas/NOPE/children", &token).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.get("/api/v1/areas?parent=NOPE", &token).await;
        assert_error(s, &b, 404, "not_found");
        let (s, b) = app.get("/api/v1/areas?level=ward", &token).await;
        assert_error(s, &b, 422, "validation_failed");
        let (s, c) = app.get("/api/v1/areas/TS-3/cells", &token).await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["res"], 9);
        assert!(c["count"].as_u64().unwrap() >= 3, "{c}");
        let (s, c10) = app.get("/api/v1/areas/TS-3/cells?res=10", &token).await;
        assert_eq!(s, 200);
        assert!(c10["count"].as_u64().unwrap() > c["count"].as_u64().unwrap());
        let (s, b) = app.get("/api/v1/areas/330103/cells?res=15", &token).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["res"]["code"], "too_many_cells");
        let (s, b) = app.get("/api/v1/areas/TS-3/cells?res=16", &token).await;
        assert_error(s, &b, 422, "validation_failed");
        let (s, b) = app.get("/api/v1/areas/NOPE", &token).await;
        assert_error(s, &b, 404, "not_found");
    }

    async fn wuhan_defects_are_reported_and_repaired(app: TestApp) {
        let token = admin(&app).await;
        let file = boundary_data("wuhan/wuhan_districts_gcj02.geojson");
        let q = "code_prop=adcode&level=district&crs=gcj02";
        let (s, b) = app.import(&token, &file, q).await;
        assert_error(s, &b, 422, "validation_failed");
        let errors = b["details"]["errors"].as_array().unwrap();
        // The three known defects, each reported with where it is (in the file's GCJ-02).
        for (code, near) in [("420113", (113.9861, 30.3591)), ("420115", (114.2626, 30.4124)), ("420117", (114.9857, 30.9944))] {
            let mine: Vec<&Value> = errors.iter().filter(|e| e["code"] == code).collect();
            assert!(!mine.is_empty(), "{code} not reported: {errors:?}");
            let closest = mine
                .iter()
                .filter_map(|e| e["location"].as_array())
                .map(|l| gridwork_mobile_core::domain::crs::distance_m((l[0].as_f64().unwrap(), l[1].as_f64().unwrap()), near))
                .fold(f64::INFINITY, f64::min);
            assert!(closest < 8_000.0, "{code}: nearest reported location {closest} m from the known defect");
        }
        assert!(errors.iter().all(|e| ["420113", "420115", "420117"].contains(&e["code"].as_str().unwrap())), "{errors:?}");
        assert_eq!(app.get("/api/v1/areas?level=district", &token).await.1["areas"], json!([]), "nothing written");

        let (s, r) = app.import(&token, &file, &format!("{q}&repair=true")).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["repairs"].as_array().unwrap().len(), 3);
        assert_eq!(r["created"], 13);
        // The repairs agree with the independently repaired file.
        let reference = load("wuhan/wuhan_districts_gcj02_repaired.geojson", "adcode");
        for code in ["420113", "420115", "420117"] {
            let (_, area) = app.get(&format!("/api/v1/areas/{code}"), &token).await;
            let g = &reference.iter().find(|(c, _)| c == code).unwrap().1;
            let want = gridwork::areas::geometry::area_m2(&gridwork::areas::geometry::to_wgs84(g, Crs::Gcj02));
            let got = area["area_m2"].as_f64().unwrap();
            assert!((got - want).abs() / want < 0.005, "{code}: {got} m² vs reference {want} m²");
        }
        // A WGS-84 point in 江岸区, and the same place given in GCJ-02 and BD-09.
        let (lng, lat) = (114.2999, 30.6000);
        for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
            let (x, y) = crs.from_wgs84(lng, lat);
            let (s, b) = app.get(&format!("/api/v1/areas/lookup?lat={y}&lng={x}&crs={}", crs.as_str()), &token).await;
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["chain"][0]["code"], "420102", "{crs:?}: {b}");
            assert_eq!(b["chain"][0]["name"], "江岸区");
        }
    }

    async fn multi_part_grids_merge_and_the_broken_part_is_named(app: TestApp) {
        let token = admin(&app).await;
        import_hangzhou(&app, &token).await;
        let file = boundary_data(&format!("{HZ}/xiacheng_grids_parts_wgs84.geojson"));
        let q = "code_prop=grid_code&name_prop=grid_org_name&level=grid&parent_prop=parent";
        let (s, b) = app.import(&token, &file, q).await;
        assert_error(s, &b, 422, "validation_failed");
        let errors = b["details"]["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["code"], "SQ-1-6");
        assert_eq!(errors[0]["problem"], "self_intersection");
        let loc = errors[0]["location"].as_array().unwrap();
        let d = gridwork_mobile_core::domain::crs::distance_m((loc[0].as_f64().unwrap(), loc[1].as_f64().unwrap()), (120.1686, 30.3308));
        assert!(d < 1_000.0, "reported {d} m away");
        let (s, r) = app.import(&token, &file, &format!("{q}&repair=true")).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["features"].as_u64(), r["areas"].as_u64()), (Some(332), Some(297)));
        assert_eq!(r["repairs"].as_array().unwrap().len(), 1);
        // Re-cut into parts, most grids are unchanged; merged multi-part grids are the same area.
        let merged = load(&format!("{HZ}/xiacheng_grids_parts_wgs84.geojson"), "grid_code");
        let multi: Vec<&(String, MultiPolygon<f64>)> = merged.iter().filter(|(_, g)| g.0.len() > 1).collect();
        assert!(multi.len() >= 20, "{} multi-part codes", multi.len());
        let index = index_of(&app).await;
        for (code, g) in multi.iter().filter(|(c, _)| c != "SQ-1-6") {
            for poly in &g.0 {
                let p = poly.interior_point().unwrap();
                let got = index.lookup(p.x(), p.y()).last().map(|a| a.code.clone());
                assert_eq!(got.as_deref(), Some(code.as_str()), "a part of {code}");
            }
        }
    }

    async fn osm_buildings_resolve_to_themselves(app: TestApp) {
        let token = admin(&app).await;
        let file = boundary_data("wuhan/wuhan_guanggu_osm_buildings_wgs84.geojson");
        // Real OSM footprints overlap (building parts drawn twice): refused at the default
        // tolerance, accepted when the operator allows it.
        let (s, b) = app.import(&token, &file, "code_prop=osm_id&level=building").await;
        assert_error(s, &b, 422, "validation_failed");
        assert!(b["details"]["errors"].as_array().unwrap().iter().all(|e| e["problem"] == "sibling_overlap"));
        let (s, r) = app.import(&token, &file, "code_prop=osm_id&level=building&overlap_tolerance=1").await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["created"], 237);
        let buildings = load("wuhan/wuhan_guanggu_osm_buildings_wgs84.geojson", "osm_id");
        let index = index_of(&app).await;
        for (code, g) in &buildings {
            let p = g.interior_point().unwrap();
            let chain = index.lookup(p.x(), p.y());
            let got = chain.last().map(|a| a.code.clone()).unwrap();
            // Itself, or a footprint drawn over it that also contains the point.
            let holders: Vec<&String> = buildings.iter().filter(|(_, b)| b.contains(&p)).map(|(c, _)| c).collect();
            assert!(holders.contains(&&got) && holders.contains(&code), "{code}: got {got}, holders {holders:?}");
            // 2 m outside a footprint's first vertex, diagonally away from its centre: not in it.
            let c = geo::Centroid::centroid(g).unwrap();
            let v = g.0[0].exterior().0[0];
            let (dx, dy) = (v.x - c.x(), v.y - c.y());
            let n = (dx * dx + dy * dy).sqrt();
            let out = (v.x + dx / n * 2.0 / 96_000.0, v.y + dy / n * 2.0 / 111_000.0);
            let here = index.lookup(out.0, out.1).last().map(|a| a.code.clone());
            let truth: Vec<String> = buildings.iter().filter(|(_, b)| b.contains(&Point::new(out.0, out.1))).map(|(c, _)| c.clone()).collect();
            match here {
                None => assert!(truth.is_empty(), "{code}: missed {truth:?}"),
                Some(h) => assert!(truth.contains(&h), "{code}: {h} does not contain the point"),
            }
        }
    }

    async fn bad_files_and_hierarchies_are_refused_whole(app: TestApp) {
        let token = admin(&app).await;
        let sq = |x0: f64, y0: f64, x1: f64, y1: f64| json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]});
        let feat = |code: &str, level: &str, parent: Option<&str>, g: Value| json!({"type": "Feature", "properties": {"code": code, "name": code, "level": level, "parent_code": parent}, "geometry": g});
        let base = json!({"type": "FeatureCollection", "features": [
            feat("D1", "district", None, sq(120.0, 30.0, 120.1, 30.1)),
            feat("S1", "street", Some("D1"), sq(120.0, 30.0, 120.05, 30.1)),
        ]});
        let post = |body: Value| {
            let req = app.client.post(app.url("/api/v1/areas/import")).bearer_auth(&token).json(&body);
            app.send(req)
        };
        let (s, r) = post(base).await;
        assert_eq!(s, 200, "{r}");
        let bad = json!({"type": "FeatureCollection", "features": [
            feat("S2", "street", Some("D1"), sq(120.05, 30.0, 120.1, 30.1)),
            feat("S3", "street", Some("NOPE"), sq(120.0, 30.0, 120.01, 30.01)),
            feat("C1", "community", Some("D1"), sq(120.0, 30.0, 120.01, 30.01)),
            feat("S4", "street", Some("D1"), sq(120.1, 30.0, 120.2, 30.1)),
            feat("S5", "street", Some("D1"), sq(120.01, 30.01, 120.04, 30.09)),
            feat("S6", "street", Some("D1"), sq(200.0, 30.0, 201.0, 30.1)),
            feat("S7", "street", Some("D1"), json!({"type": "LineString", "coordinates": [[120.0, 30.0], [120.1, 30.1]]})),
            json!({"type": "Feature", "properties": {"name": "no code"}, "geometry": sq(120.0, 30.0, 120.01, 30.01)}),
            feat("S8", "hamlet", Some("D1"), sq(120.0, 30.0, 120.01, 30.01)),
        ]});
        let (s, b) = post(bad).await;
        assert_error(s, &b, 422, "validation_failed");
        let problems: Vec<(Option<&str>, &str)> = b["details"]["errors"].as_array().unwrap().iter().map(|e| (e["code"].as_str(), e["problem"].as_str().unwrap())).collect();
        for want in [
            (Some("S3"), "unknown_parent"),
            (Some("C1"), "wrong_parent_level"),
            (Some("S4"), "outside_parent"),
            (Some("S5"), "sibling_overlap"),
            (Some("S6"), "coordinate_out_of_range"),
            (Some("S7"), "unsupported_geometry"),
            (None, "missing_code"),
            (Some("S8"), "invalid_level"),
        ] {
            assert!(problems.contains(&want), "{want:?} not in {problems:?}");
        }
        assert!(!problems.iter().any(|(c, _)| *c == Some("S2")), "S2 is fine: {problems:?}");
        // All or nothing: the valid S2 was not written either.
        let (_, list) = app.get("/api/v1/areas?level=street", &token).await;
        assert_eq!(list["areas"].as_array().unwrap().len(), 1);
        // A looser tolerance lets the 20%-outside street through; still nothing else.
        let (s, b) = post(json!({"type": "Point", "coordinates": [1, 2]})).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["file"]["code"], "invalid_geojson");
        let req = app.client.post(app.url("/api/v1/areas/import?containment_tolerance=2")).bearer_auth(&token).json(&json!({}));
        let (s, b) = app.send(req).await;
        assert_error(s, &b, 422, "validation_failed");
        assert_eq!(b["fields"]["containment_tolerance"]["code"], "out_of_range");
    }

    async fn imports_need_a_system_admin_and_scopes_follow_the_tree(app: TestApp) {
        let token = admin(&app).await;
        import_hangzhou(&app, &token).await;
        app.user("street.admin", Role::Admin, Some("TS")).await;
        let street_admin = app.login("street.admin").await;
        let file = boundary_data(&format!("{HZ}/xiacheng_district_wgs84.geojson"));
        let (s, b) = app.import(&street_admin, &file, "code_prop=adcode&level=district").await;
        assert_error(s, &b, 403, "forbidden");
        // A coordinator of street TS now sees the grid worker of grid TS-3-3 (inside TS), not one elsewhere.
        app.user("ts.coord", Role::Coordinator, Some("TS")).await;
        app.user("ts.worker", Role::GridWorker, Some("TS-3-3")).await;
        app.user("wh.worker", Role::GridWorker, Some("WH-1-3")).await;
        let coord = app.login("ts.coord").await;
        let (_, b) = app.get("/api/v1/users", &coord).await;
        let names: Vec<&str> = b["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
        assert!(names.contains(&"ts.worker") && !names.contains(&"wh.worker"), "{names:?}");
        // The street admin may grant within its street, not outside it, and only to people of its street.
        let (_, ts) = app.get("/api/v1/users/ts.worker", &token).await;
        let ts = ts["id"].as_str().unwrap();
        let (s, _) = app.post(&format!("/api/v1/users/{ts}/roles"), &street_admin, json!({"role": "volunteer", "scope": "TS-3"})).await;
        assert_eq!(s, 201);
        let (s, b) = app.post(&format!("/api/v1/users/{ts}/roles"), &street_admin, json!({"role": "volunteer", "scope": "WH-1"})).await;
        assert_error(s, &b, 403, "forbidden");
        let (_, wh) = app.get("/api/v1/users/wh.worker", &token).await;
        let wh = wh["id"].as_str().unwrap();
        let (s, b) = app.post(&format!("/api/v1/users/{wh}/roles"), &street_admin, json!({"role": "volunteer", "scope": "TS-3"})).await;
        assert_error(s, &b, 404, "not_found");
    }

    async fn lookup_input_errors(app: TestApp) {
        app.user("someone", Role::Resident, Some("330103")).await;
        let token = app.login("someone").await;
        for (q, field, code) in [
            ("lat=95&lng=120", "lat", "out_of_range"),
            ("lat=30&lng=-190", "lng", "out_of_range"),
            ("lat=30&lng=120&crs=utm", "crs", "invalid_crs"),
        ] {
            let (s, b) = app.get(&format!("/api/v1/areas/lookup?{q}"), &token).await;
            assert_error(s, &b, 422, "validation_failed");
            assert_eq!(b["fields"][field]["code"], code, "{q}: {b}");
        }
        let (s, b) = app.get("/api/v1/areas/lookup?lat=abc&lng=120", &token).await;
        assert_error(s, &b, 400, "invalid_query");
        let (s, b) = app.get("/api/v1/areas/lookup?lat=30&lng=120", &token).await;
        assert_eq!(s, 200);
        assert_eq!(b["chain"], json!([]));
        let (s, b) = app.send(app.client.get(app.url("/api/v1/areas/lookup?lat=30&lng=120"))).await;
        assert_error(s, &b, 401, "unauthorized");
    }
}

both_backends! {
    async fn a_batch_of_points_answers_as_the_single_lookups_do(app: TestApp) {
        let admin = app.demo_city().await;
        let mut rng = Rng(7);
        // Points over the demo city and beyond it, in WGS-84 and one in GCJ-02.
        let mut points: Vec<Value> = (0..300)
            .map(|_| json!({"lat": 30.55 + rng.unit() * 0.08, "lng": 114.22 + rng.unit() * 0.12}))
            .collect();
        points.push(json!({"lat": 31.5, "lng": 121.0}));
        points.push(json!({"lat": 30.5852, "lng": 114.2778, "crs": "gcj02"}));
        let (s, batch) = app.post("/api/v1/areas/lookup/batch", &admin, json!({"points": points})).await;
        assert_eq!(s, 200, "{batch}");
        let chains = batch["chains"].as_array().unwrap();
        assert_eq!(chains.len(), points.len());
        let mut inside = 0;
        for (p, chain) in points.iter().zip(chains) {
            let crs = p["crs"].as_str().map(|c| format!("&crs={c}")).unwrap_or_default();
            let (_, one) = app.get(&format!("/api/v1/areas/lookup?lat={}&lng={}{crs}", p["lat"], p["lng"]), &admin).await;
            let codes: Vec<&str> = one["chain"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
            let got: Vec<&str> = chain.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
            assert_eq!(got, codes, "{p}");
            inside += usize::from(!got.is_empty());
        }
        assert!(inside > 50 && inside < points.len(), "points inside and outside: {inside}");
        // Refusals name the point at fault; the size is bounded; sign-in is needed.
        let (s, b) = app.post("/api/v1/areas/lookup/batch", &admin, json!({"points": [{"lat": 30.5, "lng": 114.3}, {"lat": 91.0, "lng": 0.0}]})).await;
        assert_eq!((s, b["fields"]["points[1]"]["code"].as_str()), (422, Some("out_of_range")), "{b}");
        let (s, b) = app.post("/api/v1/areas/lookup/batch", &admin, json!({"points": []})).await;
        assert_eq!((s, b["fields"]["points"]["code"].as_str()), (422, Some("out_of_range")), "{b}");
        let many: Vec<Value> = (0..10_001).map(|_| json!({"lat": 30.5, "lng": 114.3})).collect();
        let (s, b) = app.post("/api/v1/areas/lookup/batch", &admin, json!({"points": many})).await;
        assert!(s == 422 || s == 413, "{s}: {b}");
        let res = app.client.post(app.url("/api/v1/areas/lookup/batch")).json(&json!({"points": points})).send().await.unwrap();
        assert_error(res.status().as_u16(), &res.json().await.unwrap(), 401, "unauthorized");
    }
}
