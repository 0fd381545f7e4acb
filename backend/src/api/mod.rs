//! The HTTP API, version 1. Each module owns a group of routes.

use actix_web::http::Method;
use actix_web::web;

use crate::http::metrics;

pub mod areas;
pub mod auth;
pub mod categories;
pub mod density;
pub mod departments;
pub mod duty;
pub mod emergency;
pub mod evaluation;
pub mod events;
pub mod evidence;
pub mod health;
pub mod hotline;
pub mod hotspots;
pub mod live;
pub mod me;
pub mod open311;
pub mod open_data;
pub mod openapi;
pub mod paging;
pub mod personal_data;
pub mod pool;
pub mod privacy;
pub mod push;
pub mod reports;
pub mod sensing;
pub mod supervision;
pub mod users;
pub mod verify;
pub mod volunteers;
pub mod webhooks;
pub mod workforce;

/// What an operation takes as its body, for the OpenAPI document.
#[derive(Clone)]
pub enum Input {
    None,
    /// A JSON body of this schema (name and the schemas it needs).
    Json(String, Schemas),
    /// Another media type, taken as it is (multipart photos, GeoJSON, CSV, upload chunks).
    Raw(&'static str),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::None => f.write_str("None"),
            Input::Json(name, _) => write!(f, "Json({name})"),
            Input::Raw(media) => write!(f, "Raw({media})"),
        }
    }
}

/// One method of a path: its handler and how the document describes it.
pub struct Operation {
    pub method: Method,
    pub route: actix_web::Route,
    pub summary: &'static str,
    pub input: Input,
    /// The status of a successful answer, and its media type (`None`: no body).
    pub ok: (u16, Option<&'static str>),
    /// Answered without signing in.
    pub public: bool,
    /// Its query parameters.
    pub query: Vec<utoipa::openapi::path::Parameter>,
    /// The schema of a successful JSON answer, where it is typed (name and the schemas it needs).
    pub output: Option<(String, Schemas)>,
}

/// Named schemas an operation needs in the document's components.
pub type Schemas = Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>;

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("method", &self.method)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// One path and what it answers: the route table the server registers, tests enumerate (the
/// scope matrix fails for a route it has no expectation for) and the OpenAPI document describes.
pub struct Endpoint {
    pub path: &'static str,
    pub operations: Vec<Operation>,
    /// A body limit other than the server's default.
    pub payload_limit: Option<usize>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let methods: Vec<&Method> = self.operations.iter().map(|o| &o.method).collect();
        f.debug_struct("Endpoint").field("path", &self.path).field("methods", &methods).finish_non_exhaustive()
    }
}

fn at(path: &'static str) -> Endpoint {
    Endpoint { path, operations: Vec::new(), payload_limit: None }
}

