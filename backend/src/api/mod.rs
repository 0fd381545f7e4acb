//! The HTTP API, version 1. Each module owns a group of routes.

use actix_web::web;

use crate::http::metrics;

pub mod areas;
pub mod auth;
pub mod categories;
pub mod departments;
pub mod duty;
pub mod evaluation;
pub mod events;
pub mod evidence;
pub mod health;
pub mod live;
pub mod me;
pub mod push;
pub mod users;

/// Routes are grouped by resource so that a known path with the wrong method answers 405.
pub fn routes(cfg: &mut web::ServiceConfig, import_limit: usize, chunk_limit: usize) {
    cfg.service(web::resource("/healthz").get(health::healthz))
        .service(web::resource("/readyz").get(health::readyz))
        .service(web::resource("/metrics").get(metrics::endpoint))
        .service(
            web::scope("/api/v1")
                .service(web::resource("/auth/login").post(auth::login))
                .service(web::resource("/auth/logout").post(auth::logout))
                .service(web::resource("/me").get(me::me))
                .service(web::resource("/me/password").post(me::change_password))
                .service(web::resource("/users").get(users::list).post(users::create))
                .service(web::resource("/users/{id}").get(users::get).patch(users::update))
                .service(web::resource("/users/{id}/revoke-sessions").post(users::revoke_sessions))
                .service(web::resource("/users/{id}/roles").post(users::grant_role))
                .service(web::resource("/users/{id}/roles/{assignment_id}").delete(users::revoke_role))
                .service(web::resource("/departments").get(departments::list).post(departments::create))
                // Registered before `/areas/{code}` so that `lookup` and `import` are not codes.
                .service(web::resource("/areas/lookup").get(areas::lookup))
                .service(
                    web::resource("/areas/import").app_data(web::PayloadConfig::new(import_limit)).post(areas::import),
                )
                .service(web::resource("/me/duty").get(duty::get).put(duty::set))
                .service(web::resource("/me/location").post(duty::location))
                .service(web::resource("/devices").get(push::list_devices).post(push::register))
                .service(web::resource("/devices/{id}").delete(push::unregister))
                .service(web::resource("/notifications").get(push::inbox))
                .service(web::resource("/notifications/{id}/ack").post(push::ack))
                .service(web::resource("/events").get(events::list).post(events::report))
                // Registered before `/events/{id}` so that `stream` and `bulk` are not ids.
                .service(web::resource("/events/stream").get(live::stream))
                .service(web::resource("/events/bulk").post(events::bulk))
                .service(web::resource("/events/{id}").get(events::get))
                .service(web::resource("/events/{id}/actions").post(events::act))
                .service(web::resource("/events/{id}/split").post(events::split))
                .service(web::resource("/events/{id}/evidence").get(evidence::of_event))
                .service(web::resource("/evidence").post(evidence::upload))
                // Registered before `/evidence/{id}` so that `uploads` is not an id.
                .service(web::resource("/evidence/uploads").post(evidence::begin))
                .service(
                    web::resource("/evidence/uploads/{id}")
                        .app_data(web::PayloadConfig::new(chunk_limit))
                        .get(evidence::upload_status)
                        .put(evidence::upload_chunk),
                )
                .service(web::resource("/evidence/{id}").get(evidence::get))
                .service(web::resource("/evidence/{id}/photo").get(evidence::photo))
                .service(web::resource("/evidence/{id}/thumbnail").get(evidence::thumbnail))
                .service(web::resource("/tasks/mine").get(live::my_tasks))
                .service(web::resource("/evaluation").get(evaluation::evaluate))
                .service(web::resource("/categories").get(categories::list))
                .service(web::resource("/categories.csv").get(categories::export_csv))
                .service(web::resource("/categories/import").post(categories::import_csv))
                .service(web::resource("/areas").get(areas::list))
                .service(web::resource("/areas/{code}").get(areas::get))
                .service(web::resource("/areas/{code}/cells").get(areas::cells)),
        );
}
