use actix_web::{HttpRequest, HttpResponse, web};
use gridwork_mobile_core::wire::{LoginAnswer, Status};

use crate::accounts::{self, LoginRequest};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::ValidJson;
use crate::models::now;
use crate::queries;
use crate::state::AppState;

/// The body of a sign-in: the wire's, checked on arrival.
pub type LoginBody = gridwork_mobile_core::wire::LoginRequest;

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
    Ok(HttpResponse::Ok().json(LoginAnswer {
        token: outcome.token,
        token_type: "Bearer".into(),
        expires_at: outcome.expires_at.and_utc(),
        user: outcome.user.view(true),
    }))
}

pub async fn logout(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let session_id = caller.session_id.clone();
    state.db.run(move |conn| Ok(queries::sessions::revoke(conn, &session_id, now())?)).await?;
    Ok(HttpResponse::Ok().json(Status { status: "signed_out".into(), database: None }))
}
