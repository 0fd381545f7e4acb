//! The area map over HTTP: lookup, browse, cells for maps, and import (administrators).

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::domain::crs::Crs;
use gridwork_mobile_core::wire::{
    AreaCells, AreaDetail, AreaList, AreaLookup, AreaOutline, AreaOutlines, AreaSummary, AreaVersion, LatLng,
};
use gridwork_mobile_core::{AreaCode, AreaLevel, Role};
use serde::Deserialize;

use crate::areas::import::{Mapping, Options};
use crate::areas::{levels, store};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::queries;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    pub lat: f64,
    pub lng: f64,
    pub crs: Option<String>,
}

fn parse_crs(raw: Option<&str>) -> ApiResult<Crs> {
    raw.map_or(Ok(Crs::Wgs84), |s| s.parse::<Crs>().map_err(ApiError::from))
}

pub async fn lookup(
    _caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<LookupQuery>,
) -> ApiResult<HttpResponse> {
    if !q.lat.is_finite() || !(-90.0..=90.0).contains(&q.lat) {
        return Err(ApiError::field("lat", "out_of_range", "lat must be within -90..90"));
    }
    if !q.lng.is_finite() || !(-180.0..=180.0).contains(&q.lng) {
        return Err(ApiError::field("lng", "out_of_range", "lng must be within -180..180"));
    }
    let crs = parse_crs(q.crs.as_deref())?;
    let (lng, lat) = crs.to_wgs84(q.lng, q.lat);
    let index = state.areas();
    let chain = index.lookup(lng, lat).into_iter().map(summary).collect();
    Ok(HttpResponse::Ok().json(AreaLookup { chain, wgs84: LatLng { lat, lng } }))
}

/// The most points one batch takes.
pub const MAX_BATCH: usize = 10_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct BatchBody(pub gridwork_mobile_core::wire::BatchLookupRequest);

