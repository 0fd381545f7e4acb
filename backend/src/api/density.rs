//! `GET /events/density`: how many events lie in each H3 cell over the caller's area (研判:
//! where problems cluster), for the console's hotspot layer. Ops centres only; every filter
//! narrows the caller's scope.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::domain::event::OPS_ROLES;
use gridwork_mobile_core::wire::{Density, DensityCell, LatLng};
use serde::Deserialize;

use super::events::{area_filter, scoped, states_param};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::queries;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DensityQuery {
    /// H3 resolution from 5 (about 250 km² a cell) to 11 (about 2,000 m²) [default: 9]
    pub res: Option<u8>,
    pub category: Option<String>,
    /// One state, or several separated by commas [default: any]
    pub state: Option<String>,
    /// Only events in this area (any level).
    pub area: Option<String>,
    /// Reported at or after (RFC 3339).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Reported before (RFC 3339).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// The densest cells answered; a city-wide map at a fine resolution is asked per area.
const MAX_CELLS: usize = 5_000;

pub async fn density(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<DensityQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&OPS_ROLES)?;
    let q = q.into_inner();
    let res = q.res.unwrap_or(9);
    let resolution = match res {
        5..=11 => h3o::Resolution::try_from(res).map_err(|e| ApiError::internal(e.to_string()))?,
        _ => return Err(ApiError::field("res", "out_of_range", "res must be 5 to 11")),
    };
    let index = state.areas();
    let mut filter = scoped(&caller, &index);
    filter.states = states_param(q.state.as_deref())?;
    filter.category = q.category.map(|c| c.trim().to_owned());
    filter.within = q.area.as_deref().map(|a| area_filter(&index, a)).transpose()?;
    filter.created_from = q.from.map(|t| t.naive_utc());
    filter.created_to = q.to.map(|t| t.naive_utc());
    let points = state.db.run(move |conn| Ok(queries::events::points(conn, &filter)?)).await?;
    let density =
        web::block(move || count(&points, resolution)).await.map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(density))
}

fn count(points: &[(f64, f64)], resolution: h3o::Resolution) -> Density {
    let mut by_cell: HashMap<h3o::CellIndex, u64> = HashMap::new();
    for &(lat, lng) in points {
        // Stored points are valid WGS-84 (checked at intake); a bad one is skipped, not fatal.
        if let Ok(p) = h3o::LatLng::new(lat, lng) {
            *by_cell.entry(p.to_cell(resolution)).or_default() += 1;
        }
    }
    let mut cells: Vec<(h3o::CellIndex, u64)> = by_cell.into_iter().collect();
    // Densest first; equal counts in cell order, so the answer is stable.
    cells.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    cells.truncate(MAX_CELLS);
    Density {
        res: u8::from(resolution),
        total: points.len() as u64,
        cells: cells
            .into_iter()
            .map(|(cell, count)| DensityCell {
                cell: cell.to_string(),
                count,
                boundary: cell.boundary().iter().map(|c| LatLng { lat: c.lat(), lng: c.lng() }).collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_counted_per_cell_densest_first() {
        let res = h3o::Resolution::Nine;
        // Three at one spot, one ~1 km away: two cells, 3 then 1.
        let points = [(30.5852, 114.2778), (30.58521, 114.27781), (30.58519, 114.27779), (30.5942, 114.2778)];
        let d = count(&points, res);
        assert_eq!((d.res, d.total), (9, 4));
        assert_eq!(d.cells.iter().map(|c| c.count).collect::<Vec<_>>(), [3, 1]);
        assert_eq!(d.cells[0].boundary.len(), 6);
        let centre = h3o::LatLng::new(30.5852, 114.2778).unwrap().to_cell(res).to_string();
        assert_eq!(d.cells[0].cell, centre);
    }
}
