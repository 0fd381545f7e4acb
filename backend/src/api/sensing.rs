//! Sensing over HTTP: the indicator registry and its area overrides, sensors, readings in
//! (the sensor's secret as bearer token), alerts and the vital signs of an area.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use gridwork_mobile_core::Role;
use gridwork_mobile_core::domain::sensing::Thresholds;
use gridwork_mobile_core::wire::{
    AlertList, IndicatorList, IndicatorOverrideList, IndicatorOverrideRequest, ReadingBatch, SensorList, SensorRequest,
};
use serde::Deserialize;

use crate::api::events::{Point, PointExt, within_roles};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::events::actions::Ctx;
use crate::http::extract::ValidJson;
use crate::models::now;
use crate::models::sensing::OverrideRow;
use crate::queries;
use crate::queries::evaluation::Reach;
use crate::sensing::{WATCH_ROLES, alerts, indicators, ingest, sensors, vital_signs};
use crate::state::AppState;

pub type SensorBody = SensorRequest;
pub type OverrideBody = IndicatorOverrideRequest;
pub type ReadingsBody = ReadingBatch;

/// Who may set an area's thresholds: the district and city centres over it.
const THRESHOLD_ROLES: [Role; 3] = [Role::DistrictOperator, Role::CityOperator, Role::Admin];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IndicatorQuery {
    /// The thresholds that apply in this area (its own override or the nearest above it).
    pub area: Option<String>,
}

pub async fn list_indicators(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<IndicatorQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&WATCH_ROLES)?;
    let index = state.areas();
    let chain: Vec<String> = match &q.area {
        None => vec![],
        Some(raw) => {
            let area = crate::areas::mapped_area(&index, "area", raw)?;
            if !caller.holds_over(&WATCH_ROLES, Some(&area), &*index) {
                return Err(ApiError::not_found("no such area in your reach"));
            }
            // The area and its ancestors, deepest first.
            let mut codes = vec![area.to_string()];
            while let Some(parent) = index.parent_of(codes.last().map_or("", String::as_str)) {
                codes.push(parent.code.clone());
            }
            codes
        }
    };
    let list = state
        .db
        .run(move |conn| {
            let overrides = queries::sensing::overrides_on(conn, &chain)?;
            indicators::all(conn)?
                .iter()
                .map(|i| {
                    let (th, from) = indicators::effective(i, &chain, &overrides)?;
                    Ok(indicators::view(i, &th, from))
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(IndicatorList { indicators: list }))
}

pub async fn export_indicators(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    caller.require_any(&WATCH_ROLES)?;
    let all = state.db.run(indicators::all).await?;
    Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(indicators::to_csv(&all)?))
}

pub async fn import_indicators(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require_over(&[Role::Admin], None, &*state.areas())?;
    let actor = caller.user.id.clone();
    let summary = state.db.run(move |conn| indicators::import_csv(conn, &body, Some(&actor))).await?;
    Ok(HttpResponse::Ok().json(summary))
}

/// Overrides of an indicator in the areas the caller watches and above them.
pub async fn list_overrides(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&WATCH_ROLES)?;
    let code = path.into_inner();
    let index = state.areas();
    let rows = state
        .db
        .run(move |conn| {
            if indicators::by_code(conn, &code)?.is_none() {
                return Err(ApiError::not_found("no such indicator"));
            }
            Ok(queries::sensing::overrides_of(conn, &code)?)
        })
        .await?;
    // Visible: overrides inside the caller's areas, and those above them (they apply there).
    let overrides = rows
        .iter()
        .filter(|r| caller.works_in_code(&WATCH_ROLES, &r.area_code, &*index))
        .map(indicators::override_view)
        .collect();
    Ok(HttpResponse::Ok().json(IndicatorOverrideList { overrides }))
}

