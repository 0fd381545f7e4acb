//! Service requests through the door: filing one (`POST requests`), and reading those filed
//! through it (`GET requests`, `GET requests/{id}`, `GET tokens/{token}`).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use gridwork_mobile_core::domain::category::Grade;
use gridwork_mobile_core::domain::event::{EventState, Source};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::format::{Format, Open311Error, respond};
use super::{jurisdiction, param, params};
use crate::auth::Caller;
use crate::auth::caller::grants_of;
use crate::error::ApiError;
use crate::events::actions::Ctx;
use crate::events::intake::{self, NewReport};
use crate::models::event::EventRow;
use crate::models::open311::{ClientRow, RequestRow};
use crate::models::{new_id, now};
use crate::queries::{self, open311::RequestFilter};
use crate::state::AppState;

/// The standard's window: a search covers at most 90 days (the last 90 by default).
const WINDOW_DAYS: i64 = 90;
/// The most requests one search answers.
const MAX_REQUESTS: i64 = 1000;
const MAX_DESCRIPTION: usize = 2000;
const MAX_URL: usize = 1024;

pub fn grade_name(g: Grade) -> &'static str {
    match g {
        Grade::General => "一般",
        Grade::Significant => "较大",
        Grade::Serious => "重大",
        Grade::Critical => "特别重大",
    }
}

/// A `POST requests` form, checked.
struct Form {
    api_key: String,
    service_code: String,
    lat: f64,
    lng: f64,
    address: Option<String>,
    description: Option<String>,
    media_url: Option<String>,
    grade: Option<Grade>,
}

fn parse_form(fields: &[(String, String)], format: Format) -> Result<Form, Open311Error> {
    let bad = |f: &str, why: &str| Open311Error::bad(format, f, why);
    let api_key = param(fields, "api_key").ok_or_else(|| bad("api_key", "required"))?.trim().to_owned();
    let service_code = param(fields, "service_code").ok_or_else(|| bad("service_code", "required"))?.trim().to_owned();
    let coordinate = |name: &str, range: std::ops::RangeInclusive<f64>| -> Result<Option<f64>, Open311Error> {
        match param(fields, name) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() && range.contains(&x) => Ok(Some(x)),
                _ => Err(bad(name, "not a WGS-84 coordinate")),
            },
        }
    };
    let (lat, lng) = match (coordinate("lat", -90.0..=90.0)?, coordinate("long", -180.0..=180.0)?) {
        (Some(lat), Some(lng)) => (lat, lng),
        _ if param(fields, "address_string").is_some() || param(fields, "address_id").is_some() => {
            return Err(bad("lat", "lat and long are required: this jurisdiction does not geocode addresses"));
        }
        _ => return Err(bad("lat", "lat and long are required")),
    };
    let text = |name: &str, max: usize| -> Result<Option<String>, Open311Error> {
        match param(fields, name).map(str::trim) {
            Some(v) if v.chars().count() > max => Err(bad(name, &format!("at most {max} characters"))),
            v => Ok(v.map(str::to_owned)),
        }
    };
    let media_url = text("media_url", MAX_URL)?;
    if media_url.as_ref().is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://"))) {
        return Err(bad("media_url", "an http or https URL"));
    }
    let grade = match param(fields, "attribute[grade]") {
        None => None,
        Some(g) => Some(g.trim().parse::<Grade>().map_err(|e| bad("attribute[grade]", &e.message))?),
    };
    Ok(Form {
        api_key,
        service_code,
        lat,
        lng,
        address: text("address_string", 200)?,
        description: text("description", MAX_DESCRIPTION)?,
        media_url,
        grade,
    })
}

/// What makes a resend the same request: the client's `Idempotency-Key`, else the form itself.
fn request_key(req: &HttpRequest, fields: &[(String, String)]) -> String {
    let header = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(k) = header.filter(|k| !k.is_empty() && k.len() <= 128) {
        return format!("key:{k}");
    }
    let mut sorted: Vec<&(String, String)> = fields.iter().filter(|(k, _)| k != "api_key").collect();
    sorted.sort();
    let canonical = serde_json::to_string(&sorted).unwrap_or_default();
    format!("form:{}", gridwork_mobile_core::hash::hex(&Sha256::digest(canonical.as_bytes())))
}

