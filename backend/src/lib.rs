//! Gridwork's server: accounts, areas and the event loop over SQLite or PostgreSQL.

// libpq links this vendored OpenSSL (TLS to PostgreSQL); naming it keeps the feature built.
use openssl_sys as _;

pub mod accounts;
pub mod api;
pub mod areas;
mod areas_cli;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod department_systems;
pub mod duty;
pub mod emergency;
pub mod error;
pub mod events;
pub mod evidence;
pub mod hotline;
pub mod http;
pub mod models;
pub mod open311;
pub mod open_data;
pub mod personal_data;
pub mod privacy;
pub mod push;
pub mod queries;
pub mod reports;
pub mod retention;
pub mod roster;
pub mod sensing;
pub mod special_operations;
pub mod standing;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod volunteers;
pub mod webhooks;
