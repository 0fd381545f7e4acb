//! `GET /hotspots`: the hotspots the scheduler found (研判·热点) in the streets the caller steers,
//! with the reports that make each. Ops centres only.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::AreaCode;
use gridwork_mobile_core::domain::area::AreaTree;
use gridwork_mobile_core::domain::event::OPS_ROLES;
use gridwork_mobile_core::wire::{Hotspot, HotspotList, LatLng};
use serde::Deserialize;

use super::events::area_filter;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::queries;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HotspotQuery {
    /// `active` or `cooled` [default: active]
    pub state: Option<String>,
    /// Only hotspots in this area (a street or above).
    pub area: Option<String>,
    pub category: Option<String>,
}

const HOTSPOTS_MAX: i64 = 2_000;

pub async fn list(caller: Caller, state: web::Data<AppState>, q: web::Query<HotspotQuery>) -> ApiResult<HttpResponse> {
    caller.require_any(&OPS_ROLES)?;
    let q = q.into_inner();
    let wanted = q.state.as_deref().unwrap_or("active").to_owned();
    if !matches!(wanted.as_str(), "active" | "cooled") {
        return Err(ApiError::field("state", "invalid_state", "state is active or cooled"));
    }
    let index = state.areas();
    let within = q.area.as_deref().map(|a| area_filter(&index, a)).transpose()?;
    let rows = state.db.run(move |conn| Ok(queries::hotspots::in_state(conn, &wanted, HOTSPOTS_MAX)?)).await?;
    let hotspots = rows
        .into_iter()
        .filter(|(h, _)| {
            // In reach: the street it lies in is one the caller steers (or the district, if the
            // cell lies in no street).
            let area = h.street_code.as_deref().or(h.district_code.as_deref()).and_then(|c| AreaCode::parse(c).ok());
            match &area {
                Some(a) => caller.holds_over(&OPS_ROLES, Some(a), &*index),
                None => caller.holds_over(&OPS_ROLES, None, &*index),
            }
        })
        .filter(|(h, _)| q.category.as_deref().is_none_or(|c| h.category_code == c.trim()))
        .filter(|(h, _)| {
            within.as_ref().is_none_or(|(_, code)| {
                let Ok(root) = AreaCode::parse(code) else { return false };
                let inside = |c: &Option<String>| {
                    c.as_deref().and_then(|s| AreaCode::parse(s).ok()).is_some_and(|a| index.is_within(&a, &root))
                };
                inside(&h.street_code) || (h.street_code.is_none() && inside(&h.district_code))
            })
        })
        .map(|(h, events)| Hotspot {
            id: h.id,
            category: h.category_code,
            cell: h.cell,
            center: LatLng { lat: h.lat, lng: h.lng },
            street_code: h.street_code,
            event_count: h.event_count,
            first_event_at: h.first_event_at.and_utc(),
            last_event_at: h.last_event_at.and_utc(),
            state: h.state,
            detected_at: h.detected_at.and_utc(),
            events,
        })
        .collect();
    Ok(HttpResponse::Ok().json(HotspotList { hotspots }))
}