/// The client application an `api_key` belongs to, and its account as a caller.
fn client_caller(conn: &mut crate::db::DbConn, api_key: &str) -> crate::error::ApiResult<Option<(ClientRow, Caller)>> {
    let Some(client) = queries::open311::client_by_key_hash(conn, &crate::auth::token::hash(api_key))? else {
        return Ok(None);
    };
    let user = queries::users::by_id(conn, &client.user_id)?;
    let grants = grants_of(queries::roles::for_user(conn, &user.id)?);
    let caller = Caller { user, session_id: format!("open311:{}", client.id), grants };
    Ok(Some((client, caller)))
}

/// `POST requests`: files a request (form-encoded), answers its id at once (no token needed).
pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Open311Error> {
    let (name, format) = Format::split(&path)?;
    if name != "requests" {
        return Err(Open311Error::not_found(format, format!("no such Open311 resource {name:?}")));
    }
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.is_empty() && !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(Open311Error::bad(
            format,
            "body",
            "send the fields form-encoded (application/x-www-form-urlencoded)",
        ));
    }
    let fields: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&body).map_err(|e| Open311Error::bad(format, "body", e))?;
    let form = parse_form(&fields, format)?;
    let wanted_jurisdiction = jurisdiction(&state, &fields, format)?;
    let key = request_key(&req, &fields);
    let index = state.areas();
    let policy = state.settings.event_loop;
    let api_key = form.api_key.clone();
    let answer = state
        .db
        .run(move |conn| -> crate::error::ApiResult<Result<String, Open311Error>> {
            let Some((client, caller)) = client_caller(conn, &api_key)? else {
                return Ok(Err(Open311Error::forbidden(format, "api_key: unknown or revoked")));
            };
            if wanted_jurisdiction.as_deref().is_some_and(|j| j != client.area_code) {
                return Ok(Err(Open311Error::forbidden(
                    format,
                    "jurisdiction_id: this api_key is for another jurisdiction",
                )));
            }
            if let Some(done) = queries::open311::request_by_key(conn, &client.id, &key)? {
                return Ok(Ok(done.id));
            }
            let inside = index.lookup(form.lng, form.lat).iter().any(|a| a.code == client.area_code);
            if !inside {
                return Ok(Err(Open311Error::bad(
                    format,
                    "lat",
                    format!("the point lies outside jurisdiction {}", client.area_code),
                )));
            }
            let description =
                form.description.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| form.service_code.clone());
            let new = NewReport {
                category: form.service_code.clone(),
                source: Source::Resident,
                lat: form.lat,
                lng: form.lng,
                description: description.clone(),
                address: form.address.clone(),
                grade: form.grade,
                suggested_grade: None,
                at: None,
                evidence: vec![],
            };
            let ctx = Ctx { index: &index, policy: &policy };
            let (event, _) = match intake::report(conn, ctx, &caller, &new, &format!("open311:{key}")) {
                Ok(filed) => filed,
                Err(e) if e.fields.contains_key("category") => {
                    return Ok(Err(Open311Error::bad(
                        format,
                        "service_code",
                        format!("no service {:?}", form.service_code),
                    )));
                }
                Err(e) => return Err(e),
            };
            let row = RequestRow {
                id: new_id(),
                client_id: client.id.clone(),
                event_id: event.id,
                request_key: key.clone(),
                service_code: form.service_code.clone(),
                description,
                address: form.address.clone(),
                lat: form.lat,
                lng: form.lng,
                media_url: form.media_url.clone(),
                created_at: now(),
            };
            // Two identical requests at once: the second finds the first's row.
            if let Err(e) = queries::open311::insert_request(conn, &row) {
                return match queries::open311::request_by_key(conn, &client.id, &key)? {
                    Some(done) => Ok(Ok(done.id)),
                    None => Err(ApiError::from(e)),
                };
            }
            Ok(Ok(row.id))
        })
        .await
        .map_err(|e| Open311Error::from_api(format, &e))??;
    state.changed();
    let body = json!([{"service_request_id": answer, "service_notice": Value::Null, "account_id": Value::Null}]);
    Ok(respond(StatusCode::CREATED, format, "service_requests", "request", &body))
}

