//! Webhook subscriptions of department systems over HTTP (administrators over the area):
//! `GET`/`POST /webhooks`, `DELETE /webhooks/{id}`, `POST /webhooks/{id}/enable|disable`,
//! `GET /webhooks/{id}/deliveries` (the log) and `POST /webhooks/{id}/deliveries/{delivery}/replay`.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::wire::{WebhookDeliveryList, WebhookList, WebhookRequest};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::ValidJson;
use crate::queries;
use crate::state::AppState;
use crate::webhooks::subscriptions::{self, MANAGERS};

pub type WebhookBody = WebhookRequest;

pub async fn register(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<WebhookBody>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let view = state.db.run(move |conn| subscriptions::register(conn, &caller, &index, &body.0)).await?;
    Ok(HttpResponse::Created().json(view))
}

pub async fn list(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.require_any(&MANAGERS)?;
    let index = state.areas();
    let rows = state.db.run(|conn| Ok(queries::webhooks::subscriptions(conn)?)).await?;
    let webhooks = rows
        .iter()
        .filter(|r| subscriptions::manages(&caller, r, &index))
        .map(|r| subscriptions::view(r, None))
        .collect();
    Ok(HttpResponse::Ok().json(WebhookList { webhooks }))
}

pub async fn delete(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    state.db.run(move |conn| subscriptions::delete(conn, &caller, &index, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_enabled(caller: Caller, state: web::Data<AppState>, id: String, on: bool) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let view = state.db.run(move |conn| subscriptions::set_enabled(conn, &caller, &index, &id, on)).await?;
    state.changed();
    Ok(HttpResponse::Ok().json(view))
}

pub async fn enable(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    set_enabled(caller, state, path.into_inner(), true).await
}

pub async fn disable(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    set_enabled(caller, state, path.into_inner(), false).await
}

pub async fn deliveries(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    let rows = state
        .db
        .run(move |conn| {
            subscriptions::managed(conn, &caller, &index, &id)?;
            Ok(queries::webhooks::deliveries(conn, &id, 500)?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .json(WebhookDeliveryList { deliveries: rows.into_iter().map(subscriptions::delivery_view).collect() }))
}

pub async fn replay(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let (id, delivery) = path.into_inner();
    let view = state.db.run(move |conn| subscriptions::replay(conn, &caller, &index, &id, &delivery)).await?;
    state.changed();
    Ok(HttpResponse::Ok().json(view))
}
