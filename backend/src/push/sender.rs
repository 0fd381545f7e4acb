//! The sender loop: lease due notifications, send to every active device, record outcomes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use rand::Rng;

use super::fcm::{self, Outcome};
use super::oauth::TokenSource;
use crate::db::{Db, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::models::now;
use crate::models::push::{DeliveryRow, DeviceRow, NotificationRow};
use crate::queries;

/// A lease outlives any batch (BATCH / PARALLEL rounds of at most SEND_TIMEOUT each) and is what a
/// crashed sender leaves behind: its notifications wait this long before another sender takes them.
const LEASE: chrono::Duration = chrono::Duration::seconds(30);
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const BATCH: i64 = 64;
/// Sends in flight at once.
const PARALLEL: usize = 32;
/// Transient failures are retried this many times (about two hours with the backoff), then the
/// notification is marked failed.
const MAX_ATTEMPTS: i32 = 12;

/// Backoff after `attempts` failed tries: 2^attempts seconds (at most an hour), ±20 %, and never
/// sooner than the server's Retry-After.
pub fn backoff(attempts: i32, retry_after: Option<Duration>) -> Duration {
    let base = 2f64.powi(attempts.clamp(0, 12)).min(3600.0);
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    let d = Duration::from_secs_f64(base * jitter);
    retry_after.map_or(d, |r| d.max(r))
}

#[derive(Debug)]
pub struct Sender {
    pub db: Db,
    pub client: reqwest::Client,
    pub tokens: Arc<TokenSource>,
    pub endpoint: String,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub notifications: usize,
    pub sent: usize,
    pub retried: usize,
    pub devices_gone: usize,
}

impl Sender {
    /// One batch: lease, send, record. Returns what it did (zero notifications: nothing due).
    pub async fn pass(&self) -> ApiResult<Pass> {
        let at = now();
        let (batch, devices, done) = self
            .db
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let batch = queries::push::claim(conn, at, at + LEASE, BATCH)?;
                    let users: Vec<String> = batch.iter().map(|n| n.user_id.clone()).collect();
                    let ids: Vec<String> = batch.iter().map(|n| n.id.clone()).collect();
                    let devices = queries::push::active_devices(conn, &users)?;
                    let done = queries::push::delivered(conn, &ids)?;
                    Ok::<_, ApiError>((batch, devices, done))
                })
            })
            .await?;
        let mut pass = Pass { notifications: batch.len(), ..Pass::default() };
        if batch.is_empty() {
            return Ok(pass);
        }
        let mut by_user: HashMap<&str, Vec<&DeviceRow>> = HashMap::new();
        for d in &devices {
            by_user.entry(d.user_id.as_str()).or_default().push(d);
        }
        // Every (notification, device) still to send, in flight PARALLEL at a time.
        let mut jobs: Vec<(String, String, serde_json::Value)> = vec![];
        for n in &batch {
            for d in by_user.get(n.user_id.as_str()).into_iter().flatten() {
                if !done.iter().any(|(nid, did)| *nid == n.id && *did == d.id) {
                    jobs.push((n.id.clone(), d.id.clone(), fcm::message(n, d)));
                }
            }
        }
        let (client, tokens, endpoint) = (self.client.clone(), self.tokens.clone(), self.endpoint.clone());
        let mut in_flight = futures_util::stream::iter(jobs)
            .map(move |(nid, did, msg)| {
                let (client, tokens, endpoint) = (client.clone(), tokens.clone(), endpoint.clone());
                async move {
                    let outcome = fcm::send(&client, &tokens, &endpoint, &msg).await;
                    (nid, did, outcome)
                }
            })
            .buffer_unordered(PARALLEL);
        // Each outcome is recorded as soon as it is known: a crash then repeats at most the sends
        // FCM had accepted in that instant.
        let mut results: Vec<(String, String, Outcome)> = vec![];
        while let Some(result) = in_flight.next().await {
            let r = result.clone();
            self.db.run(move |conn| write_tx(conn, |conn| record(conn, &r.0, &r.1, &r.2))).await?;
            results.push(result);
        }
        for r in &results {
            match r.2 {
                Outcome::Sent(_) => pass.sent += 1,
                Outcome::Retry { .. } => pass.retried += 1,
                Outcome::DeviceGone(_) => pass.devices_gone += 1,
                Outcome::Rejected(_) => {}
            }
        }
        let has_devices: Vec<String> =
            batch.iter().filter(|n| by_user.contains_key(n.user_id.as_str())).map(|n| n.id.clone()).collect();
        let delivered_before: std::collections::HashSet<String> = done.into_iter().map(|(nid, _)| nid).collect();
        self.db
            .run(move |conn| write_tx(conn, |conn| settle(conn, batch, &has_devices, &delivered_before, &results)))
            .await?;
        Ok(pass)
    }
}

