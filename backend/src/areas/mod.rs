//! The seven-level area map on H3: geometry helpers, GeoJSON import with validation, the
//! in-memory lookup index and the generated demo city.

pub mod demo_city;
pub mod geometry;
pub mod import;
pub mod index;
pub mod levels;
pub mod store;
mod tiles;
pub mod validity;

pub use index::{AreaIndex, AreaInput, Chain, SharedIndex};

/// An area code sent in `field` that names a mapped area; refusals name the field.
pub fn mapped_area(
    index: &AreaIndex,
    field: &str,
    raw: &str,
) -> crate::error::ApiResult<gridwork_mobile_core::AreaCode> {
    let area = gridwork_mobile_core::AreaCode::parse(raw.trim())
        .map_err(|e| crate::error::ApiError::field(field, e.code, e.message))?;
    if index.get(area.as_str()).is_none() {
        return Err(crate::error::ApiError::field(field, "unknown_area", format!("no mapped area {area}")));
    }
    Ok(area)
}
