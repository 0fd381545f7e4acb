//! Gridwork's shared core.
//!
//! [`domain`] is pure: no I/O, no database, no HTTP, so the server and the phone apps compile the
//! same rules. The field client (offline queue and sync, with SQLite and HTTP) lives behind the
//! `client` feature.

#[cfg(feature = "client")]
pub mod client;
pub mod domain;
pub mod hash;
pub mod photo;
#[cfg(feature = "fixtures")]
pub mod photo_fixtures;
pub mod wire;

pub use domain::{
    area::{AreaCode, AreaLevel},
    error::DomainError,
    role::{Role, RoleGrant, Scope},
    user::{Password, Username},
};
