//! `GET /reports` and the files of each: the weekly and monthly evaluation reports of the areas
//! the caller steers (ops centres only). A report outside the caller's reach is not found.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use gridwork_mobile_core::domain::event::OPS_ROLES;
use gridwork_mobile_core::wire::{ReportInfo, ReportList};
use serde::Deserialize;

use super::events::area_filter;
use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::models::report::ReportEntry;
use crate::queries;
use crate::reports::Kind;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `weekly` or `monthly` [default: both]
    pub kind: Option<String>,
    /// Only this area's reports.
    pub area: Option<String>,
    /// At most this many, newest first [default: 100, at most 1000]
    pub limit: Option<usize>,
}

fn visible(caller: &Caller, index: &AreaIndex, area: &str) -> bool {
    caller.holds_over_code(&OPS_ROLES, area, index)
}

fn info(r: ReportEntry, index: &AreaIndex) -> ReportInfo {
    ReportInfo {
        csv_url: format!("/api/v1/reports/{}/csv", r.id),
        xlsx_url: format!("/api/v1/reports/{}/xlsx", r.id),
        area_name: index.get(&r.area_code).map(|a| a.name.clone()),
        id: r.id,
        kind: r.kind,
        area_code: r.area_code,
        period_from: r.period_from.and_utc(),
        period_to: r.period_to.and_utc(),
        rows: u32::try_from(r.rows).unwrap_or(0),
        created_at: r.created_at.and_utc(),
    }
}

pub async fn list(caller: Caller, state: web::Data<AppState>, q: web::Query<ReportQuery>) -> ApiResult<HttpResponse> {
    caller.require_any(&OPS_ROLES)?;
    let q = q.into_inner();
    let kind = q
        .kind
        .as_deref()
        .map(|k| Kind::parse(k.trim()).ok_or_else(|| ApiError::field("kind", "invalid", "kind is weekly or monthly")))
        .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit is 1 to 1000"));
    }
    let index = state.areas();
    let area = q.area.as_deref().map(|a| area_filter(&index, a)).transpose()?.map(|(_, code)| code);
    let rows =
        state.db.run(move |conn| Ok(queries::reports::list(conn, kind.map(Kind::as_str), area.as_deref())?)).await?;
    let reports = rows
        .into_iter()
        .filter(|r| visible(&caller, &index, &r.area_code))
        .take(limit)
        .map(|r| info(r, &index))
        .collect();
    Ok(HttpResponse::Ok().json(ReportList { reports }))
}

pub async fn csv(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    file(caller, &state, path.into_inner(), false).await
}

pub async fn xlsx(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    file(caller, &state, path.into_inner(), true).await
}

async fn file(caller: Caller, state: &AppState, id: String, xlsx: bool) -> ApiResult<HttpResponse> {
    caller.require_any(&OPS_ROLES)?;
    let index = state.areas();
    let row = state.db.run(move |conn| Ok(queries::reports::by_id(conn, &id)?)).await?;
    let Some(row) = row.filter(|r| visible(&caller, &index, &r.area_code)) else {
        return Err(ApiError::not_found("no such report"));
    };
    let day = (row.period_from + crate::reports::CITY_OFFSET).date();
    let name = format!("report-{}-{}-{day}.{}", row.kind, row.area_code, if xlsx { "xlsx" } else { "csv" });
    let (mime, bytes) = if xlsx {
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", row.xlsx)
    } else {
        ("text/csv; charset=utf-8", row.csv)
    };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(bytes))
}
