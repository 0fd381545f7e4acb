//! The HTTP API, version 1. Each module owns a group of routes.

use actix_web::http::Method;
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

/// One path and what it answers: the route table the server registers and tests enumerate (the
/// scope matrix fails for a route it has no expectation for).
pub struct Endpoint {
    pub path: &'static str,
    pub methods: Vec<(Method, actix_web::Route)>,
    /// A body limit other than the server's default.
    pub payload_limit: Option<usize>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let methods: Vec<&Method> = self.methods.iter().map(|(m, _)| m).collect();
        f.debug_struct("Endpoint").field("path", &self.path).field("methods", &methods).finish_non_exhaustive()
    }
}

fn at(path: &'static str) -> Endpoint {
    Endpoint { path, methods: Vec::new(), payload_limit: None }
}

macro_rules! verb {
    ($name:ident, $method:ident) => {
        fn $name<F, Args>(mut self, handler: F) -> Self
        where
            F: actix_web::Handler<Args>,
            Args: actix_web::FromRequest + 'static,
            F::Output: actix_web::Responder + 'static,
        {
            self.methods.push((Method::$method, web::route().method(Method::$method).to(handler)));
            self
        }
    };
}

impl Endpoint {
    verb!(get, GET);
    verb!(post, POST);
    verb!(put, PUT);
    verb!(patch, PATCH);
    verb!(delete, DELETE);

    fn limit(mut self, bytes: usize) -> Self {
        self.payload_limit = Some(bytes);
        self
    }
}

/// Every endpoint, in registration order (literal segments before `{id}` of the same prefix, so
/// that `stream` or `uploads` is not taken for an id). Paths under `/api/v1` start with it.
pub fn endpoints(import_limit: usize, chunk_limit: usize) -> Vec<Endpoint> {
    vec![
        at("/healthz").get(health::healthz),
        at("/readyz").get(health::readyz),
        at("/metrics").get(metrics::endpoint),
        at("/api/v1/auth/login").post(auth::login),
        at("/api/v1/auth/logout").post(auth::logout),
        at("/api/v1/me").get(me::me),
        at("/api/v1/me/password").post(me::change_password),
        at("/api/v1/users").get(users::list).post(users::create),
        at("/api/v1/users/{id}").get(users::get).patch(users::update),
        at("/api/v1/users/{id}/revoke-sessions").post(users::revoke_sessions),
        at("/api/v1/users/{id}/roles").post(users::grant_role),
        at("/api/v1/users/{id}/roles/{assignment_id}").delete(users::revoke_role),
        at("/api/v1/departments").get(departments::list).post(departments::create),
        at("/api/v1/areas/lookup").get(areas::lookup),
        at("/api/v1/areas/import").post(areas::import).limit(import_limit),
        at("/api/v1/me/duty").get(duty::get).put(duty::set),
        at("/api/v1/me/location").post(duty::location),
        at("/api/v1/devices").get(push::list_devices).post(push::register),
        at("/api/v1/devices/{id}").delete(push::unregister),
        at("/api/v1/notifications").get(push::inbox),
        at("/api/v1/notifications/{id}/ack").post(push::ack),
        at("/api/v1/events").get(events::list).post(events::report),
        at("/api/v1/events/stream").get(live::stream),
        at("/api/v1/events/bulk").post(events::bulk),
        at("/api/v1/events/{id}").get(events::get),
        at("/api/v1/events/{id}/actions").post(events::act),
        at("/api/v1/events/{id}/split").post(events::split),
        at("/api/v1/events/{id}/evidence").get(evidence::of_event),
        at("/api/v1/evidence").post(evidence::upload),
        at("/api/v1/evidence/uploads").post(evidence::begin),
        at("/api/v1/evidence/uploads/{id}").get(evidence::upload_status).put(evidence::upload_chunk).limit(chunk_limit),
        at("/api/v1/evidence/{id}").get(evidence::get),
        at("/api/v1/evidence/{id}/photo").get(evidence::photo),
        at("/api/v1/evidence/{id}/thumbnail").get(evidence::thumbnail),
        at("/api/v1/tasks/mine").get(live::my_tasks),
        at("/api/v1/evaluation").get(evaluation::evaluate),
        at("/api/v1/categories").get(categories::list),
        at("/api/v1/categories.csv").get(categories::export_csv),
        at("/api/v1/categories/import").post(categories::import_csv),
        at("/api/v1/areas").get(areas::list),
        at("/api/v1/areas/{code}").get(areas::get),
        at("/api/v1/areas/{code}/cells").get(areas::cells),
    ]
}

/// (method, path) of every route the server answers.
pub fn route_table() -> Vec<(Method, &'static str)> {
    endpoints(0, 0).into_iter().flat_map(|e| e.methods.into_iter().map(move |(m, _)| (m, e.path))).collect()
}

/// Registers the endpoints, one resource per path, so that a known path with the wrong method
/// answers 405.
pub fn routes(cfg: &mut web::ServiceConfig, import_limit: usize, chunk_limit: usize) {
    for e in endpoints(import_limit, chunk_limit) {
        let mut resource = web::resource(e.path);
        if let Some(limit) = e.payload_limit {
            resource = resource.app_data(web::PayloadConfig::new(limit));
        }
        for (_, route) in e.methods {
            resource = resource.route(route);
        }
        cfg.service(resource);
    }
}
