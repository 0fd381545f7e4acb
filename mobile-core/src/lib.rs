//! Gridwork's shared core.
//!
//! [`domain`] is pure: no I/O, no database, no HTTP, so the server and the phone apps compile the
//! same rules. I/O parts (the offline queue and sync of the field client) live behind the `client`
//! feature and are added by later work.

pub mod domain;
pub mod photo;
#[cfg(feature = "fixtures")]
pub mod photo_fixtures;

pub use domain::{
    area::{AreaCode, AreaLevel},
    error::DomainError,
    role::{Role, RoleGrant, Scope},
    user::{Password, Username},
};
