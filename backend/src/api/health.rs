use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;
use gridwork_mobile_core::wire::Status;

use crate::db::migrate;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The process is up. Says nothing about dependencies, so orchestrators don't restart a
/// healthy process because its database blinked.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Status { status: "ok".into(), database: None })
}

/// Ready to serve: the database answers and every migration is applied.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let backend = state.db.backend();
    let result = state
        .db
        .run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            let pending = migrate::has_pending(conn)
                .map_err(|e| ApiError::unavailable(format!("migration check failed: {e}")))?;
            Ok(pending)
        })
        .await;
    match result {
        Ok(false) => Ok(HttpResponse::Ok()
            .json(Status { status: "ready".into(), database: Some(format!("{backend:?}").to_lowercase()) })),
        Ok(true) => Err(ApiError::new(ErrorCode::Unavailable, "migrations are pending; run `gridwork migrate`")),
        Err(e) => {
            tracing::warn!(error = %e.message, "not ready");
            let mut err = ApiError::new(ErrorCode::Unavailable, "database unreachable");
            err.retry_after = Some(5);
            Err(err)
        }
    }
}
