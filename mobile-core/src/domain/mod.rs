//! Pure domain types. Every constructor validates ("parse, don't validate"): holding a value of
//! one of these types proves it is well-formed.

pub mod area;
pub mod category;
pub mod crs;
pub mod error;
pub mod event;
pub mod role;
pub mod user;
