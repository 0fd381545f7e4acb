use actix_web::{HttpResponse, web};
use gridwork_mobile_core::Password;
use gridwork_mobile_core::wire::{Me, SessionsRevoked};
use serde::Deserialize;
use validator::Validate;

use crate::accounts;
use crate::auth::{Caller, password};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ValidJson;
use crate::state::AppState;

pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(Me { user: caller.user.view(true), roles: caller.grants })
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    #[validate(length(min = 1, message = "current_password is required"))]
    pub current_password: String,
    pub new_password: String,
}

/// Changing one's own password needs the current one and signs out every other device.
pub async fn change_password(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<ChangePasswordBody>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let new = Password::parse(&body.new_password).map_err(|e| ApiError::field("new_password", e.code, e.message))?;
    if !password::verify(&body.current_password, &caller.user.password_hash) {
        return Err(ApiError::field("current_password", "wrong_password", "the current password is wrong"));
    }
    let (user_id, session) = (caller.user.id.clone(), caller.session_id.clone());
    let revoked =
        state.db.run(move |conn| accounts::set_password(conn, &user_id, &new, Some(&user_id), Some(&session))).await?;
    Ok(HttpResponse::Ok().json(SessionsRevoked { status: Some("password_changed".into()), sessions_revoked: revoked }))
}
