//! Open311 GeoReport v2 at `/open311/v2/` — the civic-issue standard that FixMyStreet,
//! SeeClickFix and 311 systems speak. Services are the category catalog; a request filed here
//! runs the same loop as any report (idempotent, deduplicated, resolved to the seven levels),
//! filed by its client application's own account. What came in through this public door is
//! public through it (`GET requests` lists only such requests, with what their senders sent and
//! the state of the case); nothing filed any other way is. Names, phones and e-mail addresses the
//! standard lets a client send are not kept: the client application holds its user's contact.

pub mod clients;
pub mod format;
pub mod requests;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::state::AppState;
use format::{Format, Open311Error, respond};

/// The door's routes, under `/open311/v2`.
pub fn scope() -> actix_web::Scope {
    web::scope("/open311/v2")
        .route("/services/{file}", web::get().to(service_definition))
        .route("/requests/{file}", web::get().to(requests::one))
        .route("/tokens/{file}", web::get().to(requests::token))
        .route("/{file}", web::get().to(top))
        .route("/{file}", web::post().to(requests::post))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(Open311Error::not_found(
                Format::Json,
                "no such Open311 resource: see discovery.json",
            ))
        }))
}

/// Query parameters as the standard sends them (repeated keys kept), parsed without actix's own
/// error answers so that every refusal has the standard's shape.
pub fn params(req: &HttpRequest, format: Format) -> Result<Vec<(String, String)>, Open311Error> {
    serde_urlencoded::from_str(req.query_string()).map_err(|e| Open311Error::bad(format, "query", e))
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
}

/// A `jurisdiction_id` must name a mapped area (404 otherwise, as the standard says).
pub fn jurisdiction(state: &AppState, p: &[(String, String)], format: Format) -> Result<Option<String>, Open311Error> {
    match param(p, "jurisdiction_id") {
        None => Ok(None),
        Some(j) if state.areas().get(j).is_some() => Ok(Some(j.to_owned())),
        Some(j) => Err(Open311Error::not_found(format, format!("jurisdiction_id: no jurisdiction {j:?}"))),
    }
}

async fn top(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Open311Error> {
    let (name, format) = Format::split(&path)?;
    match name {
        "services" => services(&state, &req, format).await,
        "requests" => requests::list(&state, &req, format).await,
        "discovery" => Ok(discovery(&req, format)),
        other => Err(Open311Error::not_found(format, format!("no such Open311 resource {other:?}"))),
    }
}

fn discovery(req: &HttpRequest, format: Format) -> HttpResponse {
    let info = req.connection_info();
    let url = format!("{}://{}/open311/v2/", info.scheme(), info.host());
    let body = json!({
        "changeset": "2026-12-07T00:00:00Z",
        "contact": "the city's operations centre",
        "key_service": "an administrator registers client applications (POST /api/v1/open311/clients)",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": url,
            "changeset": "2026-12-07T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    });
    respond(StatusCode::OK, format, "discovery", "", &body)
}

async fn catalog(state: &AppState, format: Format) -> Result<Vec<crate::catalog::Category>, Open311Error> {
    let rows = state
        .db
        .run(|conn| Ok(crate::queries::categories::all(conn)?))
        .await
        .map_err(|e| Open311Error::from_api(format, &e))?;
    let mut out = vec![];
    for r in rows {
        let c = crate::catalog::from_row(&r).map_err(|e| Open311Error::from_api(format, &e))?;
        if c.active {
            out.push(c);
        }
    }
    Ok(out)
}

/// `GET services`: the active categories of the catalog.
async fn services(state: &AppState, req: &HttpRequest, format: Format) -> Result<HttpResponse, Open311Error> {
    jurisdiction(state, &params(req, format)?, format)?;
    let list: Vec<_> = catalog(state, format)
        .await?
        .into_iter()
        .map(|c| {
            json!({
                "service_code": c.code,
                "service_name": c.minor_name,
                "description": format!("{} · {}", c.major_name, c.minor_name),
                "metadata": true,
                "type": "realtime",
                "keywords": format!("{},{}", c.major_name, c.minor_name),
                "group": c.major_name,
            })
        })
        .collect();
    Ok(respond(StatusCode::OK, format, "services", "service", &serde_json::Value::Array(list)))
}

/// `GET services/{code}`: what a request of the service may carry beyond the standard's fields.
async fn service_definition(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, Open311Error> {
    let (code, format) = Format::split(&path)?;
    jurisdiction(&state, &params(&req, format)?, format)?;
    let category = catalog(&state, format)
        .await?
        .into_iter()
        .find(|c| c.code == code)
        .ok_or_else(|| Open311Error::not_found(format, format!("service_code: no service {code:?}")))?;
    let grades = gridwork_mobile_core::domain::category::Grade::ALL
        .iter()
        .map(|g| json!({"key": g.as_str(), "name": requests::grade_name(*g)}))
        .collect::<Vec<_>>();
    let body = json!({
        "service_code": category.code,
        "attributes": [{
            "variable": true,
            "code": "grade",
            "datatype": "singlevaluelist",
            "required": false,
            "datatype_description": "how serious the problem looks; the operations centre decides the grade",
            "order": 1,
            "description": format!("严重程度（默认：{}）", requests::grade_name(category.default_grade)),
            "values": grades,
        }],
    });
    Ok(respond(StatusCode::OK, format, "service_definition", "", &body))
}
