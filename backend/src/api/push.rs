//! Devices for push, and the notification inbox with acknowledgements.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::wire::{DeviceList, DeviceRequest, DeviceView, Inbox, NotificationView};
use serde::Deserialize;
use validator::Validate;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ValidJson;
use crate::models::push::{DeviceRow, NotificationRow};
use crate::push::devices::{self, Registration};
use crate::queries;
use crate::state::AppState;

fn device_view(d: &DeviceRow) -> DeviceView {
    DeviceView {
        id: d.id.clone(),
        platform: d.platform.clone(),
        app_version: d.app_version.clone(),
        locale: d.locale.clone(),
        active: d.active,
        deactivated_reason: d.deactivated_reason.clone(),
        created_at: d.created_at.and_utc(),
        updated_at: d.updated_at.and_utc(),
    }
}

fn notification_view(n: &NotificationRow) -> NotificationView {
    NotificationView {
        id: n.id.clone(),
        event_id: n.event_id.clone(),
        kind: n.kind.clone(),
        payload: serde_json::from_str(&n.payload).unwrap_or(serde_json::Value::Null),
        created_at: n.created_at.and_utc(),
        delivery: n.state.clone(),
        sent_at: n.sent_at.map(|t| t.and_utc()),
        received_at: n.received_at.map(|t| t.and_utc()),
        read_at: n.read_at.map(|t| t.and_utc()),
    }
}

/// The body of a device registration: the wire's, checked on arrival.
pub type DeviceBody = DeviceRequest;
pub async fn register(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<DeviceBody>,
) -> ApiResult<HttpResponse> {
    let b = body.0;
    if !matches!(b.platform.as_str(), "android" | "ios") {
        return Err(ApiError::field("platform", "invalid", "platform is android or ios"));
    }
    let reg = Registration {
        fcm_token: b.fcm_token.trim().to_owned(),
        platform: b.platform,
        app_version: b.app_version,
        locale: b.locale.unwrap_or_else(|| "zh-CN".into()),
    };
    let row = state.db.run(move |conn| devices::register(conn, &caller, &reg)).await?;
    Ok(HttpResponse::Created().json(device_view(&row)))
}

pub async fn list_devices(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state.db.run(move |conn| Ok(queries::push::devices_of(conn, &caller.user.id)?)).await?;
    Ok(HttpResponse::Ok().json(DeviceList { devices: rows.iter().map(device_view).collect() }))
}

pub async fn unregister(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    state.db.run(move |conn| devices::unregister(conn, &caller, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    pub unread: Option<bool>,
    pub limit: Option<i64>,
}

pub async fn inbox(caller: Caller, state: web::Data<AppState>, q: web::Query<InboxQuery>) -> ApiResult<HttpResponse> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 500"));
    }
    let unread = q.unread.unwrap_or(false);
    let rows = state.db.run(move |conn| Ok(queries::push::inbox(conn, &caller.user.id, unread, limit)?)).await?;
    Ok(HttpResponse::Ok().json(Inbox { notifications: rows.iter().map(notification_view).collect() }))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckBody {
    /// The user opened it, not only the phone received it.
    #[serde(default)]
    pub read: bool,
}

pub async fn ack(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<AckBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let read = body.0.read;
    let n = state.db.run(move |conn| devices::acknowledge(conn, &caller, &id, read)).await?;
    Ok(HttpResponse::Ok().json(notification_view(&n)))
}
