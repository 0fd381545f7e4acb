//! UniFFI bindings of `gridwork-mobile-core` for Kotlin, Swift and Python.
//!
//! Only proc-macro exports, kept thin: each export parses its input with the core's types and
//! maps errors through [`GridworkError`], the one small error enum foreign code sees. `field.rs`
//! exports the field client (offline queue and sync); its async methods run on tokio.

mod field;

use gridwork_mobile_core::{AreaCode, AreaLevel, DomainError, Password, Role, Username};

uniffi::setup_scaffolding!();

/// Every error a foreign caller can get. Kept small and stable: apps switch on the variant.
///
/// The human-readable text is `detail`, not `message`: generated Kotlin errors extend `Throwable`,
/// whose `message` a field of that name would clash with (Swift's `Error` has `localizedDescription`).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum GridworkError {
    #[error("network: {detail}")]
    Network { detail: String },
    #[error("unauthorized: {detail}")]
    Unauthorized { detail: String },
    #[error("{field}: {detail}")]
    Validation { field: String, code: String, detail: String },
    #[error("conflict: {reason}")]
    Conflict { reason: String },
    #[error("storage: {detail}")]
    Storage { detail: String },
    #[error("{detail}")]
    Other { detail: String },
}

/// Core refusals take the client's path, so apps see them classified as the server does.
impl From<DomainError> for GridworkError {
    fn from(e: DomainError) -> Self {
        gridwork_mobile_core::client::ClientError::from(e).into()
    }
}

/// The one place client errors become foreign errors.
impl From<gridwork_mobile_core::client::ClientError> for GridworkError {
    fn from(e: gridwork_mobile_core::client::ClientError) -> Self {
        use gridwork_mobile_core::client::ClientError as E;
        match e {
            E::Network(detail) => GridworkError::Network { detail },
            E::Unauthorized(detail) => GridworkError::Unauthorized { detail },
            E::Validation { field, code, message } => GridworkError::Validation { field, code, detail: message },
            E::Conflict(reason) => GridworkError::Conflict { reason },
            E::Storage(detail) => GridworkError::Storage { detail },
            E::Other(detail) => GridworkError::Other { detail },
        }
    }
}

/// The version of the core, so apps can report what they run.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Checks an area code as the server will, returning it normalised.
#[uniffi::export]
pub fn normalize_area_code(raw: &str) -> Result<String, GridworkError> {
    Ok(AreaCode::parse(raw)?.to_string())
}

/// Checks a username as the server will, returning it normalised (lower case).
#[uniffi::export]
pub fn normalize_username(raw: &str) -> Result<String, GridworkError> {
    Ok(Username::parse(raw)?.to_string())
}

/// Checks a new password against the server's policy before it is sent.
#[uniffi::export]
pub fn check_password(raw: &str) -> Result<(), GridworkError> {
    Password::parse(raw).map(drop).map_err(Into::into)
}

/// The role identifiers, in order from the public up to administrators.
#[uniffi::export]
pub fn role_names() -> Vec<String> {
    Role::ALL.iter().map(|r| r.as_str().to_owned()).collect()
}

/// The seven area levels, city first.
#[uniffi::export]
pub fn area_level_names() -> Vec<String> {
    AreaLevel::ALL.iter().map(|l| l.as_str().to_owned()).collect()
}

/// A photo ready to upload: metadata-free JPEG, its hash, and what the original said about itself.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ProcessedPhoto {
    pub jpeg: Vec<u8>,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// `jpeg`, `png` or `webp`.
    pub source_format: String,
    /// Camera local time `YYYY-MM-DD HH:MM:SS`, if the original carried it.
    pub taken_at: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// The EXIF orientation found (already applied to `jpeg`).
    pub orientation: u16,
}

/// Runs the evidence pipeline on a photo taken or picked on the phone, with the server's limits.
#[uniffi::export]
#[allow(clippy::needless_pass_by_value)] // UniFFI hands byte arrays over by value.
pub fn process_photo(bytes: Vec<u8>) -> Result<ProcessedPhoto, GridworkError> {
    let p = gridwork_mobile_core::photo::process(&bytes, &gridwork_mobile_core::photo::Limits::default())?;
    Ok(ProcessedPhoto {
        sha256: p.sha256,
        width: p.width,
        height: p.height,
        source_format: p.source_format.to_owned(),
        taken_at: p.capture.taken_at,
        lat: p.capture.gps.map(|g| g.0),
        lng: p.capture.gps.map(|g| g.1),
        orientation: p.capture.orientation,
        jpeg: p.jpeg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_validation_with_field_and_code() {
        match normalize_area_code("a b") {
            Err(GridworkError::Validation { field, code, .. }) => {
                assert_eq!(field, "area_code");
                assert_eq!(code, "invalid_format");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(normalize_username(" Wang.Li ").unwrap(), "wang.li");
        assert_eq!(role_names().len(), 8);
        assert_eq!(area_level_names().first().map(String::as_str), Some("city"));
    }
}
