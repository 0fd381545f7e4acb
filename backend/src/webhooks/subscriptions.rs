//! Subscriptions: registered by administrators over their area (the secret shown once), listed,
//! switched back on after being switched off, deleted; their delivery logs and manual replays.

use gridwork_mobile_core::Role;
use gridwork_mobile_core::wire::{Webhook, WebhookDelivery, WebhookRequest};

use super::{outbox, sign};
use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::models::webhook::{DeliveryRow, SubscriptionRow};
use crate::models::{new_id, now};
use crate::queries;

/// Who manages subscriptions: administrators over the subscription's area.
pub const MANAGERS: [Role; 1] = [Role::Admin];

pub fn manages(caller: &Caller, row: &SubscriptionRow, index: &AreaIndex) -> bool {
    caller.holds_over_code(&MANAGERS, &row.area_code, index)
}

pub fn view(row: &SubscriptionRow, secret: Option<String>) -> Webhook {
    let states: Vec<String> = serde_json::from_str(&row.states).unwrap_or_default();
    Webhook {
        id: row.id.clone(),
        name: row.name.clone(),
        url: row.url.clone(),
        area: row.area_code.clone(),
        states: states.iter().filter_map(|s| s.parse().ok()).collect(),
        categories: serde_json::from_str(&row.categories).unwrap_or_default(),
        created_at: row.created_at.and_utc(),
        disabled_at: row.disabled_at.map(|t| t.and_utc()),
        disabled_reason: row.disabled_reason.clone(),
        consecutive_failures: row.consecutive_failures,
        secret,
    }
}

pub fn delivery_view(d: DeliveryRow) -> WebhookDelivery {
    WebhookDelivery {
        id: d.id,
        event_id: d.event_id,
        kind: d.kind,
        state: d.state,
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error,
        created_at: d.created_at.and_utc(),
        next_attempt_at: d.next_attempt_at.and_utc(),
        delivered_at: d.delivered_at.map(|t| t.and_utc()),
    }
}

pub fn register(conn: &mut DbConn, caller: &Caller, index: &AreaIndex, req: &WebhookRequest) -> ApiResult<Webhook> {
    let area = crate::areas::mapped_area(index, "area", &req.area)?;
    caller.require_over(&MANAGERS, Some(&area), index)?;
    let url = reqwest::Url::parse(req.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| ApiError::field("url", "invalid_url", "an http or https URL"))?;
    for code in &req.categories {
        if queries::categories::by_code(conn, code)?.is_none() {
            return Err(ApiError::field("categories", "unknown_category", format!("no category {code:?}")));
        }
    }
    let secret = sign::new_secret();
    let row = SubscriptionRow {
        id: new_id(),
        name: req.name.trim().to_owned(),
        url: url.to_string(),
        secret: secret.clone(),
        area_code: area.to_string(),
        states: serde_json::to_string(&outbox::state_names(&req.states)).unwrap_or_else(|_| "[]".into()),
        categories: serde_json::to_string(&req.categories).unwrap_or_else(|_| "[]".into()),
        created_by: caller.user.id.clone(),
        created_at: now(),
        disabled_at: None,
        disabled_reason: None,
        consecutive_failures: 0,
    };
    write_tx(conn, |conn| {
        queries::webhooks::insert_subscription(conn, &row)?;
        queries::audit::record(conn, Some(&caller.user.id), "webhook.create", &row.id, &row.url)?;
        Ok(view(&row, Some(secret.clone())))
    })
}

/// A subscription the caller manages; others are not found.
pub fn managed(conn: &mut DbConn, caller: &Caller, index: &AreaIndex, id: &str) -> ApiResult<SubscriptionRow> {
    queries::webhooks::subscription(conn, id)?
        .filter(|r| manages(caller, r, index))
        .ok_or_else(|| ApiError::not_found(format!("no webhook {id:?}")))
}

/// Switches a subscription back on (or off by hand).
pub fn set_enabled(conn: &mut DbConn, caller: &Caller, index: &AreaIndex, id: &str, on: bool) -> ApiResult<Webhook> {
    write_tx(conn, |conn| {
        managed(conn, caller, index, id)?;
        let (at, reason) = if on { (None, None) } else { (Some(now()), Some("switched off by an administrator")) };
        queries::webhooks::set_disabled(conn, id, at, reason)?;
        let action = if on { "webhook.enable" } else { "webhook.disable" };
        queries::audit::record(conn, Some(&caller.user.id), action, id, "")?;
        Ok(view(&managed(conn, caller, index, id)?, None))
    })
}

pub fn delete(conn: &mut DbConn, caller: &Caller, index: &AreaIndex, id: &str) -> ApiResult<()> {
    write_tx(conn, |conn| {
        managed(conn, caller, index, id)?;
        queries::webhooks::delete_subscription(conn, id)?;
        queries::audit::record(conn, Some(&caller.user.id), "webhook.delete", id, "")?;
        Ok(())
    })
}

/// Sends a delivery again, from its first attempt.
pub fn replay(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    id: &str,
    delivery: &str,
) -> ApiResult<WebhookDelivery> {
    write_tx(conn, |conn| {
        managed(conn, caller, index, id)?;
        if !queries::webhooks::replay(conn, id, delivery, now())? {
            return Err(ApiError::not_found(format!("no delivery {delivery:?} of this webhook")));
        }
        queries::audit::record(conn, Some(&caller.user.id), "webhook.replay", id, delivery)?;
        let d =
            queries::webhooks::delivery(conn, delivery)?.ok_or_else(|| ApiError::internal("replayed delivery gone"))?;
        Ok(delivery_view(d))
    })
}
