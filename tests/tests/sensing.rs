//! Sensing on both backends: sensors registered by ops staff (and nobody else), readings over
//! HTTP with the sensor's secret, thresholds with hysteresis (a flapping value raises one alert),
//! an orange alert opening exactly one sensor event that is dispatched, later readings noted on
//! it and clearing noted on its timeline, area overrides, silence, and the vital signs.

use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, assert_error, both_backends};
use serde_json::{Value, json};

/// Inside demo grid 420102003001001 (street 420102003).
const IN: (f64, f64) = (30.5825, 114.2740);

fn sensor(code: &str, interval: i64) -> Value {
    json!({"code": code, "name": "积水监测点", "indicators": ["manhole_tilt"], "lat": IN.0, "lng": IN.1,
           "expected_interval_secs": interval})
}

/// One instant the readings count back from, so a batch sent again is the same readings.
static BASE: std::sync::LazyLock<chrono::DateTime<chrono::Utc>> = std::sync::LazyLock::new(chrono::Utc::now);

async fn send(app: &TestApp, code: &str, secret: &str, readings: &[(f64, i64)]) -> (u16, Value) {
    let now = *BASE;
    let readings: Vec<Value> = readings
        .iter()
        .map(|(v, secs_ago)| {
            json!({"indicator": "manhole_tilt", "value": v,
                   "at": (now - chrono::Duration::seconds(*secs_ago)).to_rfc3339()})
        })
        .collect();
    let req = app
        .client
        .post(app.url(&format!("/api/v1/sensors/{code}/readings")))
        .bearer_auth(secret)
        .json(&json!({"readings": readings, "battery": 87.5}));
    app.send(req).await
}

async fn sensor_events(app: &TestApp, token: &str) -> Vec<Value> {
    let (s, b) = app.get("/api/v1/events?source=sensor", token).await;
    assert_eq!(s, 200, "{b}");
    b["events"].as_array().cloned().unwrap_or_default()
}

async fn open_alerts(app: &TestApp, token: &str) -> Vec<Value> {
    let (s, b) = app.get("/api/v1/alerts", token).await;
    assert_eq!(s, 200, "{b}");
    b["alerts"].as_array().cloned().unwrap()
}

