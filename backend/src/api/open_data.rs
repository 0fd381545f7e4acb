//! Open data over HTTP: administrators over an area publish it (`PUT`/`DELETE
//! /open-data/areas/{code}`); anyone reads which areas are published, their anonymised events as
//! CSV or GeoJSON (`/open-data/events.csv|geojson?area=&from=&to=`) and the catalog.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use gridwork_mobile_core::wire::{AreaList, AreaSummary};
use gridwork_mobile_core::{AreaCode, Role};
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::open_data::{self, MAX_DAYS, MAX_EVENTS};
use crate::state::AppState;
use crate::{catalog, queries};

async fn published(state: &AppState) -> ApiResult<Vec<String>> {
    Ok(state.db.run(|conn| Ok(queries::open_data::published(conn)?)).await?.into_iter().map(|(a, _)| a).collect())
}

/// The published areas.
pub async fn areas(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let areas = published(&state)
        .await?
        .iter()
        .filter_map(|code| index.get(code))
        .map(|a| AreaSummary { code: a.code.clone(), name: a.name.clone(), level: a.level })
        .collect();
    Ok(HttpResponse::Ok().json(AreaList { areas }))
}

fn area_of(state: &AppState, caller: &Caller, code: &str) -> ApiResult<AreaCode> {
    let area = AreaCode::parse(code).map_err(|e| ApiError::field("code", e.code, e.message))?;
    if state.areas().get(area.as_str()).is_none() {
        return Err(ApiError::not_found(format!("no area {area}")));
    }
    caller.require_over(&[Role::Admin], Some(&area), &*state.areas())?;
    Ok(area)
}

pub async fn publish(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let area = area_of(&state, &caller, &path)?;
    state
        .db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                queries::open_data::publish(conn, area.as_str(), &caller.user.id, crate::models::now())?;
                queries::audit::record(conn, Some(&caller.user.id), "open_data.publish", area.as_str(), "")?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    areas(state).await
}

pub async fn unpublish(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let area = area_of(&state, &caller, &path)?;
    state
        .db
        .run(move |conn| {
            crate::db::write_tx(conn, |conn| {
                queries::open_data::unpublish(conn, area.as_str())?;
                queries::audit::record(conn, Some(&caller.user.id), "open_data.unpublish", area.as_str(), "")?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    areas(state).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// A published area (or one inside it)
    pub area: String,
    /// RFC 3339 [default: 30 days before `to`]
    pub from: Option<DateTime<Utc>>,
    /// RFC 3339 [default: now]
    pub to: Option<DateTime<Utc>>,
}

async fn records(state: &AppState, q: &EventsQuery) -> ApiResult<Vec<open_data::Record>> {
    let index = state.areas();
    let area = AreaCode::parse(q.area.trim()).map_err(|e| ApiError::field("area", e.code, e.message))?;
    let published = published(state).await?;
    let level = index.get(area.as_str()).map(|a| a.level);
    let Some(level) = level.filter(|_| open_data::is_published(&published, &area, &index)) else {
        return Err(ApiError::not_found(format!("the events of {area} are not published")));
    };
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - Duration::days(30));
    if from > to {
        return Err(ApiError::field("from", "out_of_range", "from must not be after to"));
    }
    if to - from > Duration::days(MAX_DAYS) {
        return Err(ApiError::field("from", "out_of_range", format!("one answer covers at most {MAX_DAYS} days")));
    }
    let (from, to, code) = (from.naive_utc(), to.naive_utc(), area.to_string());
    state
        .db
        .run(move |conn| {
            let names: std::collections::HashMap<String, String> =
                queries::categories::all(conn)?.into_iter().map(|c| (c.code, c.minor_name)).collect();
            Ok(queries::open_data::events_in(conn, level, &code, from, to, MAX_EVENTS)?
                .into_iter()
                .filter_map(|e| {
                    let name = names.get(&e.category_code).cloned().unwrap_or_default();
                    open_data::record(e, name)
                })
                .collect())
        })
        .await
}

pub async fn events_csv(state: web::Data<AppState>, q: web::Query<EventsQuery>) -> ApiResult<HttpResponse> {
    let records = records(&state, &q).await?;
    let body = open_data::csv(&records).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(body))
}

pub async fn events_geojson(state: web::Data<AppState>, q: web::Query<EventsQuery>) -> ApiResult<HttpResponse> {
    let records = records(&state, &q).await?;
    Ok(HttpResponse::Ok().content_type("application/geo+json").json(open_data::geojson(&records)))
}

/// The category catalog, once anything is published.
pub async fn categories(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if published(&state).await?.is_empty() {
        return Err(ApiError::not_found("no open data is published"));
    }
    let cats = state.db.run(catalog::all).await?;
    Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(catalog::to_csv(&cats)?))
}
