//! One error type for the whole API. Every error leaves the server with the same JSON shape:
//! `{"error": "<stable_code>", "message": "...", "fields": {...}, "request_id": "..."}`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use gridwork_mobile_core::DomainError;

use crate::http::request_id;

use gridwork_mobile_core::wire::ErrorBody;
pub use gridwork_mobile_core::wire::{ErrorCode, FieldError};

fn http_status(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Field name → what is wrong with it (a stable code per field).
    pub fields: BTreeMap<String, FieldError>,
    /// Seconds the client should wait before retrying (sent as `Retry-After`).
    pub retry_after: Option<u64>,
    /// A structured report that explains the error in full (e.g. every defect of an import).
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    /// The error body without the request envelope (for per-item results of bulk calls).
    pub fn body(&self) -> ErrorBody {
        let message = if http_status(self.code).is_server_error() { "internal error" } else { self.message.as_str() };
        ErrorBody {
            error: self.code,
            message: message.to_owned(),
            fields: self.fields.clone(),
            request_id: None,
            retry_after_seconds: None,
            details: None,
        }
    }

    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), fields: BTreeMap::new(), retry_after: None, details: None }
    }

    pub fn with_field(mut self, field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        self.fields.insert(field.into(), FieldError { code: code.into(), message: message.into() });
        self
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(ErrorCode::ValidationFailed, format!("{field}: {message}")).with_field(field, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    /// A refusal of a shared-core rule: permission 403, wrong state 409, input 422.
    pub fn refusal(e: gridwork_mobile_core::DomainError) -> Self {
        Self::new(ErrorCode::of_refusal(e.code), e.message.clone()).with_field(e.field, e.code, e.message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorCode::Unavailable, message);
        e.retry_after = Some(1);
        e
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::field(e.field, e.code, e.message)
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = ApiError::new(ErrorCode::ValidationFailed, "request body failed validation");
        for (field, errs) in errors.field_errors() {
            if let Some(first) = errs.first() {
                let message = first.message.as_ref().map_or_else(|| format!("invalid {field}"), ToString::to_string);
                out = out.with_field(field.to_string(), first.code.to_string(), message);
            }
        }
        out
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::not_found("not found"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                ApiError::conflict(format!("already exists: {}", info.message()))
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => ApiError::new(
                ErrorCode::ValidationFailed,
                format!("refers to something that does not exist: {}", info.message()),
            ),
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                ApiError::unavailable("database connection lost")
            }
            other => ApiError::internal(format!("database error: {other}")),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        http_status(self.code)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let request_id = request_id::current();
        // Internal details stay in the log; the client gets the request id to quote.
        let message = if status.is_server_error() {
            tracing::error!(error = %self.message, code = ?self.code, "request failed");
            match self.code {
                ErrorCode::Unavailable => "the service is temporarily unavailable, retry shortly",
                _ => "internal error; quote the request id when reporting it",
            }
        } else {
            self.message.as_str()
        };
        let mut builder = HttpResponse::build(status);
        if let Some(secs) = self.retry_after {
            builder.insert_header(("Retry-After", secs.to_string()));
        }
        builder.json(ErrorBody {
            error: self.code,
            message: message.to_owned(),
            fields: self.fields.clone(),
            request_id,
            retry_after_seconds: self.retry_after,
            details: self.details.clone(),
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