fn w3c(t: &str, format: Format, field: &str) -> Result<chrono::NaiveDateTime, Open311Error> {
    DateTime::parse_from_rfc3339(t.trim())
        .map(|d| d.with_timezone(&Utc).naive_utc())
        .map_err(|_| Open311Error::bad(format, field, "a W3C date and time such as 2026-12-01T00:00:00Z"))
}

fn list_of(p: &[(String, String)], name: &str) -> Vec<String> {
    p.iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The standard's two statuses over Gridwork's states.
fn status_of(state: &str) -> &'static str {
    if state == EventState::Closed.as_str() || state == EventState::Rejected.as_str() { "closed" } else { "open" }
}

fn states_for(status: &str) -> Vec<String> {
    EventState::ALL.iter().map(|s| s.as_str()).filter(|s| status_of(s) == status).map(str::to_owned).collect()
}

/// `GET requests`: requests filed through the door, newest first.
pub async fn list(state: &AppState, req: &HttpRequest, format: Format) -> Result<HttpResponse, Open311Error> {
    let p = params(req, format)?;
    let area = jurisdiction(state, &p, format)?;
    let ids = list_of(&p, "service_request_id");
    let mut filter = RequestFilter { limit: MAX_REQUESTS, area, ..Default::default() };
    if ids.is_empty() {
        filter.service_codes = list_of(&p, "service_code");
        for s in list_of(&p, "status") {
            match s.as_str() {
                "open" | "closed" => filter.states.extend(states_for(&s)),
                _ => return Err(Open311Error::bad(format, "status", "open or closed")),
            }
        }
        let start = param(&p, "start_date").map(|t| w3c(t, format, "start_date")).transpose()?;
        let end = param(&p, "end_date").map(|t| w3c(t, format, "end_date")).transpose()?;
        let window = Duration::days(WINDOW_DAYS);
        let (from, to) = match (start, end) {
            (Some(s), Some(e)) => (s, e),
            (Some(s), None) => (s, s + window),
            (None, Some(e)) => (e - window, e),
            (None, None) => {
                let end = now() + Duration::minutes(1);
                (end - window, end)
            }
        };
        if to < from {
            return Err(Open311Error::bad(format, "end_date", "before start_date"));
        }
        if to - from > window {
            return Err(Open311Error::bad(format, "end_date", "a search spans at most 90 days"));
        }
        (filter.from, filter.to) = (Some(from), Some(to));
    } else {
        // Ids override every other parameter, as the standard says.
        filter.ids = ids;
    }
    let list = render(state, filter, format).await?;
    Ok(respond(StatusCode::OK, format, "service_requests", "request", &Value::Array(list)))
}

/// The one request a path names (`requests/{id}.json`, `tokens/{id}.xml`), in the standard's fields.
async fn named(state: &AppState, req: &HttpRequest, file: &str) -> Result<(String, Format, Vec<Value>), Open311Error> {
    let (id, format) = Format::split(file)?;
    let area = jurisdiction(state, &params(req, format)?, format)?;
    let filter = RequestFilter { ids: vec![id.to_owned()], area, limit: 1, ..Default::default() };
    Ok((id.to_owned(), format, render(state, filter, format).await?))
}

