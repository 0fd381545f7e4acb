//! Notifications, written in the same transaction as the change that causes them: the outbox the
//! push sender drains. The machine in `mobile-core` decides who hears of an action
//! ([`Notice`]); this resolves those recipients to users and queues one notification each.

use gridwork_mobile_core::domain::event::{Notice, NoticeDetail, Recipients};
use serde_json::{Value, json};

use crate::areas::AreaIndex;
use crate::db::DbConn;
use crate::error::ApiResult;
use crate::models::event::EventRow;
use crate::models::push::NotificationRow;
use crate::queries;

/// Queues one notification per distinct user about an event.
pub fn send(conn: &mut DbConn, users: &[String], event: &EventRow, kind: &str, extra: &Value) -> ApiResult<()> {
    let mut payload = json!({
        "event_id": event.id,
        "category": event.category_code,
        "state": event.state,
        "due_at": event.due_at.map(|d| d.and_utc()),
    });
    if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    send_to(conn, users, Some(&event.id), kind, &payload)
}

/// Queues one notification per distinct user (the system account never hears anything).
pub fn send_to(
    conn: &mut DbConn,
    users: &[String],
    event_id: Option<&str>,
    kind: &str,
    payload: &Value,
) -> ApiResult<()> {
    let mut seen: Vec<&String> = vec![];
    for user in users {
        if seen.contains(&user) || user == super::SYSTEM_USER {
            continue;
        }
        seen.push(user);
        queries::push::insert_notification(conn, &NotificationRow::new(user, event_id, kind, payload.to_string()))?;
    }
    Ok(())
}

/// Sends a notice the machine decided on: its recipients as users, its detail as the payload.
pub fn deliver(conn: &mut DbConn, index: &AreaIndex, event: &EventRow, notice: &Notice) -> ApiResult<()> {
    let mut users = Vec::new();
    for to in &notice.to {
        match to {
            Recipients::Users(list) => users.extend(list.iter().cloned()),
            Recipients::Followers => users.extend(queries::events::followers(conn, &event.id)?),
            Recipients::Holders(role) => users.extend(super::holders_over(conn, index, event, *role, None)?),
        }
    }
    let extra = match &notice.detail {
        NoticeDetail::None => json!({}),
        NoticeDetail::Reason(reason) => json!({"reason": reason}),
        NoticeDetail::Supervision { level, reason } => json!({"level": level.as_str(), "reason": reason}),
    };
    send(conn, &users, event, notice.kind, &extra)
}
