//! Data subject rights over HTTP: `GET /me/data-export` (the person's own copy, a ZIP),
//! `GET`/`POST /me/erasure-requests` (asking for erasure), `GET /erasure-requests` and
//! `POST /erasure-requests/{id}/decision` (administrators over the person's area; the person
//! withdraws through the latter too).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use gridwork_mobile_core::domain::erasure::ErasureState;
use gridwork_mobile_core::wire::{ErasureDecisionRequest, ErasureRequestList};
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::ValidJson;
use crate::personal_data::erasure::{self, DECIDERS};
use crate::personal_data::export;
use crate::queries;
use crate::state::AppState;

pub type DecisionBody = ErasureDecisionRequest;

/// The caller's own data as a ZIP: `data.json` and their photos. Each export is audited.
pub async fn data_export(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let user = caller.user.id.clone();
    let data = state
        .db
        .run(move |conn| {
            queries::audit::record(conn, Some(&user), "data.export", &user, "")?;
            export::collect(conn, &user)
        })
        .await?;
    let bytes = export::archive(data, &state.photos).await?;
    let name = format!("gridwork-data-{}.zip", chrono::Utc::now().format("%Y%m%d"));
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}

/// The person asks for their personal data to be erased.
pub async fn request(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let view = state.db.run(move |conn| erasure::request(conn, &caller)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// The caller's own erasure requests, newest first.
pub async fn mine(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let user = caller.user.id.clone();
    let requests = state.db.run(move |conn| erasure::of_person(conn, &user)).await?;
    Ok(HttpResponse::Ok().json(ErasureRequestList { requests }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `requested`, `erased`, `declined` or `withdrawn` [default: all]
    pub state: Option<String>,
}

/// How many requests one list reads before keeping those in reach.
const LIST_LIMIT: i64 = 1000;

/// Erasure requests the caller decides (administrators over the person's areas), newest first.
pub async fn list(caller: Caller, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    caller.require_any(&DECIDERS)?;
    // A bad state names the `state` field (the domain's refusal).
    let wanted = q.state.as_deref().map(str::parse::<ErasureState>).transpose()?;
    let index = state.areas();
    let rows =
        state.db.run(move |conn| Ok(queries::erasure::list(conn, wanted.map(|s| s.as_str()), LIST_LIMIT)?)).await?;
    let mut requests = vec![];
    for (row, name) in rows {
        let view = erasure::view(row, name)?;
        if erasure::decides_over(&caller, &view.areas, &index) {
            requests.push(view);
        }
    }
    Ok(HttpResponse::Ok().json(ErasureRequestList { requests }))
}

/// Carry out or decline (an administrator over the person's areas), or withdraw (the person).
pub async fn decide(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<DecisionBody>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    let view = state.db.run(move |conn| erasure::decide(conn, &caller, &index, &id, &body.0)).await?;
    Ok(HttpResponse::Ok().json(view))
}
