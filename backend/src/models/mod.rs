//! Row structs and their insert/update forms, one module per table. Queries live in `queries`.

pub mod area;
pub mod audit;
pub mod category;
pub mod department;
pub mod emergency;
pub mod erasure;
pub mod event;
pub mod evidence;
pub mod hotline;
pub mod hotspot;
pub mod open311;
pub mod push;
pub mod report;
pub mod role_assignment;
pub mod sensing;
pub mod session;
pub mod throttle;
pub mod user;
pub mod volunteer;
pub mod webhook;
pub mod worker;

/// Timestamps are stored as naive UTC (portable across both backends) and shown as RFC 3339 UTC.
pub fn utc<S: serde::Serializer>(t: &chrono::NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&t.and_utc(), s)
}

/// [`utc`] for optional timestamps.
#[allow(clippy::ref_option)] // serde's `serialize_with` hands over a reference to the field
pub fn utc_opt<S: serde::Serializer>(t: &Option<chrono::NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&t.map(|t| t.and_utc()), s)
}

/// The current time, to the microsecond: what PostgreSQL keeps, so a value read back equals the
/// value written on both backends (the timeline's hashes depend on it).
pub fn now() -> chrono::NaiveDateTime {
    chrono::SubsecRound::trunc_subsecs(chrono::Utc::now().naive_utc(), 6)
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
