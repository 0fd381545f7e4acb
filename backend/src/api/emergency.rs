//! Emergency mode and special operations over HTTP: `POST /emergencies` (an ops centre declares),
//! `POST /emergencies/{id}/end` (back to normal), `GET /emergencies`, and
//! `GET|POST /special-operations`, `GET /special-operations/{id}`.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::wire::{
    EmergencyList, EmergencyRequest, EndEmergencyRequest, SpecialOperationList, SpecialOperationRequest,
};
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::events::actions::Ctx;
use crate::http::extract::ValidJson;
use crate::state::AppState;
use crate::{emergency, special_operations};

pub type DeclareBody = EmergencyRequest;
pub type EndBody = EndEmergencyRequest;
pub type OperationBody = SpecialOperationRequest;

pub async fn declare(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<DeclareBody>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let body = body.0;
    let view = state.db.run(move |conn| emergency::declare(conn, &index, &caller, &body)).await?;
    state.changed();
    Ok(HttpResponse::Created().json(view))
}

pub async fn list(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let emergencies = state.db.run(move |conn| emergency::list(conn, &index, &caller)).await?;
    Ok(HttpResponse::Ok().json(EmergencyList { emergencies }))
}

pub async fn end(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<EndBody>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let (id, body) = (path.into_inner(), body.0);
    let view = state.db.run(move |conn| emergency::end(conn, &index, &caller, &id, &body.reason)).await?;
    state.changed();
    Ok(HttpResponse::Ok().json(view))
}

pub async fn create_operation(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<OperationBody>,
) -> ApiResult<HttpResponse> {
    let (index, policy) = (state.areas(), state.settings.event_loop);
    let body = body.0;
    let view = state
        .db
        .run(move |conn| special_operations::create(conn, Ctx { index: &index, policy: &policy }, &caller, &body))
        .await?;
    state.changed();
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OperationQuery {
    /// 1 to 200 [default: 50]
    pub limit: Option<i64>,
}

pub async fn list_operations(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<OperationQuery>,
) -> ApiResult<HttpResponse> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 200"));
    }
    let index = state.areas();
    let operations = state.db.run(move |conn| special_operations::list(conn, &index, &caller, limit)).await?;
    Ok(HttpResponse::Ok().json(SpecialOperationList { operations }))
}

pub async fn get_operation(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    let view = state.db.run(move |conn| special_operations::get(conn, &index, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}