both_backends! {
    async fn readings_cross_thresholds_raise_one_alert_and_open_one_event(app: TestApp) {
        let crew = app.street_crew().await;
        app.user("coord.next", Role::Coordinator, Some("420102004")).await;
        let other = app.login("coord.next").await;
        app.user("district", Role::DistrictOperator, Some("420102")).await;
        let district = app.login("district").await;

        // The registry ships its defaults.
        let (s, reg) = app.get("/api/v1/indicators", &crew.coord).await;
        assert_eq!(s, 200, "{reg}");
        let depth = reg["indicators"].as_array().unwrap().iter().find(|i| i["code"] == "waterlogging_depth").unwrap().clone();
        assert_eq!((depth["thresholds"]["orange"].as_f64(), depth["category"].as_str()), (Some(25.0), Some("E-05-01")), "{depth}");
        assert_eq!(app.get("/api/v1/indicators", &crew.chen).await.0, 403);

        // Registered by ops staff over the point only; the secret is shown once.
        let (s, b) = app.post("/api/v1/sensors", &crew.wang, sensor("wl-1", 60)).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.post("/api/v1/sensors", &other, sensor("wl-1", 60)).await;
        assert_error(s, &b, 403, "forbidden");
        let mut bad = sensor("wl/1", 60);
        bad["indicators"] = json!(["waterlogging_depth", "no_such"]);
        let (s, b) = app.post("/api/v1/sensors", &crew.coord, bad).await;
        assert_eq!((s, b["fields"]["code"]["code"].as_str()), (422, Some("invalid_device_code")), "{b}");
        let mut bad = sensor("wl-1", 60);
        bad["indicators"] = json!(["no_such"]);
        let (s, b) = app.post("/api/v1/sensors", &crew.coord, bad).await;
        assert_eq!((s, b["fields"]["indicators[0]"]["code"].as_str()), (422, Some("unknown_indicator")), "{b}");
        let (s, reg) = app.post("/api/v1/sensors", &crew.coord, sensor("wl-1", 60)).await;
        assert_eq!(s, 201, "{reg}");
        let (id, secret) = (reg["id"].as_str().unwrap().to_owned(), reg["secret"].as_str().unwrap().to_owned());
        assert!(reg["area"].as_str().unwrap().starts_with("420102003001001"), "{reg}");
        let (s, b) = app.post("/api/v1/sensors", &crew.coord, sensor("wl-1", 60)).await;
        assert_eq!((s, b["fields"]["code"]["code"].as_str()), (422, Some("duplicate")), "{b}");
        let (s, seen) = app.get(&format!("/api/v1/sensors/{id}"), &crew.wang).await;
        assert_eq!((s, seen.get("secret")), (200, None), "{seen}");
        assert_eq!(app.get(&format!("/api/v1/sensors/{id}"), &other).await.0, 404);
        let (_, theirs) = app.get("/api/v1/sensors", &other).await;
        assert_eq!(theirs["sensors"], json!([]));
        let (_, mine) = app.get("/api/v1/sensors?area=420102003001", &crew.coord).await;
        assert_eq!(mine["sensors"].as_array().unwrap().len(), 1, "{mine}");

        // Readings need the sensor's own secret.
        let (s, b) = send(&app, "wl-1", "gw_wrong", &[(3.0, 10)]).await;
        assert_error(s, &b, 401, "unauthorized");
        let (s, b) = send(&app, "wl-2", &secret, &[(3.0, 10)]).await;
        assert_error(s, &b, 401, "unauthorized");
        let (s, b) = app.send(app.client.post(app.url("/api/v1/sensors/wl-1/readings")).json(&json!({"readings": []}))).await;
        assert_eq!(s, 422, "{b}");

        // Quiet, then blue, then orange: one alert, one event, dispatched.
        let (s, r) = send(&app, "wl-1", &secret, &[(2.0, 300), (3.0, 240), (6.0, 180)]).await;
        assert_eq!((s, r["stored"].as_u64(), r["duplicates"].as_u64()), (200, Some(3), Some(0)), "{r}");
        let alerts = open_alerts(&app, &crew.coord).await;
        assert_eq!((alerts.len(), alerts[0]["level"].as_str(), alerts[0].get("event_id")), (1, Some("blue"), None), "{alerts:?}");
        assert!(sensor_events(&app, &crew.coord).await.is_empty());
        let (s, r) = send(&app, "wl-1", &secret, &[(16.0, 120)]).await;
        assert_eq!(s, 200, "{r}");
        let alerts = open_alerts(&app, &crew.coord).await;
        assert_eq!((alerts.len(), alerts[0]["level"].as_str()), (1, Some("orange")), "{alerts:?}");
        let events = sensor_events(&app, &crew.coord).await;
        assert_eq!(events.len(), 1, "{events:?}");
        let event = events[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(alerts[0]["event_id"].as_str(), Some(event.as_str()));
        assert_eq!((events[0]["grade"].as_str(), events[0]["category"].as_str()), (Some("serious"), Some("C-01-02")), "{events:?}");
        assert_ne!(events[0]["state"], "reported", "sensor events are accepted at once");

        // Flapping around orange's 15 (hysteresis 1) and a resent batch change nothing.
        let (s, r) = send(&app, "wl-1", &secret, &[(14.5, 100), (15.5, 90), (14.2, 80), (15.0, 70)]).await;
        assert_eq!((s, r["stored"].as_u64()), (200, Some(4)), "{r}");
        let (s, r) = send(&app, "wl-1", &secret, &[(14.5, 100), (15.5, 90)]).await;
        assert_eq!((s, r["stored"].as_u64(), r["duplicates"].as_u64()), (200, Some(0), Some(2)), "{r}");
        let alerts = open_alerts(&app, &crew.coord).await;
        assert_eq!((alerts.len(), alerts[0]["level"].as_str()), (1, Some("orange")), "{alerts:?}");
        assert_eq!(sensor_events(&app, &crew.coord).await.len(), 1);

        // A reading from the future and one of an indicator it does not report are refused, named.
        let now = chrono::Utc::now();
        let odd = json!({"readings": [
            {"indicator": "manhole_tilt", "value": 1.0, "at": (now + chrono::Duration::hours(1)).to_rfc3339()},
            {"indicator": "gas_concentration", "value": 1.0, "at": now.to_rfc3339()}]});
        let (s, r) = app.send(app.client.post(app.url("/api/v1/sensors/wl-1/readings")).bearer_auth(&secret).json(&odd)).await;
        assert_eq!((s, r["stored"].as_u64()), (200, Some(0)), "{r}");
        let codes: Vec<&str> = r["refused"].as_array().unwrap().iter().map(|x| x["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["reading_in_future", "unknown_indicator"]);

        // Red is noted on the event; ops staff acknowledge (not the grid worker, not twice).
        let (s, _) = send(&app, "wl-1", &secret, &[(35.0, 60)]).await;
        assert_eq!(s, 200);
        let alert = open_alerts(&app, &crew.coord).await[0].clone();
        assert_eq!((alert["level"].as_str(), alert["peak_value"].as_f64()), (Some("red"), Some(35.0)), "{alert}");
        let ack = format!("/api/v1/alerts/{}/acknowledge", alert["id"].as_str().unwrap());
        let (s, b) = app.post(&ack, &crew.wang, json!({})).await;
        assert_error(s, &b, 403, "forbidden");
        assert_eq!(app.post(&ack, &other, json!({})).await.0, 404);
        let (s, b) = app.post(&ack, &crew.coord, json!({})).await;
        assert_eq!((s, b["state"].as_str()), (200, Some("acknowledged")), "{b}");
        let (s, b) = app.post(&ack, &crew.coord, json!({})).await;
        assert_eq!(s, 409, "{b}");
        assert!(open_alerts(&app, &other).await.is_empty(), "another street sees none");

        // Back to normal: cleared, and the clearing is on the event's timeline.
        let (s, _) = send(&app, "wl-1", &secret, &[(1.0, 30)]).await;
        assert_eq!(s, 200);
        assert!(open_alerts(&app, &crew.coord).await.is_empty());
        let (_, all) = app.get("/api/v1/alerts?open=false", &crew.coord).await;
        assert_eq!(all["alerts"][0]["state"], "cleared", "{all}");
        let (_, e) = app.get(&format!("/api/v1/events/{event}"), &crew.coord).await;
        let steps: Vec<&str> = e["timeline"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
        assert!(steps.contains(&"sensor_level") && steps.contains(&"sensor_cleared"), "{steps:?}");

        // A new breach while that event is still open annotates it: still one event.
        let (s, _) = send(&app, "wl-1", &secret, &[(20.0, 5)]).await;
        assert_eq!(s, 200);
        assert_eq!(sensor_events(&app, &crew.coord).await.len(), 1);
        assert_eq!(open_alerts(&app, &crew.coord).await[0]["event_id"].as_str(), Some(event.as_str()));

        // The district lowers the street's thresholds; the coordinator may not.
        let th = json!({"thresholds": {"blue": 1.0, "yellow": 2.0, "orange": 3.0, "red": 4.0}, "hysteresis": 0.5});
        let put = "/api/v1/indicators/manhole_tilt/overrides/420102003";
        let (s, b) = app.put(put, &crew.coord, th.clone()).await;
        assert_error(s, &b, 403, "forbidden");
        let backwards = json!({"thresholds": {"blue": 5.0, "yellow": 2.0}, "hysteresis": 0.5});
        let (s, b) = app.put(put, &district, backwards).await;
        assert_eq!((s, b["fields"]["thresholds"]["code"].as_str()), (422, Some("thresholds_out_of_order")), "{b}");
        let (s, b) = app.put(put, &district, th).await;
        assert_eq!(s, 200, "{b}");
        let (_, reg) = app.get("/api/v1/indicators?area=420102003001001", &crew.wang).await;
        let depth = reg["indicators"].as_array().unwrap().iter().find(|i| i["code"] == "manhole_tilt").unwrap().clone();
        assert_eq!((depth["thresholds"]["orange"].as_f64(), depth["override_area"].as_str()), (Some(3.0), Some("420102003")), "{depth}");
        let (_, list) = app.get("/api/v1/indicators/manhole_tilt/overrides", &other).await;
        assert_eq!(list["overrides"], json!([]), "another street does not see this street's override");

        // The vital signs of the street and its communities.
        let (s, v) = app.get("/api/v1/vital-signs?area=420102003", &crew.coord).await;
        assert_eq!(s, 200, "{v}");
        let sign = |area: &str| v["signs"].as_array().unwrap().iter().find(|x| x["indicator"] == "manhole_tilt" && x["area"] == area).cloned();
        let street = sign("420102003").expect("the street's line");
        assert_eq!((street["sensors"].as_i64(), street["readings"].as_i64(), street["max"].as_f64()), (Some(1), Some(11), Some(35.0)), "{street}");
        // 2 + 3 + 6 + 16 + 14.5 + 15.5 + 14.2 + 15 + 35 + 1 + 20 over 11 readings.
        assert!((street["mean"].as_f64().unwrap() - 142.2 / 11.0).abs() < 1e-9, "{street}");
        assert_eq!(street["open_alerts"]["orange"], 1, "{street}");
        assert!(sign("420102003001").is_some(), "its community's line: {v}");
        assert_eq!(app.get("/api/v1/vital-signs?area=420102003", &other).await.0, 404);
        assert_eq!(app.get("/api/v1/vital-signs?area=420102003", &crew.chen).await.0, 404);
    }

    async fn a_silent_sensor_raises_an_offline_alert_until_it_reports(app: TestApp) {
        let crew = app.street_crew().await;
        let (s, reg) = app.post("/api/v1/sensors", &crew.coord, sensor("wl-quiet", 10)).await;
        assert_eq!(s, 201, "{reg}");
        let (id, secret) = (reg["id"].as_str().unwrap().to_owned(), reg["secret"].as_str().unwrap().to_owned());
        // Registered a minute ago and never heard from.
        let back = id.clone();
        app.db
            .run(move |conn| {
                use diesel::prelude::*;
                use gridwork::db::schema::sensors;
                let t = gridwork::models::now() - chrono::Duration::seconds(60);
                diesel::update(sensors::table.find(back)).set(sensors::created_at.eq(t)).execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        let state = app.state.clone();
        let scan = move |conn: &mut gridwork::db::DbConn| {
            let index = state.areas();
            let ctx = gridwork::events::actions::Ctx { index: &index, policy: &state.settings.event_loop };
            gridwork::sensing::scan(conn, ctx, &state.settings.sensing, false)
        };
        app.db.run(scan.clone()).await.unwrap();
        app.db.run(scan).await.unwrap();
        let alerts = open_alerts(&app, &crew.coord).await;
        assert_eq!((alerts.len(), alerts[0]["kind"].as_str()), (1, Some("offline")), "one alert however often scanned: {alerts:?}");
        let (s, _) = send(&app, "wl-quiet", &secret, &[(1.0, 1)]).await;
        assert_eq!(s, 200);
        assert!(open_alerts(&app, &crew.coord).await.is_empty());
        let (_, seen) = app.get(&format!("/api/v1/sensors/{id}"), &crew.coord).await;
        assert_eq!(seen["battery"].as_f64(), Some(87.5), "{seen}");

        // A new secret: the old one stops; retired, the sensor is refused.
        let (s, rekeyed) = app.post(&format!("/api/v1/sensors/{id}/secret"), &crew.coord, json!({})).await;
        assert_eq!(s, 200, "{rekeyed}");
        assert_eq!(send(&app, "wl-quiet", &secret, &[(1.0, 0)]).await.0, 401);
        let fresh = rekeyed["secret"].as_str().unwrap().to_owned();
        assert_eq!(send(&app, "wl-quiet", &fresh, &[(1.0, 0)]).await.0, 200);
        assert_eq!(app.post(&format!("/api/v1/sensors/{id}/retire"), &crew.wang, json!({})).await.0, 403);
        assert_eq!(app.post(&format!("/api/v1/sensors/{id}/retire"), &crew.coord, json!({})).await.0, 200);
        assert_eq!(send(&app, "wl-quiet", &fresh, &[(1.0, 0)]).await.0, 401);
    }

    async fn the_registry_round_trips_as_csv_for_administrators_only(app: TestApp) {
        let crew = app.street_crew().await;
        let res = app.client.get(app.url("/api/v1/indicators.csv")).bearer_auth(&crew.coord).send().await.unwrap();
        let body = res.text().await.unwrap();
        assert!(body.starts_with("code,name,unit,levels"), "{body}");
        let changed = body.replace("waterlogging_depth,路面积水深度,cm,community/street/district/city,max,300,above,5,15,25,40",
                                   "waterlogging_depth,路面积水深度,cm,community/street/district/city,max,300,above,5,15,20,40");
        assert_ne!(changed, body);
        let import = |token: &str, data: String| app.client.post(app.url("/api/v1/indicators/import")).bearer_auth(token).header("content-type", "text/csv").body(data);
        let (s, b) = app.send(import(&crew.coord, changed.clone())).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.send(import(&crew.admin, changed.replace(",E-05-01,", ",X-99-99,"))).await;
        assert_eq!((s, b["details"][0]["code"].as_str()), (422, Some("unknown_category")), "{b}");
        let (s, b) = app.send(import(&crew.admin, changed)).await;
        assert_eq!((s, b["updated"].as_u64()), (200, Some(1)), "{b}");
    }

    async fn the_streets_figures_from_events_raise_alerts_and_open_no_event(app: TestApp) {
        let crew = app.street_crew().await;
        app.user("district", Role::DistrictOperator, Some("420102")).await;
        let district = app.login("district").await;
        // No device may claim the server's own figures.
        let mut bad = sensor("x-1", 60);
        bad["indicators"] = json!(["overdue_share"]);
        let (s, b) = app.post("/api/v1/sensors", &crew.coord, bad).await;
        assert_eq!((s, b["fields"]["indicators[0]"]["code"].as_str()), (422, Some("derived_indicator")), "{b}");
        // The district watches the street closely: blue at two reports an hour.
        let th = json!({"thresholds": {"blue": 2.0, "yellow": 50.0}, "hysteresis": 0.5});
        let (s, b) = app.put("/api/v1/indicators/reports_per_hour/overrides/420102003", &district, th).await;
        assert_eq!(s, 200, "{b}");
        for category in ["C-03-01", "E-01-01", "C-04-01"] {
            let body = json!({"category": category, "lat": IN.0, "lng": IN.1, "description": "有问题"});
            let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&crew.chen)
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string()).json(&body);
            let (s, b) = app.send(req).await;
            assert_eq!(s, 201, "{b}");
        }
        let state = app.state.clone();
        app.db
            .run(move |conn| {
                let index = state.areas();
                let ctx = gridwork::events::actions::Ctx { index: &index, policy: &state.settings.event_loop };
                gridwork::sensing::scan(conn, ctx, &state.settings.sensing, true)
            })
            .await
            .unwrap();
        let alerts = open_alerts(&app, &crew.coord).await;
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!((a["indicator"].as_str(), a["level"].as_str(), a["sensor"].as_str()), (Some("reports_per_hour"), Some("blue"), Some("derived.420102003")), "{a}");
        assert!(a.get("event_id").is_none(), "the street's figures open no event: {a}");
        assert!(sensor_events(&app, &crew.coord).await.is_empty());
        let (_, v) = app.get("/api/v1/vital-signs?area=420102", &district).await;
        let street = v["signs"].as_array().unwrap().iter()
            .find(|x| x["indicator"] == "reports_per_hour" && x["area"] == "420102003").cloned().expect("the street's line");
        assert_eq!(street["max"].as_f64(), Some(3.0), "{street}");
        let overdue = v["signs"].as_array().unwrap().iter()
            .find(|x| x["indicator"] == "overdue_share" && x["area"] == "420102003").cloned().expect("overdue share");
        assert_eq!(overdue["max"].as_f64(), Some(0.0), "{overdue}");
        let (_, list) = app.get("/api/v1/sensors?area=420102003", &crew.coord).await;
        assert!(list["sensors"].as_array().unwrap().iter().any(|x| x["kind"] == "derived"), "{list}");
        // Nobody can send the street's figures.
        let (s, _) = send(&app, "derived.420102003", "gw_anything", &[(1.0, 0)]).await;
        assert_eq!(s, 401);
    }
}
