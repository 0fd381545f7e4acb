//! `GET /privacy/report`: the data-protection record, for system administrators.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::Role;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn report(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.require_over(&[Role::Admin], None, &*state.areas())?;
    let settings = state.settings.clone();
    let report = state.db.run(move |conn| crate::privacy::report(conn, &settings, crate::models::now())).await?;
    Ok(HttpResponse::Ok().json(report))
}
