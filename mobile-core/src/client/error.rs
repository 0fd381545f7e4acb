//! The client's one error type. Small on purpose: apps switch on the variant.

use crate::domain::error::DomainError;
use crate::wire::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or did not answer in time; queued work waits.
    #[error("network: {0}")]
    Network(String),
    /// Sign in again: the session is gone.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The input or the action is not allowed, as the server would say.
    #[error("{field}: {message}")]
    Validation { field: String, code: String, message: String },
    /// The event is not in a state for this (reassigned meanwhile, already done …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The local database failed.
    #[error("storage: {0}")]
    Storage(String),
    #[error("{0}")]
    Other(String),
}

/// A refusal decided on the phone is classified as the server classifies it (`wire::ErrorCode`).
impl From<DomainError> for ClientError {
    fn from(e: DomainError) -> Self {
        match ErrorCode::of_refusal(e.code) {
            ErrorCode::Conflict => ClientError::Conflict(e.message),
            _ => ClientError::Validation { field: e.field.to_owned(), code: e.code.to_owned(), message: e.message },
        }
    }
}

impl From<rusqlite::Error> for ClientError {
    fn from(e: rusqlite::Error) -> Self {
        ClientError::Storage(e.to_string())
    }
}

impl From<serde_json::Error> for ClientError {
    fn from(e: serde_json::Error) -> Self {
        ClientError::Storage(format!("corrupt local data: {e}"))
    }
}

pub type ClientResult<T> = Result<T, ClientError>;
