//! Duty and location for field staff: `GET|PUT /me/duty`, `POST /me/location` (batched).

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::wire::{DutyRequest, DutyView, LatLng, LocationBatch};

use super::events::{Point, PointExt};
use crate::auth::Caller;
use crate::duty::{self, Ping};
use crate::error::ApiResult;
use crate::http::extract::ValidJson;
use crate::models::worker::WorkerStatusRow;
use crate::state::AppState;

fn view(row: &WorkerStatusRow) -> DutyView {
    DutyView {
        on_duty: row.on_duty,
        location: row.lat.zip(row.lng).map(|(lat, lng)| LatLng { lat, lng }),
        located_at: row.located_at.map(|t| t.and_utc()),
        updated_at: row.updated_at.and_utc(),
    }
}

pub async fn get(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let row = state.db.run(move |conn| duty::status(conn, &caller)).await?;
    Ok(HttpResponse::Ok().json(view(&row)))
}

pub type DutyBody = DutyRequest;

pub async fn set(caller: Caller, state: web::Data<AppState>, body: ValidJson<DutyBody>) -> ApiResult<HttpResponse> {
    let (on, at) = (body.0.on_duty, body.0.at.map(|t| t.naive_utc()));
    let row = state.db.run(move |conn| duty::set_duty(conn, &caller, on, at)).await?;
    Ok(HttpResponse::Ok().json(view(&row)))
}

pub type LocationBody = LocationBatch;

pub async fn location(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<LocationBody>,
) -> ApiResult<HttpResponse> {
    let mut pings = vec![];
    for (i, p) in body.0.pings.iter().enumerate() {
        let (lat, lng) = Point { lat: p.lat, lng: p.lng, crs: p.crs }.wgs84(&format!("pings[{i}]"))?;
        if let Some(a) = p.accuracy_m
            && !(a.is_finite() && a >= 0.0)
        {
            return Err(crate::error::ApiError::field(
                &format!("pings[{i}].accuracy_m"),
                "out_of_range",
                "accuracy_m must be a non-negative number of metres",
            ));
        }
        let recorded_at = chrono::SubsecRound::trunc_subsecs(p.recorded_at.naive_utc(), 6);
        pings.push(Ping { lat, lng, accuracy_m: p.accuracy_m, recorded_at });
    }
    let stored = state.db.run(move |conn| duty::record(conn, &caller, &pings)).await?;
    Ok(HttpResponse::Ok().json(stored))
}
