//! The seven-level area map on H3: geometry helpers, GeoJSON import with validation, the
//! in-memory lookup index and the generated demo city.

pub mod demo_city;
pub mod geometry;
pub mod import;
pub mod index;
pub mod levels;
pub mod store;
pub mod validity;

pub use index::{AreaIndex, AreaInput, SharedIndex};