pub async fn put_override(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: ValidJson<OverrideBody>,
) -> ApiResult<HttpResponse> {
    let (code, area) = path.into_inner();
    let index = state.areas();
    let area = crate::areas::mapped_area(&index, "area", &area)?;
    caller.require_over(&THRESHOLD_ROLES, Some(&area), &*index)?;
    let body = body.0;
    let actor = caller.user.id.clone();
    let row = state
        .db
        .run(move |conn| {
            let ind = indicators::by_code(conn, &code)?.ok_or_else(|| ApiError::not_found("no such indicator"))?;
            let th = Thresholds::new(ind.thresholds.direction, body.thresholds.as_array(), body.hysteresis)
                .map_err(ApiError::refusal)?;
            let row = OverrideRow {
                indicator_code: ind.code,
                area_code: area.to_string(),
                blue: th.levels[0],
                yellow: th.levels[1],
                orange: th.levels[2],
                red: th.levels[3],
                hysteresis: th.hysteresis,
                updated_by: actor.clone(),
                updated_at: now(),
            };
            crate::db::write_tx(conn, |conn| {
                queries::sensing::save_override(conn, &row)?;
                let detail = format!("{} in {}", row.indicator_code, row.area_code);
                queries::audit::record(conn, Some(&actor), "indicator.override", &row.indicator_code, &detail)?;
                Ok::<(), ApiError>(())
            })?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(indicators::override_view(&row)))
}

pub async fn delete_override(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (code, area) = path.into_inner();
    let index = state.areas();
    let area = crate::areas::mapped_area(&index, "area", &area)?;
    caller.require_over(&THRESHOLD_ROLES, Some(&area), &*index)?;
    let actor = caller.user.id.clone();
    state
        .db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                if queries::sensing::delete_override(conn, &code, area.as_str())? == 0 {
                    return Err(ApiError::not_found("no such override"));
                }
                let detail = format!("{code} in {area}");
                queries::audit::record(conn, Some(&actor), "indicator.override_removed", &code, &detail)?;
                Ok::<(), ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn register(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<SensorBody>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&gridwork_mobile_core::domain::event::OPS_ROLES)?;
    let mut body = body.0;
    (body.lat, body.lng) = Point { lat: body.lat, lng: body.lng, crs: None }.wgs84("lat")?;
    let index = state.areas();
    let view = state.db.run(move |conn| sensors::register(conn, &index, &caller, &body)).await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SensorQuery {
    /// Only inside this area (narrows the caller's reach).
    pub area: Option<String>,
    /// Only alerts not yet cleared (alerts only) [default: true].
    pub open: Option<bool>,
    /// 1 to 1000 [default: 200]
    pub limit: Option<i64>,
}

fn narrowed(caller: &Caller, state: &AppState, q: &SensorQuery) -> ApiResult<(Reach, i64)> {
    let index = state.areas();
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 1000"));
    }
    let mine = within_roles(caller, &index, &WATCH_ROLES);
    let mut r = Reach { everywhere: mine.everywhere, areas: mine.scope, within: None };
    if let Some(raw) = &q.area {
        let area = crate::areas::mapped_area(&index, "area", raw)?;
        let level = index.get(area.as_str()).map(|a| a.level).ok_or_else(|| ApiError::internal("mapped area"))?;
        r.within = Some((level, area.to_string()));
    }
    Ok((r, limit))
}

pub async fn list_sensors(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<SensorQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&WATCH_ROLES)?;
    let (reach, limit) = narrowed(&caller, &state, &q)?;
    let rows = state.db.run(move |conn| Ok(queries::sensing::sensors_in(conn, &reach, limit)?)).await?;
    Ok(HttpResponse::Ok().json(SensorList { sensors: rows.iter().map(|r| sensors::view(r, None)).collect() }))
}

pub async fn get_sensor(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    let row = state.db.run(move |conn| sensors::visible(conn, &index, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(sensors::view(&row, None)))
}

pub async fn rekey(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    let view = state.db.run(move |conn| sensors::rekey(conn, &index, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn retire(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    let view = state.db.run(move |conn| sensors::retire(conn, &index, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A sensor sends readings: `Authorization: Bearer <its secret>`, no session.
pub async fn readings(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<ReadingsBody>,
) -> ApiResult<HttpResponse> {
    let secret = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Some(secret) = secret else {
        state.metrics.reading_batch("http", "unauthorized");
        return Err(ApiError::unauthorized("send the sensor's secret as a bearer token"));
    };
    let code = path.into_inner();
    let (index, policy, limits) = (state.areas(), state.settings.event_loop, state.settings.sensing.limits());
    let batch = body.0;
    let result = state
        .db
        .run(move |conn| {
            let sensor = sensors::authenticate(conn, &code, &secret)?;
            ingest::ingest(conn, Ctx { index: &index, policy: &policy }, limits, &sensor, &batch)
        })
        .await;
    let outcome = match &result {
        Ok(r) if r.refused.is_empty() => "stored",
        Ok(_) => "refused",
        Err(e) if e.code == crate::error::ErrorCode::Unauthorized => "unauthorized",
        Err(_) => "bad_payload",
    };
    state.metrics.reading_batch("http", outcome);
    let receipt = result?;
    state.changed();
    Ok(HttpResponse::Ok().json(receipt))
}

pub async fn list_alerts(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<SensorQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&WATCH_ROLES)?;
    let (reach, limit) = narrowed(&caller, &state, &q)?;
    let open_only = q.open.unwrap_or(true);
    let rows = state.db.run(move |conn| Ok(queries::sensing::alerts_in(conn, &reach, open_only, limit)?)).await?;
    let alerts = rows.iter().map(|(a, s)| alerts::view(a, s)).collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(AlertList { alerts }))
}

pub async fn acknowledge(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let id = path.into_inner();
    let view = state.db.run(move |conn| alerts::acknowledge(conn, &index, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VitalSignsQuery {
    /// A city, district, street or community the caller watches.
    pub area: String,
    /// RFC 3339 [default: 24 hours before `to`]
    pub from: Option<DateTime<Utc>>,
    /// RFC 3339 [default: now]
    pub to: Option<DateTime<Utc>>,
}

pub async fn vital_signs(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<VitalSignsQuery>,
) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let area = crate::areas::mapped_area(&index, "area", &q.area)?;
    if !caller.holds_over(&WATCH_ROLES, Some(&area), &*index) {
        return Err(ApiError::not_found("no such area in your reach"));
    }
    let level = index.get(area.as_str()).map(|a| a.level).ok_or_else(|| ApiError::internal("mapped area"))?;
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - Duration::hours(24));
    if to - from > Duration::days(366) {
        return Err(ApiError::field("from", "invalid_period", "a period of at most a year"));
    }
    let signs = state.db.run(move |conn| vital_signs::of_area(conn, area.as_str(), level, from, to)).await?;
    Ok(HttpResponse::Ok().json(signs))
}
