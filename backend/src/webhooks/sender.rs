//! The sender loop: lease due deliveries, POST each signed, record the outcome; retry with
//! backoff; after too many failures in a row switch the subscription off and tell its owner.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;

use super::sign;
use crate::db::{Db, DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::models::now;
use crate::models::webhook::{DeliveryRow, SubscriptionRow};
use crate::queries;

const LEASE: chrono::Duration = chrono::Duration::seconds(60);
const BATCH: i64 = 32;
const PARALLEL: usize = 16;

/// How webhooks are sent (settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long one POST may take.
    pub timeout: Duration,
    /// The first retry's wait; each further one doubles it (at most an hour).
    pub retry_base: Duration,
    /// A delivery is given up after this many attempts.
    pub max_attempts: i32,
    /// A subscription is switched off after this many failed attempts in a row.
    pub disable_after: i32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_secs(10),
            max_attempts: 10,
            disable_after: 50,
        }
    }
}

impl Policy {
    fn backoff(&self, attempts: i32) -> chrono::Duration {
        let secs = self.retry_base.as_secs_f64() * 2f64.powi((attempts - 1).clamp(0, 16));
        chrono::Duration::milliseconds((secs.min(3600.0) * 1000.0) as i64)
    }
}

/// An attempt's outcome: the status (none when no answer came) and what went wrong.
#[derive(Debug, Clone)]
struct Attempt {
    status: Option<u16>,
    error: Option<String>,
}

async fn post(client: &reqwest::Client, d: &DeliveryRow, s: &SubscriptionRow, timeout: Duration) -> Attempt {
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match sign::signature(&s.secret, &d.id, timestamp, &d.payload) {
        Ok(sig) => sig,
        Err(e) => return Attempt { status: None, error: Some(e) },
    };
    let sent = client
        .post(&s.url)
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("webhook-id", &d.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(d.payload.clone())
        .send()
        .await;
    match sent {
        Ok(res) if res.status().is_success() => Attempt { status: Some(res.status().as_u16()), error: None },
        Ok(res) => Attempt { status: Some(res.status().as_u16()), error: Some(format!("answered {}", res.status())) },
        Err(e) if e.is_timeout() => Attempt { status: None, error: Some("no answer in time".to_owned()) },
        Err(e) => Attempt { status: None, error: Some(format!("could not send: {e}")) },
    }
}

/// Records one attempt: delivered, retried later, or given up; counts failures on the
/// subscription and switches it off (telling its owner) past the policy's limit. True when it
/// switched the subscription off.
fn record(conn: &mut DbConn, policy: &Policy, mut d: DeliveryRow, s: &SubscriptionRow, a: &Attempt) -> ApiResult<bool> {
    let at = now();
    d.attempts += 1;
    d.lease_until = None;
    d.last_status = a.status.map(i32::from);
    d.last_error = a.error.clone();
    if a.error.is_none() {
        d.state = "delivered".to_owned();
        d.delivered_at = Some(at);
        queries::webhooks::save(conn, &d)?;
        queries::webhooks::succeeded(conn, &s.id)?;
        return Ok(false);
    }
    if d.attempts >= policy.max_attempts {
        d.state = "failed".to_owned();
    } else {
        d.next_attempt_at = at + policy.backoff(d.attempts);
    }
    queries::webhooks::save(conn, &d)?;
    let failures = queries::webhooks::failed_attempt(conn, &s.id)?;
    if failures >= policy.disable_after {
        let reason = format!("{failures} failed attempts in a row; the last: {}", a.error.as_deref().unwrap_or(""));
        queries::webhooks::set_disabled(conn, &s.id, Some(at), Some(&reason))?;
        let payload = serde_json::json!({"webhook_id": s.id, "name": s.name, "reason": reason});
        crate::events::notify::send_to(conn, std::slice::from_ref(&s.created_by), None, "webhook_disabled", &payload)?;
        queries::audit::record(conn, None, "webhook.disable", &s.id, &reason)?;
        tracing::warn!(webhook = %s.id, failures, "webhook switched off after failing");
        return Ok(true);
    }
    Ok(false)
}

/// One batch: lease, send, record. The number of deliveries leased.
///
/// Deliveries go out in parallel; once a subscription is switched off in this pass, none of its
/// deliveries not yet begun is sent — they are given back, to go out when it is switched on again.
pub async fn pass(db: &Db, client: &reqwest::Client, policy: Policy) -> ApiResult<usize> {
    let at = now();
    let batch = db
        .run(move |conn| {
            write_tx(conn, |conn| Ok::<_, ApiError>(queries::webhooks::claim(conn, at, at + LEASE, BATCH)?))
        })
        .await?;
    let n = batch.len();
    let switched_off: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut in_flight = futures_util::stream::iter(batch)
        .map(|(d, s)| {
            let client = client.clone();
            let switched_off = Arc::clone(&switched_off);
            async move {
                let off = switched_off.lock().is_ok_and(|off| off.contains(&s.id));
                let a = if off { None } else { Some(post(&client, &d, &s, policy.timeout).await) };
                (d, s, a)
            }
        })
        .buffer_unordered(PARALLEL);
    let mut given_back = Vec::new();
    while let Some((d, s, a)) = in_flight.next().await {
        let Some(a) = a else {
            given_back.push(d.id);
            continue;
        };
        let id = s.id.clone();
        if db.run(move |conn| write_tx(conn, |conn| record(conn, &policy, d, &s, &a))).await?
            && let Ok(mut off) = switched_off.lock()
        {
            off.insert(id);
        }
    }
    if !given_back.is_empty() {
        db.run(move |conn| Ok::<_, ApiError>(queries::webhooks::release(conn, &given_back)?)).await?;
    }
    Ok(n)
}

/// Starts the sender loop.
pub fn spawn(state: &crate::state::AppState) -> anyhow::Result<()> {
    let policy = state.settings.webhooks;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let db = state.db.clone();
    let wake = state.changes.clone();
    tokio::spawn(async move {
        loop {
            match pass(&db, &client, policy).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "webhook pass failed"),
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), wake.notified()).await;
        }
    });
    Ok(())
}
