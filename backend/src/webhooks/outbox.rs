//! The webhook outbox: one delivery per matching subscription and state change, written in the
//! transaction that writes the timeline entry, so a change and its messages commit together.

use diesel::prelude::*;
use gridwork_mobile_core::domain::event::EventState;
use serde_json::json;

use crate::db::DbConn;
use crate::db::schema::events;
use crate::error::ApiResult;
use crate::models::event::{EventLogRow, EventRow};
use crate::models::webhook::{DeliveryRow, SubscriptionRow};
use crate::queries;

/// Whether a subscription wants this change of this event.
fn wants(s: &SubscriptionRow, event: &EventRow, to: &str) -> bool {
    let inside = [
        &event.city_code,
        &event.district_code,
        &event.street_code,
        &event.community_code,
        &event.grid_code,
        &event.compound_code,
        &event.building_code,
    ]
    .iter()
    .any(|c| c.as_deref() == Some(s.area_code.as_str()));
    let states: Vec<String> = serde_json::from_str(&s.states).unwrap_or_default();
    let categories: Vec<String> = serde_json::from_str(&s.categories).unwrap_or_default();
    inside
        && (states.is_empty() || states.iter().any(|x| x == to))
        && (categories.is_empty() || categories.contains(&event.category_code))
}

/// What a department system is told: the case, where it is, what changed. No reporter, no
/// actor, no caller, no free text a person wrote about themselves beyond the case's description.
fn payload(kind: &str, event: &EventRow, entry: &EventLogRow) -> serde_json::Value {
    let at = entry.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    json!({
        "type": kind,
        "timestamp": at,
        "data": {
            "event_id": event.id,
            "seq": entry.seq,
            "action": entry.action,
            "from": entry.from_state,
            "to": entry.to_state,
            "category": event.category_code,
            "grade": event.grade,
            "source": event.source,
            "description": event.description,
            "address": event.address,
            "lat": event.lat,
            "lng": event.lng,
            "areas": {
                "city": event.city_code, "district": event.district_code, "street": event.street_code,
                "community": event.community_code, "grid": event.grid_code,
            },
            "due_at": event.due_at.map(|d| d.and_utc()),
        },
    })
}

/// Queues the messages of one timeline entry, if it changed the event's state (or opened it).
pub fn enqueue(conn: &mut DbConn, entry: &EventLogRow) -> ApiResult<usize> {
    let opened = entry.from_state.is_none();
    if !opened && entry.from_state.as_deref() == Some(entry.to_state.as_str()) {
        return Ok(0);
    }
    let subscriptions = crate::standing::subscriptions(conn)?;
    if subscriptions.is_empty() {
        return Ok(0);
    }
    let event: EventRow = events::table.find(&entry.event_id).select(EventRow::as_select()).first(conn)?;
    let kind = if opened { "event.created" } else { "event.state_changed" };
    let body = payload(kind, &event, entry).to_string();
    let rows: Vec<DeliveryRow> = subscriptions
        .iter()
        .filter(|s| wants(s, &event, &entry.to_state))
        .map(|s| DeliveryRow {
            id: format!("msg_{}", uuid::Uuid::now_v7().simple()),
            subscription_id: s.id.clone(),
            event_id: event.id.clone(),
            kind: kind.to_owned(),
            payload: body.clone(),
            state: "pending".to_owned(),
            attempts: 0,
            next_attempt_at: entry.created_at,
            lease_until: None,
            last_status: None,
            last_error: None,
            created_at: entry.created_at,
            delivered_at: None,
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(queries::webhooks::insert_deliveries(conn, &rows)?)
}

/// The states a subscription may name, checked when it is registered.
pub fn state_names(states: &[EventState]) -> Vec<String> {
    states.iter().map(|s| s.as_str().to_owned()).collect()
}
