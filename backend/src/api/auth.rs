use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use validator::Validate;

use crate::accounts::{self, LoginRequest};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::ValidJson;
use crate::models::now;
use crate::models::user::UserView;
use crate::queries;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[validate(length(min = 1, max = 64, message = "username is required"))]
    pub username: String,
    #[validate(length(min = 1, max = 256, message = "password is required"))]
    pub password: String,
}

#[derive(Debug, Serialize)]
pub struct LoginResponse {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: UserView,
}

pub fn client_ip(req: &HttpRequest, state: &AppState) -> Option<String> {
    if state.settings.trust_forwarded_for {
        req.connection_info().realip_remote_addr().map(str::to_owned)
    } else {
        req.peer_addr().map(|a| a.ip().to_string())
    }
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ValidJson<LoginBody>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let login = LoginRequest {
        username: body.username,
        password: body.password,
        ip: client_ip(&req, &state),
        user_agent: req
            .headers()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect()),
    };
    let policy = state.settings.throttle.clone();
    let ttl = state.settings.session_ttl;
    let outcome = state.db.run(move |conn| accounts::login(conn, &login, &policy, ttl)).await?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        token: outcome.token,
        token_type: "Bearer",
        expires_at: outcome.expires_at.and_utc(),
        user: outcome.user.view(true),
    }))
}

pub async fn logout(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let session_id = caller.session_id.clone();
    state.db.run(move |conn| Ok(queries::sessions::revoke(conn, &session_id, now())?)).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "signed_out"})))
}
