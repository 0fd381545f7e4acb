//! The Open311 door's client applications: `GET`/`POST /open311/clients` and
//! `DELETE /open311/clients/{id}` (administrators over the client's jurisdiction). The door
//! itself is `crate::open311`, under `/open311/v2/`.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::wire::{Open311ClientList, Open311ClientRequest};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::ValidJson;
use crate::open311::clients::{self, MANAGERS};
use crate::queries;
use crate::state::AppState;

pub type ClientBody = Open311ClientRequest;

pub async fn register(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<ClientBody>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let view = state.db.run(move |conn| clients::register(conn, &caller, &index, &body.0)).await?;
    Ok(HttpResponse::Created().json(view))
}

pub async fn list(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.require_any(&MANAGERS)?;
    let index = state.areas();
    let rows = state.db.run(|conn| Ok(queries::open311::clients(conn)?)).await?;
    let clients =
        rows.iter().filter(|r| clients::manages(&caller, r, &index)).map(|r| clients::view(r, None)).collect();
    Ok(HttpResponse::Ok().json(Open311ClientList { clients }))
}

pub async fn revoke(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    let view = state.db.run(move |conn| clients::revoke(conn, &caller, &index, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}