macro_rules! verb {
    ($name:ident, $method:ident) => {
        fn $name<F, Args>(mut self, handler: F, summary: &'static str) -> Self
        where
            F: actix_web::Handler<Args>,
            Args: actix_web::FromRequest + 'static,
            F::Output: actix_web::Responder + 'static,
        {
            self.operations.push(Operation {
                method: Method::$method,
                route: web::route().method(Method::$method).to(handler),
                summary,
                input: Input::None,
                ok: (200, Some("application/json")),
                public: false,
                query: Vec::new(),
                output: None,
            });
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

    fn last(&mut self) -> &mut Operation {
        let n = self.operations.len();
        &mut self.operations[n - 1]
    }

    /// The last operation takes a JSON body of type `T`.
    fn json<T: utoipa::ToSchema>(mut self) -> Self {
        let (name, schemas) = schemas_of::<T>();
        self.last().input = Input::Json(name, schemas);
        self
    }

    /// The last operation answers with a JSON body of type `T` (extra keys may follow).
    fn returns<T: utoipa::ToSchema>(mut self) -> Self {
        self.last().output = Some(schemas_of::<T>());
        self
    }

    /// The last operation takes the query parameters of `T`.
    fn query<T: utoipa::IntoParams>(mut self) -> Self {
        self.last().query = T::into_params(|| Some(utoipa::openapi::path::ParameterIn::Query));
        self
    }

    /// The last operation takes a body of another media type.
    fn raw(mut self, media: &'static str) -> Self {
        self.last().input = Input::Raw(media);
        self
    }

    /// The last operation answers `status` with a body of `media` (`None`: no body).
    fn answers(mut self, status: u16, media: Option<&'static str>) -> Self {
        self.last().ok = (status, media);
        self
    }

    /// The last operation needs no sign-in.
    fn public(mut self) -> Self {
        self.last().public = true;
        self
    }

    fn limit(mut self, bytes: usize) -> Self {
        self.payload_limit = Some(bytes);
        self
    }
}

const JSON: Option<&str> = Some("application/json");

fn schemas_of<T: utoipa::ToSchema>() -> (String, Schemas) {
    let mut schemas = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut schemas);
    (T::name().into_owned(), schemas)
}

/// Every endpoint, in registration order (literal segments before `{id}` of the same prefix, so
/// that `stream` or `uploads` is not taken for an id). Paths under `/api/v1` start with it.
pub fn endpoints(import_limit: usize, chunk_limit: usize) -> Vec<Endpoint> {
    use gridwork_mobile_core::wire as w;
    use {
        auth as a, departments as d, duty as du, events as e, evidence as ev, supervision as sv, users as u,
        volunteers as vo,
    };
    vec![
        at("/healthz").get(health::healthz, "Liveness").returns::<w::Status>().public(),
        at("/readyz")
            .get(health::readyz, "Readiness: database reachable, migrations applied")
            .returns::<w::Status>()
            .public(),
        at("/metrics").get(metrics::endpoint, "Prometheus metrics").answers(200, Some("text/plain")).public(),
        at("/api/v1/openapi.json").get(openapi::document, "This OpenAPI document").public(),
        at("/api/v1/auth/login").post(a::login, "Sign in").json::<a::LoginBody>().returns::<w::LoginAnswer>().public(),
        at("/api/v1/auth/logout").post(a::logout, "Sign out this session").returns::<w::Status>(),
        at("/api/v1/me").get(me::me, "The signed-in user and their grants").returns::<w::Me>(),
        at("/api/v1/me/password")
            .post(me::change_password, "Change one's own password (signs out the other sessions)")
            .json::<me::ChangePasswordBody>()
            .returns::<w::SessionsRevoked>(),
        at("/api/v1/users")
            .get(u::list, "Users in the caller's reach")
            .query::<u::ListQuery>()
            .returns::<w::UserPage>()
            .post(u::create, "Create a user")
            .json::<u::CreateUserBody>()
            .answers(201, JSON)
            .returns::<w::UserWithRoles>(),
        at("/api/v1/users/{id}")
            .get(u::get, "A user in reach")
            .returns::<w::UserWithRoles>()
            .patch(u::update, "Enable, disable or set the password of a user in reach")
            .json::<u::UpdateUserBody>()
            .returns::<w::UserView>(),
        at("/api/v1/users/{id}/track")
            .get(u::track, "Where a worker was on duty (their coordinators; each read audited)")
            .query::<u::TrackQuery>()
            .returns::<w::Track>(),
        at("/api/v1/users/{id}/revoke-sessions")
            .post(u::revoke_sessions, "Sign a user out everywhere")
            .returns::<w::SessionsRevoked>(),
        at("/api/v1/users/{id}/roles")
            .post(u::grant_role, "Grant a role inside one's scope")
            .json::<u::GrantBody>()
            .answers(201, JSON)
            .returns::<w::Grant>(),
        at("/api/v1/users/{id}/roles/{assignment_id}")
            .delete(u::revoke_role, "Revoke a grant")
            .returns::<w::GrantRevoked>(),
        at("/api/v1/departments")
            .get(d::list, "Departments")
            .returns::<w::DepartmentList>()
            .post(d::create, "Create a department")
            .json::<d::CreateDepartmentBody>()
            .answers(201, JSON)
            .returns::<w::Department>(),
        at("/api/v1/areas/lookup")
            .get(areas::lookup, "The areas containing a point, city first")
            .query::<areas::LookupQuery>()
            .returns::<w::AreaLookup>(),
        at("/api/v1/areas/lookup/batch")
            .post(areas::lookup_batch, "The area codes containing each of up to 10,000 points, city first")
            .json::<areas::BatchBody>()
            .returns::<w::BatchLookup>(),
        at("/api/v1/areas/import")
            .post(areas::import, "Validate and import GeoJSON areas (all or nothing)")
            .query::<areas::ImportQuery>()
            .raw("application/geo+json")
            .returns::<crate::areas::import::Report>()
            .limit(import_limit),
        at("/api/v1/me/duty")
            .get(du::get, "Duty status")
            .returns::<w::DutyView>()
            .put(du::set, "Go on or off duty")
            .json::<du::DutyBody>()
            .returns::<w::DutyView>(),
        at("/api/v1/me/location")
            .post(du::location, "Location pings, batched")
            .json::<du::LocationBody>()
            .returns::<w::PingsStored>(),
        at("/api/v1/devices")
            .get(push::list_devices, "The caller's phones")
            .returns::<w::DeviceList>()
            .post(push::register, "Register a phone for push")
            .json::<push::DeviceBody>()
            .answers(201, JSON)
            .returns::<w::DeviceView>(),
        at("/api/v1/devices/{id}").delete(push::unregister, "Unregister a phone").answers(204, None),
        at("/api/v1/notifications")
            .get(push::inbox, "The caller's notifications")
            .query::<push::InboxQuery>()
            .returns::<w::Inbox>(),
        at("/api/v1/notifications/{id}/ack")
            .post(push::ack, "Acknowledge receipt or reading")
            .json::<push::AckBody>()
            .returns::<w::NotificationView>(),
        at("/api/v1/events")
            .get(e::list, "Events in reach, newest first, by cursor")
            .query::<e::ListQuery>()
            .returns::<w::EventPage>()
            .post(e::report, "Report a problem (Idempotency-Key header)")
            .json::<e::ReportBody>()
            .answers(201, JSON)
            .returns::<w::ReportAnswer>(),
        at("/api/v1/events/stream")
            .get(live::stream, "Server-sent changes in reach")
            .answers(200, Some("text/event-stream")),
        at("/api/v1/events/density")
            .get(density::density, "Events per H3 cell over the caller's area (ops centres)")
            .query::<density::DensityQuery>()
            .returns::<w::Density>(),
        at("/api/v1/hotspots")
            .get(
                hotspots::list,
                "Hotspots the scheduler found in the caller's streets, with their reports (ops centres)",
            )
            .query::<hotspots::HotspotQuery>()
            .returns::<w::HotspotList>(),
        at("/api/v1/events/bulk")
            .post(e::bulk, "One action on many events")
            .json::<e::BulkBody>()
            .returns::<w::BulkAnswer>(),
        at("/api/v1/events/{id}")
            .get(e::get, "An event with its timeline, tasks and evidence")
            .returns::<w::EventDetail>(),
        at("/api/v1/events/{id}/actions")
            .post(e::act, "Act on an event (decided by the shared state machine)")
            .json::<w::ActionRequest>()
            .returns::<w::ActionAnswer>(),
        at("/api/v1/events/{id}/split")
            .post(e::split, "Split an event into new ones")
            .json::<e::SplitBody>()
            .answers(201, JSON)
            .returns::<w::SplitAnswer>(),
        at("/api/v1/events/{id}/candidates")
            .get(e::candidates, "Whom the event may be dispatched to, best first, with why (ops centres)")
            .returns::<w::DispatchCandidates>(),
        at("/api/v1/events/{id}/evidence").get(ev::of_event, "An event's photos").returns::<w::EvidenceGroups>(),
        at("/api/v1/evidence")
            .post(ev::upload, "Upload a photo (multipart)")
            .raw("multipart/form-data")
            .answers(201, JSON)
            .returns::<w::EvidenceView>(),
        at("/api/v1/evidence/uploads")
            .post(ev::begin, "Begin a resumable upload")
            .json::<ev::BeginBody>()
            .answers(201, JSON)
            .returns::<w::UploadView>(),
        at("/api/v1/evidence/uploads/{id}")
            .get(ev::upload_status, "Where to resume an upload")
            .returns::<w::UploadView>()
            .put(ev::upload_chunk, "The next chunk (Upload-Offset header)")
            .raw("application/octet-stream")
            .returns::<w::UploadView>()
            .limit(chunk_limit),
        at("/api/v1/evidence/{id}").get(ev::get, "A photo's record").returns::<w::EvidenceView>(),
        at("/api/v1/evidence/{id}/photo").get(ev::photo, "The stored photo").answers(200, Some("image/jpeg")),
        at("/api/v1/evidence/{id}/thumbnail").get(ev::thumbnail, "Its thumbnail").answers(200, Some("image/jpeg")),
        at("/api/v1/tasks/mine")
            .get(live::my_tasks, "The caller's tasks by sync cursor")
            .query::<live::MineQuery>()
            .returns::<w::TaskFeed>(),
        at("/api/v1/pool")
            .get(pool::pool, "The community volunteer pool: events to claim, nearest first (volunteers)")
            .query::<pool::PoolQuery>()
            .returns::<w::PoolPage>(),
        at("/api/v1/supervision-orders")
            .get(sv::list, "Supervision orders the caller issues or must answer, newest first")
            .query::<sv::OrdersQuery>()
            .returns::<w::SupervisionList>(),
        at("/api/v1/supervision-orders/{id}/actions")
            .post(sv::act, "Reply to a supervision order, or accept or send back its reply")
            .json::<gridwork_mobile_core::domain::supervision::OrderAction>()
            .returns::<w::SupervisionOrder>(),
        at("/api/v1/verify-queue")
            .get(verify::queue, "Resolved events to check on site in the caller's areas, due soonest first (verifiers)")
            .query::<verify::VerifyQuery>()
            .returns::<w::EventPage>(),
        at("/api/v1/volunteers/sign-up")
            .post(vo::sign_up, "Sign up as a volunteer of a community (a new account, pending approval)")
            .json::<vo::SignUpBody>()
            .answers(201, JSON)
            .returns::<w::ApplicationView>()
            .public(),
        at("/api/v1/volunteers/communities")
            .get(vo::communities, "Communities to sign up for, by name (no sign-in)")
            .query::<vo::CommunitiesQuery>()
            .returns::<w::CommunityChoices>()
            .public(),
        at("/api/v1/volunteers/ranking")
            .get(vo::ranking, "Volunteers of a community or street by points")
            .query::<vo::RankingQuery>()
            .returns::<w::Ranking>(),
        at("/api/v1/volunteer-applications")
            .get(vo::list, "Volunteer sign-ups to decide in the caller's streets, oldest first (phone reads audited)")
            .query::<vo::ApplicationsQuery>()
            .returns::<w::ApplicationList>(),
        at("/api/v1/volunteer-applications/{id}/decision")
            .post(vo::decide, "Approve or decline a volunteer sign-up (a decline needs a reason)")
            .json::<vo::DecisionBody>()
            .returns::<w::ApplicationView>(),
        at("/api/v1/me/volunteer-applications")
            .get(vo::mine, "The caller's own volunteer sign-ups")
            .returns::<w::ApplicationList>()
            .post(vo::apply, "Ask to volunteer in a community with one's own account")
            .json::<vo::ApplyBody>()
            .answers(201, JSON)
            .returns::<w::ApplicationView>(),
        at("/api/v1/me/service")
            .get(vo::my_service, "The caller's volunteer service: points, hours, records")
            .returns::<w::ServiceSummary>(),
        at("/api/v1/me/data-export")
            .get(personal_data::data_export, "The caller's own data: a ZIP of data.json and their photos (audited)")
            .answers(200, Some("application/zip")),
        at("/api/v1/me/erasure-requests")
            .get(personal_data::mine, "The caller's own requests to erase their personal data")
            .returns::<w::ErasureRequestList>()
            .post(personal_data::request, "Ask for one's personal data to be erased (one waiting request at a time)")
            .answers(201, JSON)
            .returns::<w::ErasureRequestView>(),
        at("/api/v1/erasure-requests")
            .get(personal_data::list, "Erasure requests of people in the caller's area (administrators)")
            .query::<personal_data::ListQuery>()
            .returns::<w::ErasureRequestList>(),
        at("/api/v1/erasure-requests/{id}/decision")
            .post(personal_data::decide, "Carry out or decline an erasure (administrators over the person's area; a decline needs a reason), or withdraw one's own")
            .json::<personal_data::DecisionBody>()
            .returns::<w::ErasureRequestView>(),
        at("/api/v1/hotline/calls")
            .get(hotline::queue, "Hotline calls whose closed case waits for the callback (ops staff over each case)")
            .query::<hotline::QueueQuery>()
            .returns::<w::HotlineCallList>()
            .post(hotline::file, "File a 12345 hotline call: the caller, the reference number and the problem (ops staff)")
            .json::<hotline::CallBody>()
            .answers(201, JSON)
            .returns::<w::HotlineCallView>(),
        at("/api/v1/hotline/calls/{id}/callback")
            .post(hotline::call_back, "Record the callback (回访) of a closed case: was the caller satisfied")
            .json::<hotline::CallbackBody>()
            .returns::<w::HotlineCallView>(),
        at("/api/v1/open-data/areas")
            .get(open_data::areas, "The areas whose anonymised events are published")
            .returns::<w::AreaList>()
            .public(),
        at("/api/v1/open-data/areas/{code}")
            .put(open_data::publish, "Publish an area's anonymised events (administrators over it)")
            .returns::<w::AreaList>()
            .delete(open_data::unpublish, "Stop publishing an area's events (administrators over it)")
            .returns::<w::AreaList>(),
        at("/api/v1/open-data/events.csv")
            .get(open_data::events_csv, "Anonymised events of a published area over a period, as CSV")
            .query::<open_data::EventsQuery>()
            .answers(200, Some("text/csv"))
            .public(),
        at("/api/v1/open-data/events.geojson")
            .get(open_data::events_geojson, "Anonymised events of a published area over a period, as GeoJSON")
            .query::<open_data::EventsQuery>()
            .answers(200, Some("application/geo+json"))
            .public(),
        at("/api/v1/open-data/categories.csv")
            .get(open_data::categories, "The category catalog, once open data is published")
            .answers(200, Some("text/csv"))
            .public(),
        at("/api/v1/departments/{code}/systems")
            .get(departments::systems, "A department's systems acting on its tasks with API keys (administrators over their areas)")
            .returns::<w::DepartmentSystemList>()
            .post(departments::register_system, "Register a department's system; its API key is shown once")
            .json::<departments::SystemBody>()
            .answers(201, JSON)
            .returns::<w::DepartmentSystem>(),
        at("/api/v1/departments/{code}/systems/{id}")
            .delete(departments::revoke_system, "Revoke a department system's key and switch its account off")
            .returns::<w::DepartmentSystem>(),
        at("/api/v1/webhooks")
            .get(webhooks::list, "Webhook subscriptions of department systems in the caller's area (administrators)")
            .returns::<w::WebhookList>()
            .post(webhooks::register, "Subscribe a system's URL to the state changes of an area's events; the signing secret is shown once")
            .json::<webhooks::WebhookBody>()
            .answers(201, JSON)
            .returns::<w::Webhook>(),
        at("/api/v1/webhooks/{id}")
            .delete(webhooks::delete, "Delete a webhook subscription with its delivery log")
            .answers(204, None),
        at("/api/v1/webhooks/{id}/enable")
            .post(webhooks::enable, "Switch a webhook subscription back on (after it was switched off)")
            .returns::<w::Webhook>(),
        at("/api/v1/webhooks/{id}/disable")
            .post(webhooks::disable, "Switch a webhook subscription off")
            .returns::<w::Webhook>(),
        at("/api/v1/webhooks/{id}/deliveries")
            .get(webhooks::deliveries, "The delivery log of a webhook subscription, newest first")
            .returns::<w::WebhookDeliveryList>(),
        at("/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay")
            .post(webhooks::replay, "Send a delivery again from its first attempt")
            .returns::<w::WebhookDelivery>(),
        at("/api/v1/open311/clients")
            .get(open311::list, "Client applications of the Open311 door in the caller's area (administrators)")
            .returns::<w::Open311ClientList>()
            .post(open311::register, "Register a client application of the Open311 door; its api_key is shown once")
            .json::<open311::ClientBody>()
            .answers(201, JSON)
            .returns::<w::Open311Client>(),
        at("/api/v1/open311/clients/{id}")
            .delete(open311::revoke, "Revoke a client application's api_key (administrators over its jurisdiction)")
            .returns::<w::Open311Client>(),
        at("/api/v1/privacy/report")
            .get(privacy::report, "What personal data is held, where, for how long, and who read it (system admins)")
            .returns::<crate::privacy::PrivacyReport>(),
        at("/api/v1/workforce")
            .get(
                workforce::board,
                "The field workers of the caller's area: duty, open tasks, last position (ops centres)",
            )
            .query::<workforce::WorkforceQuery>()
            .returns::<w::Workforce>(),
        at("/api/v1/evaluation")
            .get(evaluation::evaluate, "Scores per unit")
            .query::<evaluation::EvaluationQuery>()
            .returns::<w::Evaluation>(),
        at("/api/v1/reports")
            .get(reports::list, "Weekly and monthly evaluation reports of the caller's areas")
            .query::<reports::ReportQuery>()
            .returns::<w::ReportList>(),
        at("/api/v1/reports/{id}/csv").get(reports::csv, "A report as CSV").answers(200, Some("text/csv")),
        at("/api/v1/reports/{id}/xlsx")
            .get(reports::xlsx, "A report as an XLSX workbook")
            .answers(200, Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
        at("/api/v1/emergencies")
            .get(emergency::list, "Running emergencies (and those ended in the last 30 days) over, in or under the caller's areas")
            .returns::<w::EmergencyList>()
            .post(emergency::declare, "Switch an area to emergency mode (急时): its ops centre, with a reason and an expected end")
            .json::<emergency::DeclareBody>()
            .answers(201, JSON)
            .returns::<w::EmergencyView>(),
        at("/api/v1/emergencies/{id}/end")
            .post(emergency::end, "Back to normal (平时): ops staff over the emergency's area")
            .json::<emergency::EndBody>()
            .returns::<w::EmergencyView>(),
        at("/api/v1/special-operations")
            .get(emergency::list_operations, "Special operations over, in or under the caller's areas, with their tasks")
            .query::<emergency::OperationQuery>()
            .returns::<w::SpecialOperationList>()
            .post(emergency::create_operation, "Open a special operation (专项): one task per area of a level inside an area")
            .json::<emergency::OperationBody>()
            .answers(201, JSON)
            .returns::<w::SpecialOperationView>(),
        at("/api/v1/special-operations/{id}")
            .get(emergency::get_operation, "A special operation and the state of each task")
            .returns::<w::SpecialOperationView>(),
        at("/api/v1/indicators")
            .get(sensing::list_indicators, "The indicator registry (city vital signs), with the thresholds that apply in an area")
            .query::<sensing::IndicatorQuery>()
            .returns::<w::IndicatorList>(),
        at("/api/v1/indicators.csv")
            .get(sensing::export_indicators, "The indicator registry as CSV")
            .answers(200, Some("text/csv")),
        at("/api/v1/indicators/import")
            .post(sensing::import_indicators, "Import the indicator registry from CSV (system administrators)")
            .raw("text/csv")
            .returns::<crate::catalog::ImportSummary>(),
        at("/api/v1/indicators/{code}/overrides")
            .get(sensing::list_overrides, "An indicator's thresholds set for areas in the caller's reach")
            .returns::<w::IndicatorOverrideList>(),
        at("/api/v1/indicators/{code}/overrides/{area}")
            .put(sensing::put_override, "Set an indicator's thresholds for an area's subtree (district and city centres over it)")
            .json::<sensing::OverrideBody>()
            .returns::<w::IndicatorOverride>()
            .delete(sensing::delete_override, "Remove an area's thresholds: the ones above apply again")
            .answers(204, None),
        at("/api/v1/sensors")
            .get(sensing::list_sensors, "Sensors in the caller's reach")
            .query::<sensing::SensorQuery>()
            .returns::<w::SensorList>()
            .post(sensing::register, "Register a sensor at a point (ops staff over it); its secret is shown once")
            .json::<sensing::SensorBody>()
            .answers(201, JSON)
            .returns::<w::SensorView>(),
        at("/api/v1/sensors/{id}").get(sensing::get_sensor, "A sensor").returns::<w::SensorView>(),
        at("/api/v1/sensors/{id}/secret")
            .post(sensing::rekey, "Give a sensor a new secret (the old one stops working); shown once")
            .returns::<w::SensorView>(),
        at("/api/v1/sensors/{id}/retire")
            .post(sensing::retire, "Take a sensor out of service: its readings are refused, its alerts cleared")
            .returns::<w::SensorView>(),
        at("/api/v1/sensors/{code}/readings")
            .post(sensing::readings, "A sensor's readings (its secret as bearer token): stored once each, judged against the thresholds")
            .json::<sensing::ReadingsBody>()
            .returns::<w::ReadingReceipt>(),
        at("/api/v1/alerts")
            .get(sensing::list_alerts, "Alerts of the sensors in the caller's reach, newest first")
            .query::<sensing::SensorQuery>()
            .returns::<w::AlertList>(),
        at("/api/v1/alerts/{id}/acknowledge")
            .post(sensing::acknowledge, "Acknowledge a raised alert (ops staff over its sensor)")
            .returns::<w::AlertView>(),
        at("/api/v1/vital-signs")
            .get(sensing::vital_signs, "Every indicator over a period in an area and its parts one level down, with the alerts open")
            .query::<sensing::VitalSignsQuery>()
            .returns::<w::VitalSigns>(),
        at("/api/v1/categories").get(categories::list, "The category catalog").returns::<w::CategoryList>(),
        at("/api/v1/categories.csv").get(categories::export_csv, "The catalog as CSV").answers(200, Some("text/csv")),
        at("/api/v1/categories/import")
            .post(categories::import_csv, "Import the catalog from CSV")
            .raw("text/csv")
            .returns::<crate::catalog::ImportSummary>(),
        at("/api/v1/areas")
            .get(areas::list, "Areas by level or parent")
            .query::<areas::ListQuery>()
            .returns::<w::AreaList>(),
        at("/api/v1/areas/{code}").get(areas::get, "An area with its outline and versions").returns::<w::AreaDetail>(),
        at("/api/v1/areas/{code}/children")
            .get(areas::children, "The areas one level down, with their outlines")
            .returns::<w::AreaOutlines>(),
        at("/api/v1/areas/{code}/cells")
            .get(areas::cells, "An area's H3 cover")
            .query::<areas::CellsQuery>()
            .returns::<w::AreaCells>(),
    ]
}

/// (method, path) of every route the server answers.
pub fn route_table() -> Vec<(Method, &'static str)> {
    endpoints(0, 0).into_iter().flat_map(|e| e.operations.into_iter().map(move |o| (o.method, e.path))).collect()
}

/// Registers the endpoints, one resource per path, so that a known path with the wrong method
/// answers 405.
pub fn routes(cfg: &mut web::ServiceConfig, import_limit: usize, chunk_limit: usize) {
    for e in endpoints(import_limit, chunk_limit) {
        let mut resource = web::resource(e.path).app_data(crate::http::metrics::RoutePattern(e.path));
        if let Some(limit) = e.payload_limit {
            resource = resource.app_data(web::PayloadConfig::new(limit));
        }
        for op in e.operations {
            resource = resource.route(op.route);
        }
        cfg.service(resource);
    }
}
