//! Extractors and handlers that turn every malformed request into the one error shape, with the
//! field at fault where there is one.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::{Payload, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::{ApiError, ErrorCode};

/// A JSON body that parsed and passed its `validator` rules. Handlers that take it cannot forget
/// to validate.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the body as Content-Type: application/json",
                ));
            }
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::PayloadTooLarge, "request body is too large")
                } else {
                    ApiError::new(ErrorCode::InvalidJson, format!("could not read the request body: {e}"))
                }
            })?;
            let value: T = parse_json(&bytes)?;
            value.validate()?;
            Ok(ValidJson(value))
        })
    }
}

/// Parses JSON and names the field at fault: syntax errors (truncated bodies, trailing bytes
/// after the value) are `invalid_json`; a body that is not an object, type and missing-field
/// errors are `validation_failed` on that field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // The whole body must be one JSON value: serde_json's `from_slice` refuses trailing bytes.
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("malformed JSON: {e}")))?;
    // Every request body is an object; serde would happily read `[1, 2]` as a tuple struct.
    let Some(object) = value.as_object() else {
        return Err(ApiError::field("body", "invalid_type", "the body must be a JSON object"));
    };
    check_tags(object, "")?;
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let msg = err.into_inner().to_string();
        // serde reports a missing field at its parent's path; the name is in the message.
        let qualify = |f: &str| if path == "." { f.to_owned() } else { format!("{path}.{f}") };
        let (field, code) = if let Some(f) = quoted_after(&msg, "missing field `") {
            (qualify(f), "required")
        } else if msg.starts_with("unknown field `") {
            // Here serde's path already ends at the unknown field.
            (path.trim_start_matches('.').to_owned(), "unknown_field")
        } else if path == "." {
            ("body".to_owned(), "invalid_type")
        } else {
            (path, "invalid_type")
        };
        ApiError::field(&field, code, msg)
    })
}

/// Enum tags (`"action": "accept"`) are named by strings: serde also takes a variant's index, so
/// `{"action": 7}` would silently mean the eighth action.
pub fn check_tags(object: &serde_json::Map<String, serde_json::Value>, prefix: &str) -> Result<(), ApiError> {
    match object.get("action") {
        Some(serde_json::Value::Number(_)) => {
            Err(ApiError::field(&format!("{prefix}action"), "invalid_type", "an action is named by a string"))
        }
        _ => Ok(()),
    }
}

fn quoted_after<'a>(msg: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = msg.strip_prefix(prefix)?;
    rest.split('`').next()
}

#[allow(clippy::needless_pass_by_value, reason = "actix error-handler signature")]
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidQuery, format!("invalid query string: {err}")).into()
}

#[allow(clippy::needless_pass_by_value, reason = "actix error-handler signature")]
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidPath, format!("invalid path parameter: {err}")).into()
}

/// Unknown routes.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("no route for {} {}", req.method(), req.path())))
}

/// Errors that actix itself produces (405, payload errors before a handler ran, …) arrive with
/// an empty or plain-text body; give them the one JSON shape too.
pub fn json_error_body<B: 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Our own answers (JSON, and the Open311 door's XML) stand; actix's plain ones are rewritten.
    let ours = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v == HeaderValue::from_static("application/json") || v.to_str().is_ok_and(|t| t.starts_with("text/xml"))
    });
    if ours {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = match status.as_u16() {
        400 => ErrorCode::InvalidJson,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        503 => ErrorCode::Unavailable,
        _ if status.is_client_error() => ErrorCode::InvalidJson,
        _ => ErrorCode::Internal,
    };
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    let mut body: HttpResponse = ApiError::new(code, reason).error_response();
    *body.status_mut() = status;
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, body).map_into_right_body()))
}

/// A `validator` rule: text that is more than whitespace (`length(min = 1)` lets "   " through);
/// the wire's, so the request types there and here refuse the same text.
pub use gridwork_mobile_core::wire::not_blank;