impl validator::Validate for BatchBody {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// Many points at once: each point's chain of codes, looked up off the async threads.
pub async fn lookup_batch(
    _caller: Caller,
    state: web::Data<AppState>,
    body: crate::http::extract::ValidJson<BatchBody>,
) -> ApiResult<HttpResponse> {
    use crate::api::events::PointExt;
    let points = body.0.0.points;
    if points.is_empty() || points.len() > MAX_BATCH {
        return Err(ApiError::field("points", "out_of_range", format!("send 1 to {MAX_BATCH} points")));
    }
    let wgs84 = points
        .iter()
        .enumerate()
        .map(|(i, p)| p.wgs84(&format!("points[{i}]")))
        .collect::<ApiResult<Vec<(f64, f64)>>>()?;
    let index = state.areas();
    let chains = web::block(move || {
        wgs84.iter().map(|(lat, lng)| index.lookup(*lng, *lat).into_iter().map(|a| a.code.clone()).collect()).collect()
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(gridwork_mobile_core::wire::BatchLookup { chains }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub level: Option<String>,
    pub parent: Option<String>,
}

pub async fn list(_caller: Caller, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let level = q.level.as_deref().map(str::parse::<AreaLevel>).transpose()?;
    let index = state.areas();
    let areas: Vec<AreaSummary> = match &q.parent {
        Some(parent) => {
            if index.get(parent).is_none() {
                return Err(ApiError::not_found(format!("no area {parent}")));
            }
            index.children_of(parent).into_iter().filter(|a| level.is_none_or(|l| a.level == l)).map(summary).collect()
        }
        None => index.all().filter(|a| level.is_none_or(|l| a.level == l)).map(summary).collect(),
    };
    Ok(HttpResponse::Ok().json(AreaList { areas }))
}

fn summary(a: &crate::areas::index::AreaInfo) -> AreaSummary {
    AreaSummary { code: a.code.clone(), name: a.name.clone(), level: a.level }
}

pub async fn get(_caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let lookup_code = code.clone();
    let (row, history) = state
        .db
        .run(move |conn| {
            let row = queries::areas::current_by_code(conn, &lookup_code)?
                .ok_or_else(|| ApiError::not_found(format!("no area {lookup_code}")))?;
            let history = queries::areas::history(conn, &lookup_code)?;
            Ok((row, history))
        })
        .await?;
    let index = state.areas();
    let parent = index.parent_of(&code).map(summary);
    let children = index.children_of(&code).into_iter().map(summary).collect();
    let geometry = serde_json::from_str(&row.geometry).map_err(|e| ApiError::internal(e.to_string()))?;
    let versions = history
        .iter()
        .map(|(from, to)| AreaVersion { valid_from: from.and_utc(), valid_to: to.map(|t| t.and_utc()) })
        .collect();
    Ok(HttpResponse::Ok().json(AreaDetail {
        level: row.level.parse()?,
        code: row.code,
        name: row.name,
        parent,
        children,
        area_m2: row.area_m2,
        radius_m: row.radius_m,
        valid_from: row.valid_from.and_utc(),
        versions,
        geometry,
    }))
}

/// `GET /areas/{code}/children`: the areas one level down with their outlines.
pub async fn children(_caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    if state.areas().get(&code).is_none() {
        return Err(ApiError::not_found(format!("no area {code}")));
    }
    let parent = code.clone();
    let rows = state.db.run(move |conn| Ok(queries::areas::current_children(conn, &parent)?)).await?;
    let areas = rows
        .into_iter()
        .map(|row| {
            Ok(AreaOutline {
                level: row.level.parse()?,
                geometry: serde_json::from_str(&row.geometry).map_err(|e| ApiError::internal(e.to_string()))?,
                code: row.code,
                name: row.name,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok().json(AreaOutlines { code, areas }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CellsQuery {
    pub res: Option<u8>,
}

/// Most cells one answer may carry; a finer resolution over a large area must be asked per child.
const MAX_CELLS: usize = 100_000;

pub async fn cells(
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<CellsQuery>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let lookup_code = code.clone();
    let row = state
        .db
        .run(move |conn| {
            queries::areas::current_by_code(conn, &lookup_code)?
                .ok_or_else(|| ApiError::not_found(format!("no area {lookup_code}")))
        })
        .await?;
    let level: AreaLevel = row.level.parse()?;
    let res = match q.res {
        None => levels::resolution(level),
        Some(r) => {
            h3o::Resolution::try_from(r).map_err(|_| ApiError::field("res", "out_of_range", "res must be 0 to 15"))?
        }
    };
    let cells = web::block(move || -> Result<Vec<String>, ApiError> {
        let g = store::parse_geometry(&row.geometry).map_err(ApiError::internal)?;
        let mut tiler = h3o::geom::TilerBuilder::new(res).containment_mode(h3o::geom::ContainmentMode::Covers).build();
        tiler.add_batch(g.0.iter().cloned()).map_err(|e| ApiError::internal(e.to_string()))?;
        if tiler.coverage_size_hint() > MAX_CELLS * 4 {
            return Err(ApiError::field(
                "res",
                "too_many_cells",
                format!("more than {MAX_CELLS} cells at res {res}; choose a coarser res"),
            ));
        }
        let cells: Vec<String> = tiler.into_coverage().map(|c| c.to_string()).collect();
        if cells.len() > MAX_CELLS {
            return Err(ApiError::field(
                "res",
                "too_many_cells",
                format!("more than {MAX_CELLS} cells at res {res}; choose a coarser res"),
            ));
        }
        Ok(cells)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok(HttpResponse::Ok().json(AreaCells { code, res: u8::from(res), count: cells.len(), cells }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    pub code_prop: Option<String>,
    pub name_prop: Option<String>,
    pub level: Option<String>,
    pub level_prop: Option<String>,
    pub parent_prop: Option<String>,
    pub parent_code: Option<String>,
    pub crs: Option<String>,
    pub radius_prop: Option<String>,
    pub repair: Option<bool>,
    pub dry_run: Option<bool>,
    pub containment_tolerance: Option<f64>,
    pub overlap_tolerance: Option<f64>,
}

impl ImportQuery {
    pub fn into_parts(self) -> ApiResult<(Mapping, Options)> {
        let d = Mapping::default();
        let mapping = Mapping {
            code_prop: self.code_prop.unwrap_or(d.code_prop),
            name_prop: self.name_prop.unwrap_or(d.name_prop),
            level: self.level.as_deref().map(str::parse::<AreaLevel>).transpose()?,
            level_prop: self.level_prop.unwrap_or(d.level_prop),
            parent_prop: self.parent_prop.unwrap_or(d.parent_prop),
            parent_code: self.parent_code.as_deref().map(AreaCode::parse).transpose()?.map(String::from),
            crs: parse_crs(self.crs.as_deref())?,
            radius_prop: self.radius_prop.unwrap_or(d.radius_prop),
        };
        let o = Options::default();
        let tolerance = |name: &str, v: Option<f64>, default: f64| -> ApiResult<f64> {
            match v {
                None => Ok(default),
                Some(t) if (0.0..=1.0).contains(&t) => Ok(t),
                Some(_) => Err(ApiError::field(name, "out_of_range", format!("{name} must be between 0 and 1"))),
            }
        };
        let options = Options {
            repair: self.repair.unwrap_or(false),
            dry_run: self.dry_run.unwrap_or(false),
            containment_tolerance: tolerance(
                "containment_tolerance",
                self.containment_tolerance,
                o.containment_tolerance,
            )?,
            overlap_tolerance: tolerance("overlap_tolerance", self.overlap_tolerance, o.overlap_tolerance)?,
        };
        Ok((mapping, options))
    }
}

/// `POST /api/v1/areas/import?…` with the GeoJSON FeatureCollection as the body.
pub async fn import(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<ImportQuery>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require_over(&[Role::Admin], None, &*state.areas())?;
    let (mapping, options) = q.into_inner().into_parts()?;
    let _guard = state.import_lock.lock().await;
    let report = state.db.run(move |conn| store::import(conn, &body, &mapping, &options, &mut |_, _, _| {})).await?;
    if !report.errors.is_empty() {
        return Err(store::rejected(&report));
    }
    if report.applied && (report.created > 0 || report.updated > 0) {
        state.reload_areas().await.map_err(|e| ApiError::internal(e.to_string()))?;
    }
    tracing::info!(created = report.created, updated = report.updated, unchanged = report.unchanged, "areas imported");
    Ok(HttpResponse::Ok().json(report))
}
