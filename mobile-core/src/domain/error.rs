use thiserror::Error;

/// Why a domain value was refused. `field` names the input at fault, `code` is stable and
/// machine-readable, so API errors and phone UIs can map it without parsing the message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl DomainError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self { field, code, message: message.into() }
    }
}
