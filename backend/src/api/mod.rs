//! The HTTP API, version 1. Each module owns a group of routes.

use actix_web::web;

use crate::http::metrics;

pub mod auth;
pub mod departments;
pub mod health;
pub mod me;
pub mod users;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::endpoint))
        .service(
            web::scope("/api/v1")
                .route("/auth/login", web::post().to(auth::login))
                .route("/auth/logout", web::post().to(auth::logout))
                .route("/me", web::get().to(me::me))
                .route("/me/password", web::post().to(me::change_password))
                .route("/users", web::get().to(users::list))
                .route("/users", web::post().to(users::create))
                .route("/users/{id}", web::get().to(users::get))
                .route("/users/{id}", web::patch().to(users::update))
                .route("/users/{id}/revoke-sessions", web::post().to(users::revoke_sessions))
                .route("/users/{id}/roles", web::post().to(users::grant_role))
                .route("/users/{id}/roles/{assignment_id}", web::delete().to(users::revoke_role))
                .route("/departments", web::get().to(departments::list))
                .route("/departments", web::post().to(departments::create)),
        );
}
