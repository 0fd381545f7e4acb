//! Readings in over MQTT: the server subscribes to `gridwork/readings/+` at QoS 1 with a kept
//! session and acknowledges a message only once its batch is committed, so a crash or a broker
//! restart redelivers it (the readings' primary key makes the second delivery a no-op) and
//! nothing acknowledged is lost. A message is a reading batch plus the sensor's `secret`. Bad
//! topics, payloads and secrets are counted and logged with the sensor and acknowledged — they
//! never stop the stream. Connection failures reconnect with backoff (1 s doubling to 30 s).

use std::time::Duration;

use gridwork_mobile_core::wire::{ReadingBatch, ReadingReceipt};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::events::actions::Ctx;
use crate::models::sensing::SensorRow;
use crate::state::AppState;

pub const TOPIC_PREFIX: &str = "gridwork/readings/";

#[derive(Debug, Clone)]
pub struct MqttSettings {
    /// `mqtt://[user:password@]host[:port]`.
    pub url: String,
    pub client_id: String,
    pub share_group: Option<String>,
}

/// One MQTT message: the sensor's secret and its batch.
#[derive(Debug, Deserialize)]
struct Message {
    secret: String,
    #[serde(flatten)]
    batch: ReadingBatch,
}

fn options(s: &MqttSettings) -> anyhow::Result<MqttOptions> {
    let url = url::Url::parse(&s.url).map_err(|e| anyhow::anyhow!("mqtt_url: {e}"))?;
    if url.scheme() != "mqtt" {
        anyhow::bail!("mqtt_url must start with mqtt:// (got {})", url.scheme());
    }
    let host = url.host_str().ok_or_else(|| anyhow::anyhow!("mqtt_url names no host"))?;
    let mut o = MqttOptions::new(s.client_id.clone(), host, url.port().unwrap_or(1883));
    o.set_keep_alive(Duration::from_secs(30));
    // The broker keeps our subscription and queues QoS 1 messages while we are away.
    o.set_clean_session(false);
    o.set_manual_acks(true);
    o.set_max_packet_size(256 * 1024, 256 * 1024);
    if !url.username().is_empty() {
        let password = url.password().unwrap_or("");
        o.set_credentials(percent_decode(url.username()), percent_decode(password));
    }
    Ok(o)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn filter(s: &MqttSettings) -> String {
    match &s.share_group {
        Some(g) => format!("$share/{g}/{TOPIC_PREFIX}+"),
        None => format!("{TOPIC_PREFIX}+"),
    }
}

/// Messages stored in one transaction at most, and how long the first of them waits for more.
const GROUP_MAX: usize = 500;
const GROUP_WAIT: Duration = Duration::from_millis(5);
/// Workers storing groups side by side.
const WORKERS: usize = 4;

/// Starts the subscriber (checked settings first, so a bad URL stops the start): one task keeps
/// the connection and hands messages over by sensor to a few workers, which store them in groups
/// and acknowledge each group once it is committed.
pub fn spawn(state: &AppState, settings: MqttSettings) -> anyhow::Result<()> {
    let opts = options(&settings)?;
    let (client, mut events) = AsyncClient::new(opts, 4 * GROUP_MAX);
    // Messages go to one of a few workers by sensor, so one sensor's readings stay in order
    // while the workers' transactions run side by side (PostgreSQL is round-trip bound).
    let mut senders = vec![];
    for _ in 0..WORKERS {
        let (tx, rx) = tokio::sync::mpsc::channel::<Publish>(2 * GROUP_MAX);
        senders.push(tx);
        tokio::spawn(store_in_groups(state.clone(), client.clone(), rx));
    }
    let topic = filter(&settings);
    let mut stopping = state.stopping.subscribe();
    let subscriber = client;
    tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        loop {
            let polled = tokio::select! {
                p = events.poll() => p,
                _ = stopping.changed() => break,
            };
            match polled {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    backoff = Duration::from_secs(1);
                    tracing::info!(url = %redacted(&settings.url), session_present = ack.session_present, "mqtt connected");
                    if !ack.session_present
                        && let Err(e) = subscriber.subscribe(topic.clone(), QoS::AtLeastOnce).await
                    {
                        tracing::warn!(error = %e, "mqtt subscribe failed");
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let worker = partition(&p.topic);
                    if senders[worker].send(p).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "mqtt connection lost");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {},
                        _ = stopping.changed() => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
        let _ = subscriber.disconnect().await;
    });
    Ok(())
}

/// The worker of a topic (the same sensor, the same worker).
fn partition(topic: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    topic.hash(&mut h);
    (h.finish() % WORKERS as u64) as usize
}

async fn store_in_groups(state: AppState, client: AsyncClient, mut rx: tokio::sync::mpsc::Receiver<Publish>) {
    // Acknowledgements wait here when the connection's request queue is full: blocking on it
    // would stop this task from taking messages, and the connection task from sending them.
    let mut unacked: std::collections::VecDeque<Publish> = std::collections::VecDeque::new();
    loop {
        while let Some(p) = unacked.front() {
            if client.try_ack(p).is_err() {
                break;
            }
            unacked.pop_front();
        }
        let first = if unacked.is_empty() {
            rx.recv().await
        } else {
            match tokio::time::timeout(GROUP_WAIT, rx.recv()).await {
                Ok(first) => first,
                Err(_) => continue,
            }
        };
        let Some(first) = first else { break };
        let mut group = vec![first];
        let until = tokio::time::Instant::now() + GROUP_WAIT;
        while group.len() < GROUP_MAX {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(p)) => group.push(p),
                _ => break,
            }
        }
        store_group(&state, &group).await;
        unacked.extend(group);
    }
}

