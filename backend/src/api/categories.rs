//! The category catalog: read it (JSON or CSV), replace rows from CSV (administrators).

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::Role;
use gridwork_mobile_core::wire::CategoryList;

use crate::auth::Caller;
use crate::catalog;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn list(_caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let cats = state.db.run(catalog::all).await?;
    Ok(HttpResponse::Ok().json(CategoryList { categories: cats }))
}

pub async fn export_csv(_caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let cats = state.db.run(catalog::all).await?;
    Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(catalog::to_csv(&cats)?))
}

pub async fn import_csv(caller: Caller, state: web::Data<AppState>, body: web::Bytes) -> ApiResult<HttpResponse> {
    caller.require_over(&[Role::Admin], None, &*state.areas())?;
    let actor = caller.user.id.clone();
    let summary = state.db.run(move |conn| catalog::import_csv(conn, &body, Some(&actor))).await?;
    Ok(HttpResponse::Ok().json(summary))
}
