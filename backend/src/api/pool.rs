//! `GET /pool`: the community volunteer pool (志愿者任务池): volunteer-eligible events waiting to
//! be claimed in the areas the caller volunteers for, nearest first when the phone says where it
//! is. Claiming is the ordinary `claim` action, decided by the shared machine.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::Role;
use gridwork_mobile_core::domain::event::EventState;
use gridwork_mobile_core::wire::{Point, PoolItem, PoolPage};
use serde::Deserialize;

use super::events::{PointExt, views_of, within_roles};
use super::paging::Window;
use crate::auth::Caller;
use crate::catalog;
use crate::error::{ApiError, ApiResult};
use crate::queries;
use crate::queries::events::EventFilter;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PoolQuery {
    /// Where the volunteer is (with `lng`): the pool is ordered nearest first.
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// The coordinate system of `lat`/`lng` [default: wgs84]
    pub crs: Option<String>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200 [default: 50]
    pub limit: Option<i64>,
}

/// The most pool events one community is expected to hold; beyond it the oldest wait.
const POOL_MAX: i64 = 2_000;

pub async fn pool(caller: Caller, state: web::Data<AppState>, q: web::Query<PoolQuery>) -> ApiResult<HttpResponse> {
    caller.require_any(&[Role::Volunteer])?;
    let q = q.into_inner();
    let window = Window::parse(q.limit, q.cursor.as_deref())?;
    let here = match (q.lat, q.lng) {
        (Some(lat), Some(lng)) => {
            let crs = q.crs.as_deref().map(str::parse).transpose()?;
            Some(Point { lat, lng, crs }.wgs84("lat")?)
        }
        (None, None) => None,
        _ => return Err(ApiError::field("lng", "required", "send lat and lng together")),
    };
    let index = state.areas();
    // The volunteer's own areas only: the pool is never wider than where they serve.
    let mut filter = EventFilter { limit: POOL_MAX, ..within_roles(&caller, &index, &[Role::Volunteer]) };
    filter.states = [EventState::Accepted, EventState::Returned].iter().map(|s| s.as_str().to_owned()).collect();
    let views = state
        .db
        .run(move |conn| {
            let eligible: Vec<String> = queries::categories::all(conn)?
                .iter()
                .map(catalog::from_row)
                .collect::<ApiResult<Vec<_>>>()?
                .into_iter()
                .filter(|c| c.active && c.volunteer_eligible())
                .map(|c| c.code)
                .collect();
            if eligible.is_empty() || (filter.scope.is_empty() && !filter.everywhere) {
                return Ok(vec![]);
            }
            filter.categories = eligible;
            let rows = queries::events::list(conn, &filter)?;
            views_of(conn, &rows)
        })
        .await?;
    let mut items: Vec<PoolItem> = views
        .into_iter()
        .map(|event| {
            let distance_m = here.map(|(lat, lng)| {
                gridwork_mobile_core::domain::crs::distance_m((lng, lat), (event.location.lng, event.location.lat))
            });
            PoolItem { event, distance_m }
        })
        .collect();
    // Nearest first (newest first without a position; the list came newest first).
    if here.is_some() {
        items.sort_by(|a, b| a.distance_m.unwrap_or(f64::MAX).total_cmp(&b.distance_m.unwrap_or(f64::MAX)));
    }
    let (events, next) = window.take(items);
    Ok(HttpResponse::Ok().json(PoolPage { events, limit: window.limit, next }))
}