/// `GET requests/{id}`.
pub async fn one(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Open311Error> {
    let (id, format, list) = named(&state, &req, &path).await?;
    if list.is_empty() {
        return Err(Open311Error::not_found(format, format!("service_request_id: no request {id:?}")));
    }
    Ok(respond(StatusCode::OK, format, "service_requests", "request", &Value::Array(list)))
}

/// `GET tokens/{token}`: requests are filed at once, so a token is the request's id.
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Open311Error> {
    let (id, format, list) = named(&state, &req, &path).await?;
    if list.is_empty() {
        return Err(Open311Error::not_found(format, format!("token: no token {id:?}")));
    }
    let body = json!([{"service_request_id": id, "token": id}]);
    Ok(respond(StatusCode::OK, format, "service_requests", "request", &body))
}

/// The requests the filter finds, in the standard's fields.
async fn render(state: &AppState, filter: RequestFilter, format: Format) -> Result<Vec<Value>, Open311Error> {
    let index = state.areas();
    let rows = state
        .db
        .run(move |conn| {
            let rows = queries::open311::requests(conn, &filter)?;
            let rejected: Vec<String> = rows
                .iter()
                .filter(|(_, e)| e.state == EventState::Rejected.as_str())
                .map(|(_, e)| e.id.clone())
                .collect();
            let reasons: HashMap<String, String> = queries::open311::reject_reasons(conn, &rejected)?
                .into_iter()
                .filter_map(|(id, r)| r.map(|r| (id, r)))
                .collect();
            let categories: HashMap<String, (String, Option<String>)> = queries::categories::all(conn)?
                .into_iter()
                .map(|c| (c.code, (c.minor_name, c.department_code)))
                .collect();
            let departments: HashMap<String, String> =
                queries::departments::list(conn)?.into_iter().map(|d| (d.code, d.name)).collect();
            Ok(rows
                .into_iter()
                .map(|(r, e)| {
                    let (service_name, department) = categories.get(&r.service_code).cloned().unwrap_or_default();
                    let agency = department
                        .and_then(|d| departments.get(&d).cloned())
                        .or_else(|| e.street_code.as_ref().and_then(|s| index.get(s)).map(|a| a.name.clone()));
                    let notes = status_notes(&e, reasons.get(&e.id).map(String::as_str));
                    request_json(&r, &e, &service_name, agency.as_deref(), &notes)
                })
                .collect::<Vec<_>>())
        })
        .await
        .map_err(|e| Open311Error::from_api(format, &e))?;
    Ok(rows)
}

/// The public part of where the case stands: its state in words, and a rejection's reason
/// (addressed to the reporter). Nobody's name, nothing from staff-only notes.
fn status_notes(e: &EventRow, reject_reason: Option<&str>) -> String {
    let words = match e.state.parse::<EventState>() {
        Ok(EventState::Reported) => "已受理，待立案 (received, awaiting acceptance)",
        Ok(EventState::Accepted | EventState::Returned) => "已立案，待派遣 (accepted, to be dispatched)",
        Ok(EventState::Dispatched | EventState::Claimed) => "已派遣 (dispatched)",
        Ok(EventState::InProgress | EventState::Rework) => "处置中 (being handled)",
        Ok(EventState::Resolved) => "已处置，待核查 (handled, being verified)",
        Ok(EventState::Closed) => "已结案 (closed)",
        Ok(EventState::Rejected) => "不予立案 (not accepted)",
        Ok(EventState::Suspended) => "暂缓处置 (on hold)",
        Err(_) => "",
    };
    match reject_reason {
        Some(r) => format!("{words}: {r}"),
        None => words.to_owned(),
    }
}

fn request_json(r: &RequestRow, e: &EventRow, service_name: &str, agency: Option<&str>, notes: &str) -> Value {
    let utc = |t: chrono::NaiveDateTime| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "service_request_id": r.id,
        "status": status_of(&e.state),
        "status_notes": notes,
        "service_name": service_name,
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": agency,
        "service_notice": Value::Null,
        "requested_datetime": utc(r.created_at),
        "updated_datetime": utc(e.updated_at),
        "expected_datetime": e.due_at.map(utc),
        "address": r.address,
        "address_id": Value::Null,
        "zipcode": Value::Null,
        "lat": r.lat,
        "long": r.lng,
        "media_url": r.media_url,
    })
}
