use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{deliveries, devices, notifications};

/// A notification for one user, and its delivery state (the outbox row).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = notifications)]
#[diesel(treat_none_as_null = true)]
pub struct NotificationRow {
    pub id: String,
    pub user_id: String,
    pub event_id: Option<String>,
    pub kind: String,
    /// JSON object of strings and numbers the app needs (event id, state, due time …).
    pub payload: String,
    pub created_at: NaiveDateTime,
    /// When the last device got it.
    pub sent_at: Option<NaiveDateTime>,
    /// `pending`, `sent`, `no_device` (nothing to send to; the app reads its inbox) or `failed`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    /// A sender holds it until then.
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    /// The app confirmed receipt / that the user read it.
    pub received_at: Option<NaiveDateTime>,
    pub read_at: Option<NaiveDateTime>,
}

impl NotificationRow {
    pub fn new(user_id: &str, event_id: Option<&str>, kind: &str, payload: String) -> Self {
        let at = crate::models::now();
        Self {
            id: crate::models::new_id(),
            user_id: user_id.to_owned(),
            event_id: event_id.map(str::to_owned),
            kind: kind.to_owned(),
            payload,
            created_at: at,
            sent_at: None,
            state: "pending".into(),
            attempts: 0,
            next_attempt_at: Some(at),
            lease_until: None,
            last_error: None,
            received_at: None,
            read_at: None,
        }
    }
}

/// A phone registered for push.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = devices)]
#[diesel(treat_none_as_null = true)]
pub struct DeviceRow {
    pub id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    pub fcm_token: String,
    pub platform: String,
    pub app_version: String,
    pub locale: String,
    pub active: bool,
    pub deactivated_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What became of one notification on one device.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRow {
    pub notification_id: String,
    pub device_id: String,
    /// `sent`, `device_gone` (FCM: unregistered or invalid token) or `rejected` (a permanent error).
    pub outcome: String,
    pub fcm_message: Option<String>,
    pub detail: Option<String>,
    pub created_at: NaiveDateTime,
}
