use actix_web::{HttpResponse, web};
use gridwork_mobile_core::wire::DepartmentList;
use gridwork_mobile_core::{AreaCode, Role};
use serde::Deserialize;
use validator::Validate;

use crate::accounts;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::ValidJson;
use crate::queries;
use crate::state::AppState;

pub async fn list(_caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state.db.run(|conn| Ok(queries::departments::list(conn)?)).await?;
    Ok(HttpResponse::Ok().json(DepartmentList { departments: rows.iter().map(|d| d.view()).collect() }))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartmentBody {
    #[validate(length(min = 1, max = 64, message = "code must be 1 to 64 characters"))]
    pub code: String,
    #[validate(length(min = 1, max = 100, message = "name must be 1 to 100 characters"))]
    #[validate(custom(function = "crate::http::extract::not_blank"))]
    pub name: String,
    pub area_code: String,
}

pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<CreateDepartmentBody>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let area = AreaCode::parse(&body.area_code)?;
    caller.require_over(&[Role::Admin], Some(&area), &*state.areas())?;
    let actor = caller.user.id.clone();
    let dept = state
        .db
        .run(move |conn| accounts::create_department(conn, body.code.trim(), &body.name, &area, Some(&actor)))
        .await?;
    Ok(HttpResponse::Created().json(dept.view()))
}