/// Records one device's outcome (nothing for a retry) and drops a dead token.
fn record(conn: &mut crate::db::DbConn, nid: &str, did: &str, outcome: &Outcome) -> ApiResult<()> {
    let at = now();
    let (kind, fcm_message, detail) = match outcome {
        Outcome::Sent(name) => ("sent", Some(name.clone()), None),
        Outcome::DeviceGone(code) => {
            queries::push::deactivate(conn, did, &format!("fcm: {code}"), at)?;
            ("device_gone", None, Some(code.clone()))
        }
        Outcome::Rejected(e) => ("rejected", None, Some(e.clone())),
        Outcome::Retry { .. } => return Ok(()),
    };
    let row = DeliveryRow {
        notification_id: nid.to_owned(),
        device_id: did.to_owned(),
        outcome: kind.to_owned(),
        fcm_message,
        detail,
        created_at: at,
    };
    Ok(queries::push::record(conn, &row)?)
}

/// Moves each notification on: sent, retried later, or given up.
fn settle(
    conn: &mut crate::db::DbConn,
    batch: Vec<NotificationRow>,
    has_devices: &[String],
    delivered_before: &std::collections::HashSet<String>,
    results: &[(String, String, Outcome)],
) -> ApiResult<()> {
    let at = now();
    for mut n in batch {
        let mine: Vec<&Outcome> = results.iter().filter(|r| r.0 == n.id).map(|r| &r.2).collect();
        let retry = mine.iter().find_map(|o| match o {
            Outcome::Retry { after, error } => Some((*after, error.clone())),
            _ => None,
        });
        n.lease_until = None;
        match retry {
            Some((after, error)) => {
                n.attempts += 1;
                n.last_error = Some(error);
                if n.attempts >= MAX_ATTEMPTS {
                    n.state = "failed".into();
                } else {
                    let wait =
                        chrono::Duration::from_std(backoff(n.attempts, after)).unwrap_or(chrono::Duration::hours(1));
                    n.next_attempt_at = Some(at + wait);
                }
            }
            None if !has_devices.contains(&n.id) => n.state = "no_device".into(),
            None => {
                let rejected = mine.iter().find_map(|o| match o {
                    Outcome::Rejected(e) => Some(e.clone()),
                    _ => None,
                });
                let reached = delivered_before.contains(&n.id) || mine.iter().any(|o| matches!(o, Outcome::Sent(_)));
                n.last_error = rejected.clone();
                n.state = match (reached, rejected) {
                    (true, _) => "sent",
                    // Every device refused it for good.
                    (false, Some(_)) => "failed",
                    // Every token turned out dead.
                    (false, None) => "no_device",
                }
                .into();
                if reached {
                    n.sent_at = Some(at);
                }
            }
        }
        queries::push::save_delivery_state(conn, &n)?;
    }
    Ok(())
}

/// Starts the sender if credentials are configured; says so once either way.
pub fn spawn(state: &crate::state::AppState) -> anyhow::Result<()> {
    let settings = &state.settings.push;
    let Some(path) = &settings.credentials else {
        tracing::info!("push is off: no FCM credentials configured (notifications stay in the outbox)");
        return Ok(());
    };
    let mut account = super::credentials::ServiceAccount::load(path)?;
    if let Some(uri) = &settings.token_uri {
        account.token_uri = uri.clone();
    }
    let client = reqwest::Client::builder().timeout(SEND_TIMEOUT).build()?;
    tracing::info!(project = %account.project_id, endpoint = %settings.endpoint, "push to FCM on");
    let sender = Sender {
        db: state.db.clone(),
        tokens: Arc::new(TokenSource::new(account, client.clone())),
        client,
        endpoint: settings.endpoint.clone(),
    };
    let wake = state.changes.clone();
    tokio::spawn(async move {
        loop {
            match sender.pass().await {
                // A full batch: more may be waiting.
                Ok(p) if p.notifications as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "push pass failed"),
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), wake.notified()).await;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let b1 = backoff(1, None).as_secs_f64();
        assert!((1.6..=2.4).contains(&b1), "{b1}");
        let b10 = backoff(10, None).as_secs_f64();
        assert!((819.0..=1229.0).contains(&b10), "{b10}");
        assert!(backoff(30, None).as_secs_f64() <= 3600.0 * 1.2);
        assert!(backoff(1, Some(Duration::from_secs(120))) >= Duration::from_secs(120));
    }
}
