//! Readings over MQTT on both backends, against a real Mosquitto of the test's own (so it can be
//! restarted mid-stream): garbage payloads and wrong secrets are counted and never stop the
//! stream; a broker restart loses nothing at QoS 1 and raises no duplicate alert.

use std::time::Duration;

use gridwork::sensing::mqtt::MqttSettings;
use gridwork_tests::mosquitto::Broker;
use gridwork_tests::{Backend, TestApp};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use serde_json::json;

/// Inside demo grid 420102003001001 (street 420102003).
const IN: (f64, f64) = (30.5825, 114.2740);

async fn spawn(backend: Backend, broker: &Broker) -> Option<TestApp> {
    let url = broker.url();
    let id = format!("gridwork-test-{}", uuid::Uuid::new_v4().simple());
    TestApp::spawn_with(backend, move |s| {
        s.sensing.mqtt = Some(MqttSettings { url, client_id: id, share_group: None });
    })
    .await
}

/// A device's publisher: its own session, QoS 1, its event loop driven in the background.
fn publisher(port: u16) -> AsyncClient {
    let mut o = MqttOptions::new(format!("device-{}", uuid::Uuid::new_v4().simple()), "127.0.0.1", port);
    o.set_clean_session(false);
    o.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(o, 1000);
    tokio::spawn(async move {
        loop {
            if events.poll().await.is_err() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    client
}

fn batch(secret: &str, value: f64, at: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    json!({"secret": secret, "readings": [{"indicator": "manhole_tilt", "value": value, "at": at.to_rfc3339()}]})
        .to_string()
        .into_bytes()
}

async fn stored(app: &TestApp, sensor: &str) -> i64 {
    let sensor = sensor.to_owned();
    app.db
        .run(move |conn| {
            use diesel::prelude::*;
            use gridwork::db::schema::readings;
            Ok(readings::table.filter(readings::sensor_id.eq(sensor)).count().get_result::<i64>(conn)?)
        })
        .await
        .unwrap()
}

async fn wait_for(app: &TestApp, sensor: &str, n: i64) {
    for _ in 0..300 {
        if stored(app, sensor).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("only {} of {n} readings arrived", stored(app, sensor).await);
}

async fn run(backend: Backend) {
    let mut broker = Broker::start();
    let Some(app) = spawn(backend, &broker).await else { return };
    let crew = app.street_crew().await;
    let body = json!({"code": "tilt-1", "name": "井盖", "indicators": ["manhole_tilt"], "lat": IN.0, "lng": IN.1,
                      "expected_interval_secs": 60});
    let (s, reg) = app.post("/api/v1/sensors", &crew.coord, body).await;
    assert_eq!(s, 201, "{reg}");
    let (id, secret) = (reg["id"].as_str().unwrap().to_owned(), reg["secret"].as_str().unwrap().to_owned());
    let device = publisher(broker.port);
    let topic = "gridwork/readings/tilt-1";
    let t0 = chrono::Utc::now() - chrono::Duration::minutes(10);
    let at = |i: i64| t0 + chrono::Duration::seconds(i);

    // Garbage, a wrong secret and an unknown sensor first: none stops the stream.
    device.publish(topic, QoS::AtLeastOnce, false, b"not json".to_vec()).await.unwrap();
    device.publish(topic, QoS::AtLeastOnce, false, br#"{"readings": "many"}"#.to_vec()).await.unwrap();
    device.publish(topic, QoS::AtLeastOnce, false, batch("gw_wrong", 99.0, at(0))).await.unwrap();
    device.publish("gridwork/readings/nobody", QoS::AtLeastOnce, false, batch(&secret, 99.0, at(0))).await.unwrap();
    // 60 readings: quiet, orange from the 20th to the 39th (flapping around 15 within the
    // hysteresis), quiet again; the broker restarts after the 30th.
    let value = |i: i64| match i {
        20..=39 if i % 2 == 0 => 15.5,
        20..=39 => 14.4,
        _ => 1.0,
    };
    for i in 0..30 {
        device.publish(topic, QoS::AtLeastOnce, false, batch(&secret, value(i), at(i + 1))).await.unwrap();
    }
    wait_for(&app, &id, 30).await;
    broker.down();
    for i in 30..60 {
        device.publish(topic, QoS::AtLeastOnce, false, batch(&secret, value(i), at(i + 1))).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    broker.up();
    wait_for(&app, &id, 60).await;
    // Redelivered messages land on the same rows: still sixty.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(stored(&app, &id).await, 60);

    let (_, all) = app.get("/api/v1/alerts?open=false", &crew.coord).await;
    let alerts = all["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "one alert for the flapping run: {all}");
    assert_eq!((alerts[0]["level"].as_str(), alerts[0]["state"].as_str()), (Some("orange"), Some("cleared")), "{all}");
    let (_, events) = app.get("/api/v1/events?source=sensor", &crew.coord).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");

    // The refusals were counted by kind (at least once each: a message whose acknowledgement
    // the restart cut off comes again, and is counted again).
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let count = |outcome: &str| -> f64 {
        let needle = format!("gridwork_sensor_messages_total{{outcome=\"{outcome}\",via=\"mqtt\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(needle.as_str())).map_or(0.0, |v| v.trim().parse().unwrap())
    };
    assert!(count("bad_payload") >= 2.0, "{metrics}");
    assert!(count("unauthorized") >= 2.0, "{metrics}");
    assert!(count("stored") >= 60.0, "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    run(Backend::Postgres).await;
}
