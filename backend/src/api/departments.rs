use actix_web::{HttpResponse, web};
use gridwork_mobile_core::wire::DepartmentList;
use gridwork_mobile_core::{AreaCode, Role};
use serde::Deserialize;
use validator::Validate;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::ValidJson;
use crate::queries;
use crate::state::AppState;
use crate::{accounts, department_systems};

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

pub type SystemBody = gridwork_mobile_core::wire::DepartmentSystemRequest;

/// Registers a department's system; the answer carries its API key, the only time it is shown.
pub async fn register_system(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<SystemBody>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let code = path.into_inner();
    let view = state.db.run(move |conn| department_systems::register(conn, &caller, &index, &code, &body.0)).await?;
    Ok(HttpResponse::Created().json(view))
}

/// A department's systems in the caller's reach (administrators over their areas).
pub async fn systems(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    caller.require_any(&department_systems::MANAGERS)?;
    let index = state.areas();
    let code = path.into_inner();
    let systems = state
        .db
        .run(move |conn| {
            let dept = department_systems::department(conn, &code)?;
            Ok(queries::departments::systems(conn, &dept.id)?
                .iter()
                .filter(|r| department_systems::manages(&caller, r, &index))
                .map(|r| department_systems::view(r, &dept.code, None))
                .collect())
        })
        .await?;
    Ok(HttpResponse::Ok().json(gridwork_mobile_core::wire::DepartmentSystemList { systems }))
}

pub async fn revoke_system(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let (code, id) = path.into_inner();
    let view = state.db.run(move |conn| department_systems::revoke(conn, &caller, &index, &code, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}
