//! Notifications, written in the same transaction as the change that causes them: the outbox the
//! push sender drains. Who hears of what is decided here.

use gridwork_mobile_core::domain::area::AreaTree;
use gridwork_mobile_core::{AreaCode, AreaLevel, Role};
use serde_json::{Value, json};

use crate::areas::AreaIndex;
use crate::db::DbConn;
use crate::db::schema::notifications;
use crate::error::ApiResult;
use crate::models::event::EventRow;
use crate::models::push::NotificationRow;
use crate::queries;
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

/// The people holding `role` over the event's area (system-wide holders included).
pub fn holders_over(conn: &mut DbConn, tree: &AreaIndex, event: &EventRow, role: Role) -> ApiResult<Vec<String>> {
    let area = event.area_code().and_then(|a| AreaCode::parse(a).ok());
    Ok(queries::workers::holders(conn, role.as_str(), None)?
        .into_iter()
        .filter(|(_, scope)| match (scope.as_deref().and_then(|s| AreaCode::parse(s).ok()), &area) {
            (None, _) => true,
            (Some(s), Some(a)) => tree.is_within(a, &s),
            (Some(_), None) => false,
        })
        .map(|(user, _)| user)
        .collect())
}
