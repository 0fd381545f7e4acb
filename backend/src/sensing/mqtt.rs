//! Readings in over MQTT: the server subscribes to `gridwork/readings/+` at QoS 1 with a kept
//! session and acknowledges a message only once its batch is committed, so a crash or a broker
//! restart redelivers it (the readings' primary key makes the second delivery a no-op) and
//! nothing acknowledged is lost. A message is a reading batch plus the sensor's `secret`. Bad
//! topics, payloads and secrets are counted and logged with the sensor and acknowledged — they
//! never stop the stream. Connection failures reconnect with backoff (1 s doubling to 30 s).

use std::time::Duration;

use gridwork_mobile_core::wire::ReadingBatch;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use serde::Deserialize;

use crate::error::{ApiError, ErrorCode};
use crate::events::actions::Ctx;
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

/// Starts the subscriber (checked settings first, so a bad URL stops the start).
pub fn spawn(state: &AppState, settings: MqttSettings) -> anyhow::Result<()> {
    let opts = options(&settings)?;
    let state = state.clone();
    tokio::spawn(async move {
        let (client, mut events) = AsyncClient::new(opts, 64);
        let topic = filter(&settings);
        let mut backoff = Duration::from_secs(1);
        let mut stopping = state.stopping.subscribe();
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
                        && let Err(e) = client.subscribe(topic.clone(), QoS::AtLeastOnce).await
                    {
                        tracing::warn!(error = %e, "mqtt subscribe failed");
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    handle(&state, &p).await;
                    if let Err(e) = client.ack(&p).await {
                        tracing::warn!(error = %e, "mqtt ack failed");
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
        let _ = client.disconnect().await;
    });
    Ok(())
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

/// Stores one message; returns only when it is stored or refused for good (a database that
/// is away is waited for, so the message is acknowledged only once it is safe).
async fn handle(state: &AppState, p: &Publish) {
    let count = |outcome: &str| state.metrics.reading_batch("mqtt", outcome);
    let Some(code) = p.topic.strip_prefix(TOPIC_PREFIX).filter(|c| !c.contains('/')) else {
        count("bad_topic");
        tracing::warn!(topic = %p.topic, "mqtt message on an unknown topic");
        return;
    };
    let message: Message = match serde_json::from_slice(&p.payload) {
        Ok(m) => m,
        Err(e) => {
            count("bad_payload");
            tracing::warn!(sensor = %code, error = %e, "mqtt payload is not a reading batch");
            return;
        }
    };
    let mut wait = Duration::from_millis(200);
    loop {
        let code = code.to_owned();
        let (index, limits) = (state.areas(), state.settings.sensing.limits());
        let policy = state.settings.event_loop;
        let Message { secret, batch } = &message;
        let (secret, batch) = (secret.clone(), batch.clone());
        let result = state
            .db
            .run(move |conn| {
                let sensor = super::sensors::authenticate(conn, &code, &secret)?;
                super::ingest::ingest(conn, Ctx { index: &index, policy: &policy }, limits, &sensor, &batch)
            })
            .await;
        match result {
            Ok(receipt) => {
                count(if receipt.refused.is_empty() { "stored" } else { "refused" });
                if !receipt.refused.is_empty() {
                    tracing::warn!(sensor = %code_of(p), refused = receipt.refused.len(), first = %receipt.refused[0].code, "mqtt readings refused");
                }
                state.changed();
                return;
            }
            Err(e) if e.code == ErrorCode::Unauthorized => {
                count("unauthorized");
                tracing::warn!(sensor = %code_of(p), "mqtt message with a wrong secret or for an unknown sensor");
                return;
            }
            Err(e) if retryable(&e) => {
                tracing::warn!(sensor = %code_of(p), error = %e.message, retry_in_ms = wait.as_millis() as u64, "mqtt batch not stored yet");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
            Err(e) => {
                count(if e.code == ErrorCode::Internal { "failed" } else { "bad_payload" });
                tracing::warn!(sensor = %code_of(p), code = ?e.code, error = %e.message, "mqtt batch refused");
                return;
            }
        }
    }
}

fn code_of(p: &Publish) -> &str {
    p.topic.strip_prefix(TOPIC_PREFIX).unwrap_or(&p.topic)
}

/// The database was away or busy, or another writer won a race: trying again can succeed.
fn retryable(e: &ApiError) -> bool {
    matches!(e.code, ErrorCode::Unavailable | ErrorCode::Conflict)
}
