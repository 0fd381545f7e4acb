//! Queries, written once against `db::schema` and run on either backend. Each takes a
//! `&mut DbConn` so callers choose the transaction.

pub mod areas;
pub mod audit;
pub mod categories;
pub mod cluster;
pub mod departments;
pub mod emergency;
pub mod erasure;
pub mod evaluation;
pub mod events;
pub mod evidence;
pub mod hotline;
pub mod hotspots;
pub mod milestones;
pub mod open311;
pub mod open_data;
pub mod personal_data;
pub mod push;
pub mod reports;
pub mod roles;
pub mod sensing;
pub mod sessions;
pub mod tasks;
pub mod throttle;
pub mod users;
pub mod volunteers;
pub mod webhooks;
pub mod workers;
