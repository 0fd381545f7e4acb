//! The 12345 hotline over HTTP: `POST /hotline/calls` (ops staff file a call),
//! `GET /hotline/calls` (the callback queue: closed cases whose callers wait for a callback) and
//! `POST /hotline/calls/{id}/callback` (回访).

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::domain::event::OPS_ROLES;
use gridwork_mobile_core::wire::{CallbackRequest, HotlineCallList, HotlineCallRequest};
use serde::Deserialize;

use crate::api::events::{Point, PointExt};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::events::actions::Ctx;
use crate::http::extract::ValidJson;
use crate::state::AppState;
use crate::{hotline, queries};

pub type CallBody = HotlineCallRequest;
pub type CallbackBody = CallbackRequest;

pub async fn file(caller: Caller, state: web::Data<AppState>, body: ValidJson<CallBody>) -> ApiResult<HttpResponse> {
    caller.require_any(&OPS_ROLES)?;
    let mut body = body.0;
    (body.lat, body.lng) = Point { lat: body.lat, lng: body.lng, crs: None }.wgs84("lat")?;
    let (index, policy) = (state.areas(), state.settings.event_loop);
    let (view, created) = state
        .db
        .run(move |conn| {
            let (call, created) = hotline::file(conn, Ctx { index: &index, policy: &policy }, &caller, &body)?;
            let event = queries::events::by_id(conn, &call.event_id)?
                .ok_or_else(|| ApiError::internal("call without event"))?;
            Ok((hotline::view(&call, hotline::sees_callers(&caller, &event, &index)), created))
        })
        .await?;
    state.changed();
    Ok(if created { HttpResponse::Created() } else { HttpResponse::Ok() }.json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// 1 to 500 [default: 100]
    pub limit: Option<i64>,
}

/// Calls whose case is closed and whose caller waits for the callback, oldest first, in the
/// caller's reach (ops staff over each case).
pub async fn queue(caller: Caller, state: web::Data<AppState>, q: web::Query<QueueQuery>) -> ApiResult<HttpResponse> {
    caller.require_any(&OPS_ROLES)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 500"));
    }
    let index = state.areas();
    let rows = state.db.run(move |conn| Ok(queries::hotline::awaiting_callback(conn, 5 * limit)?)).await?;
    let calls = rows
        .iter()
        .filter(|(_, e)| hotline::sees_callers(&caller, e, &index))
        .take(usize::try_from(limit).unwrap_or(100))
        .map(|(c, _)| hotline::view(c, true))
        .collect();
    Ok(HttpResponse::Ok().json(HotlineCallList { calls }))
}

pub async fn call_back(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<CallbackBody>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    let view = state.db.run(move |conn| hotline::call_back(conn, &caller, &index, &id, &body.0)).await?;
    state.changed();
    Ok(HttpResponse::Ok().json(view))
}
