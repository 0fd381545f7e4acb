//! Notifications, written in the same transaction as the change that causes them: the outbox the
//! push sender drains. Who hears of what is decided here.

use gridwork_mobile_core::{AreaLevel, Role};
use serde_json::{Value, json};

use crate::db::DbConn;
use crate::db::schema::notifications;
use crate::error::ApiResult;
use crate::models::event::EventRow;
use crate::models::push::NotificationRow;
use diesel::RunQueryDsl;

/// Queues one notification per distinct user (the system account never hears anything).
pub fn send(conn: &mut DbConn, users: &[String], event: &EventRow, kind: &str, extra: &Value) -> ApiResult<()> {
    let mut seen: Vec<&String> = vec![];
    for user in users {
        if seen.contains(&user) || user == super::SYSTEM_USER {
            continue;
        }
        seen.push(user);
        let mut payload = json!({
            "event_id": event.id,
            "category": event.category_code,
            "state": event.state,
            "due_at": event.due_at.map(|d| d.and_utc()),
        });
        if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        let row = NotificationRow::new(user, Some(&event.id), kind, payload.to_string());
        diesel::insert_into(notifications::table).values(&row).execute(conn)?;
    }
    Ok(())
}

/// The role that runs the operations centre at a management level.
pub fn ops_role(level: AreaLevel) -> Role {
    match level {
        AreaLevel::City => Role::CityOperator,
        AreaLevel::District => Role::DistrictOperator,
        _ => Role::Coordinator,
    }
}
