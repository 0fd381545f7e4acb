//! Push to phones over FCM HTTP v1, from the transactional outbox (`notifications`).
//!
//! The event loop writes notifications in the same transaction as the change that causes them;
//! the sender here leases due ones in batches (SKIP LOCKED on PostgreSQL, so several servers
//! deliver each once), sends one message per active device, records each device's outcome in
//! `deliveries` (a retry never sends to a device twice), retries transient failures with
//! exponential backoff and jitter honouring `Retry-After`, and deactivates tokens FCM calls dead.
//! Without credentials push is off: the outbox still records what would have been sent.

pub mod credentials;
pub mod devices;
pub mod fcm;
pub mod oauth;
pub mod sender;
pub mod texts;

use std::path::PathBuf;

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct PushSettings {
    /// The Firebase service account key file; `None` turns push off.
    pub credentials: Option<PathBuf>,
    /// FCM's base URL (tests point it at a local double).
    pub endpoint: String,
    /// Overrides the token endpoint named in the credentials.
    pub token_uri: Option<String>,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self { credentials: None, endpoint: "https://fcm.googleapis.com".into(), token_uri: None }
    }
}