/// A message that parsed, for a sensor whose secret it carries.
struct Good {
    code: String,
    secret: String,
    batch: ReadingBatch,
}

/// Stores a group; returns only when every message is stored or refused for good (a database
/// that is away is waited for, so nothing is acknowledged before it is safe).
async fn store_group(state: &AppState, group: &[Publish]) {
    let count = |outcome: &str| state.metrics.reading_batch("mqtt", outcome);
    let mut good = vec![];
    for p in group {
        let Some(code) = p.topic.strip_prefix(TOPIC_PREFIX).filter(|c| !c.is_empty() && !c.contains('/')) else {
            count("bad_topic");
            tracing::warn!(topic = %p.topic, "mqtt message on an unknown topic");
            continue;
        };
        match serde_json::from_slice::<Message>(&p.payload) {
            Ok(m) => good.push(Good { code: code.to_owned(), secret: m.secret, batch: m.batch }),
            Err(e) => {
                count("bad_payload");
                tracing::warn!(sensor = %code, error = %e, "mqtt payload is not a reading batch");
            }
        }
    }
    if good.is_empty() {
        return;
    }
    let good = std::sync::Arc::new(good);
    let mut wait = Duration::from_millis(200);
    loop {
        let (index, limits, policy) = (state.areas(), state.settings.sensing.limits(), state.settings.event_loop);
        let items = good.clone();
        let result = state
            .db
            .run(move |conn| {
                let mut out: Vec<Option<ApiResult<ReadingReceipt>>> = Vec::with_capacity(items.len());
                let mut known = vec![];
                // A sensor sends many messages: look each up once per group.
                let mut sensors: std::collections::HashMap<(String, String), ApiResult<SensorRow>> =
                    std::collections::HashMap::new();
                for (i, m) in items.iter().enumerate() {
                    let key = (m.code.clone(), m.secret.clone());
                    if !sensors.contains_key(&key) {
                        let found = super::sensors::authenticate(conn, &m.code, &m.secret);
                        sensors.insert(key.clone(), found);
                    }
                    match sensors[&key].clone() {
                        Ok(sensor) => {
                            known.push((i, (sensor, m.batch.clone())));
                            out.push(None);
                        }
                        Err(e) => out.push(Some(Err(e))),
                    }
                }
                let (at, pairs): (Vec<usize>, Vec<_>) = known.into_iter().unzip();
                let ctx = Ctx { index: &index, policy: &policy };
                let stored = match super::ingest::ingest_many(conn, ctx, limits, &pairs) {
                    Ok(stored) => stored,
                    // One bad batch must not hold the others back: store them one by one.
                    Err(e) if !retryable(&e) => pairs
                        .iter()
                        .map(|(sensor, batch)| super::ingest::ingest(conn, ctx, limits, sensor, batch))
                        .collect(),
                    Err(e) => return Err(e),
                };
                for (i, r) in at.into_iter().zip(stored) {
                    out[i] = Some(r);
                }
                Ok(out)
            })
            .await;
        match result {
            Ok(outcomes) => {
                for (m, outcome) in good.iter().zip(outcomes.into_iter().flatten()) {
                    match outcome {
                        Ok(r) if r.refused.is_empty() => count("stored"),
                        Ok(r) => {
                            count("refused");
                            tracing::warn!(sensor = %m.code, refused = r.refused.len(), first = %r.refused[0].code, "mqtt readings refused");
                        }
                        Err(e) if e.code == ErrorCode::Unauthorized => {
                            count("unauthorized");
                            tracing::warn!(sensor = %m.code, "mqtt message with a wrong secret or for an unknown sensor");
                        }
                        Err(e) => {
                            count(if e.code == ErrorCode::Internal { "failed" } else { "bad_payload" });
                            tracing::warn!(sensor = %m.code, code = ?e.code, error = %e.message, "mqtt batch refused");
                        }
                    }
                }
                state.changed();
                return;
            }
            Err(e) => {
                tracing::warn!(messages = good.len(), error = %e.message, retry_in_ms = wait.as_millis() as u64, "mqtt group not stored yet");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
}

fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The database was away or busy, or another writer won a race: trying again can succeed.
fn retryable(e: &ApiError) -> bool {
    matches!(e.code, ErrorCode::Unavailable | ErrorCode::Conflict)
}
