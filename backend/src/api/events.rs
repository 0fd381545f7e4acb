//! The event loop over HTTP.

use actix_web::{HttpRequest, HttpResponse, web};
use gridwork_mobile_core::domain::category::Grade;
use gridwork_mobile_core::domain::crs::Crs;
use gridwork_mobile_core::domain::event::{Action, Source};
use serde::Deserialize;
use serde_json::{Value, json};
use validator::Validate;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Filed, NewReport};
use crate::http::extract::ValidJson;
use crate::models::event::EventRow;
use crate::queries;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    #[validate(length(min = 1, max = 16, message = "category is required"))]
    pub category: String,
    pub source: Option<Source>,
    pub lat: f64,
    pub lng: f64,
    pub crs: Option<String>,
    #[validate(length(min = 1, max = 2000, message = "description must be 1 to 2000 characters"))]
    pub description: String,
    #[validate(length(max = 200, message = "address is at most 200 characters"))]
    pub address: Option<String>,
    pub grade: Option<Grade>,
}

pub fn view(row: &EventRow) -> Value {
    json!({
        "id": row.id,
        "category": row.category_code,
        "grade": row.grade,
        "state": row.state,
        "source": row.source,
        "description": row.description,
        "address": row.address,
        "location": {"lat": row.lat, "lng": row.lng},
        "areas": {
            "city": row.city_code, "district": row.district_code, "street": row.street_code,
            "community": row.community_code, "grid": row.grid_code, "compound": row.compound_code,
            "building": row.building_code,
        },
        "assignees": serde_json::from_str::<Value>(&row.assignees).unwrap_or(Value::Array(vec![])),
        "due_at": row.due_at.map(|d| d.and_utc()),
        "overdue": row.due_at.is_some_and(|d| d < crate::models::now()),
        "version": row.version,
        "created_at": row.created_at.and_utc(),
        "updated_at": row.updated_at.and_utc(),
    })
}

fn idempotency_key(req: &HttpRequest) -> ApiResult<String> {
    let key = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 128 {
        return Err(ApiError::field(
            "Idempotency-Key",
            "required",
            "send an Idempotency-Key header (1–128 characters) made on the device",
        ));
    }
    Ok(key.to_owned())
}

pub async fn report(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<ReportBody>,
) -> ApiResult<HttpResponse> {
    let key = idempotency_key(&req)?;
    let b = body.0;
    if !(-90.0..=90.0).contains(&b.lat) || !(-180.0..=180.0).contains(&b.lng) {
        return Err(ApiError::field("location", "out_of_range", "lat must be within -90..90 and lng within -180..180"));
    }
    let crs: Crs = b.crs.as_deref().map_or(Ok(Crs::Wgs84), str::parse)?;
    let (lng, lat) = crs.to_wgs84(b.lng, b.lat);
    let new = NewReport {
        category: b.category.trim().to_owned(),
        source: b.source.unwrap_or(Source::Resident),
        lat,
        lng,
        description: b.description,
        address: b.address,
        grade: b.grade,
    };
    let index = state.areas();
    let (row, filed) = state.db.run(move |conn| events::report(conn, &index, &caller, &new, &key)).await?;
    let mut body = view(&row);
    body["filed"] = json!(filed);
    Ok(match filed {
        Filed::Created => HttpResponse::Created().json(body),
        _ => HttpResponse::Ok().json(body),
    })
}

pub async fn get(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let index = state.areas();
    let body = state
        .db
        .run(move |conn| {
            let row =
                queries::events::by_id(conn, &id)?.ok_or_else(|| ApiError::not_found(format!("no event {id}")))?;
            if !events::may_see(conn, &caller, &row, &index)? {
                return Err(ApiError::not_found(format!("no event {id}")));
            }
            let mut body = view(&row);
            body["history"] = json!(queries::events::history(conn, &id)?);
            Ok(body)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, Validate)]
pub struct ActionBody {
    #[serde(flatten)]
    pub action: Action,
    /// The version the client acted on; a stale one is refused with 409.
    pub version: Option<i32>,
}

pub async fn act(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<ActionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let index = state.areas();
    let b = body.0;
    let row = state.db.run(move |conn| events::act(conn, &index, &caller, &id, &b.action, b.version)).await?;
    Ok(HttpResponse::Ok().json(view(&row)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub state: Option<String>,
    /// Only events given to me (a handler's task list).
    pub mine: Option<bool>,
    /// Only events whose current stage is past its deadline.
    pub overdue: Option<bool>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Staff see the events filed in their areas; handlers their tasks (`mine=true`); everyone else
/// the events they reported.
pub async fn list(caller: Caller, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    use gridwork_mobile_core::Role;
    use gridwork_mobile_core::domain::event::{EventState, VERIFIER_ROLES};
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 500"));
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let event_state = q.state.as_deref().map(str::parse::<EventState>).transpose()?.map(|s| s.as_str().to_owned());
    let index = state.areas();
    let mut filter = queries::events::EventFilter {
        state: event_state,
        overdue_at: q.overdue.unwrap_or(false).then(crate::models::now),
        limit,
        offset,
        ..Default::default()
    };
    let staff: Vec<Role> = VERIFIER_ROLES.iter().copied().chain([Role::DeptHandler]).collect();
    if q.mine.unwrap_or(false) {
        filter.assignee = Some(caller.user.id.clone());
        filter.everywhere = true;
    } else if caller.require_any(&staff).is_ok() {
        for scope in caller.scopes_for(&staff) {
            match scope.area_code() {
                None => filter.everywhere = true,
                Some(code) => {
                    if let Some(area) = index.get(code.as_str()) {
                        filter.areas.push((area.level, code.to_string()));
                    }
                }
            }
        }
    } else {
        filter.reporter = Some(caller.user.id.clone());
        filter.everywhere = true;
    }
    let rows = state.db.run(move |conn| Ok(queries::events::list(conn, &filter)?)).await?;
    let items: Vec<Value> = rows.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(json!({"events": items, "limit": limit, "offset": offset})))
}
