//! Sensors (感知终端): placed at a point (resolved to its seven areas), reporting some
//! indicators, each with a secret shown once and kept as its SHA-256. Ops staff over the point
//! register, re-key and retire them.

use gridwork_mobile_core::domain::event::OPS_ROLES;
use gridwork_mobile_core::domain::sensing::check_device_code;
use gridwork_mobile_core::wire::{SensorRequest, SensorView};
use gridwork_mobile_core::{AreaCode, AreaLevel};

use crate::areas::AreaIndex;
use crate::auth::{Caller, token};
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::models::sensing::SensorRow;
use crate::models::{new_id, now};
use crate::queries;

pub fn view(row: &SensorRow, secret: Option<String>) -> SensorView {
    SensorView {
        id: row.id.clone(),
        code: row.code.clone(),
        kind: row.kind.clone(),
        name: row.name.clone(),
        indicators: row.indicator_codes(),
        lat: row.lat,
        lng: row.lng,
        area: row.area_code.clone(),
        expected_interval_secs: row.expected_interval_secs,
        last_seen_at: row.last_seen_at.map(|t| t.and_utc()),
        battery: row.battery,
        created_at: row.created_at.and_utc(),
        retired_at: row.retired_at.map(|t| t.and_utc()),
        secret,
    }
}

/// Ops staff over the sensor's deepest area.
pub fn require_ops_over(caller: &Caller, row: &SensorRow, index: &AreaIndex) -> ApiResult<()> {
    let area = AreaCode::parse(&row.area_code).ok();
    caller.require_over(&OPS_ROLES, area.as_ref(), index)
}

/// Registers a sensor; the answer carries its secret, which is never shown again.
pub fn register(conn: &mut DbConn, index: &AreaIndex, caller: &Caller, req: &SensorRequest) -> ApiResult<SensorView> {
    let code = req.code.trim().to_owned();
    check_device_code(&code).map_err(ApiError::refusal)?;
    if !(-90.0..=90.0).contains(&req.lat) || !(-180.0..=180.0).contains(&req.lng) {
        return Err(ApiError::field("lat", "invalid_point", "a WGS-84 point"));
    }
    let chain = index.lookup(req.lng, req.lat);
    let Some(deepest) = chain.last() else {
        return Err(ApiError::field("lat", "outside_service_area", "the point lies outside every mapped area"));
    };
    let area = AreaCode::parse(&deepest.code).map_err(|e| ApiError::internal(e.message))?;
    caller.require_over(&OPS_ROLES, Some(&area), index)?;
    let code_at = |level: AreaLevel| chain.iter().find(|a| a.level == level).map(|a| a.code.clone());
    let mut indicators: Vec<String> = req.indicators.iter().map(|i| i.trim().to_owned()).collect();
    indicators.sort();
    indicators.dedup();
    let secret = token::generate();
    let row = SensorRow {
        id: new_id(),
        code: code.clone(),
        name: req.name.trim().to_owned(),
        indicators: serde_json::to_string(&indicators).map_err(|e| ApiError::internal(e.to_string()))?,
        lat: req.lat,
        lng: req.lng,
        area_code: deepest.code.clone(),
        city_code: code_at(AreaLevel::City),
        district_code: code_at(AreaLevel::District),
        street_code: code_at(AreaLevel::Street),
        community_code: code_at(AreaLevel::Community),
        grid_code: code_at(AreaLevel::Grid),
        compound_code: code_at(AreaLevel::Compound),
        building_code: code_at(AreaLevel::Building),
        kind: "device".to_owned(),
        secret_hash: token::hash(&secret),
        expected_interval_secs: req.expected_interval_secs,
        last_seen_at: None,
        battery: None,
        registered_by: caller.user.id.clone(),
        created_at: now(),
        retired_at: None,
    };
    write_tx(conn, |conn| {
        for (i, ind) in indicators.iter().enumerate() {
            if super::derived::DERIVED.contains(&ind.as_str()) {
                return Err(ApiError::field(
                    &format!("indicators[{i}]"),
                    "derived_indicator",
                    format!("{ind:?} is computed by the server from its events"),
                ));
            }
            if !queries::sensing::indicator(conn, ind)?.is_some_and(|r| r.active) {
                return Err(ApiError::field(
                    &format!("indicators[{i}]"),
                    "unknown_indicator",
                    format!("no active indicator {ind:?}"),
                ));
            }
        }
        if queries::sensing::sensor_by_code(conn, &code)?.is_some() {
            return Err(ApiError::field("code", "duplicate", format!("a sensor {code:?} is registered already")));
        }
        queries::sensing::insert_sensor(conn, &row)?;
        let detail = format!("{} at {}", row.code, row.area_code);
        queries::audit::record(conn, Some(&caller.user.id), "sensor.register", &row.id, &detail)?;
        Ok::<(), ApiError>(())
    })?;
    Ok(view(&row, Some(secret)))
}

/// A new secret for a sensor (the old one stops working at once).
pub fn rekey(conn: &mut DbConn, index: &AreaIndex, caller: &Caller, id: &str) -> ApiResult<SensorView> {
    let row = visible(conn, index, caller, id)?;
    require_ops_over(caller, &row, index)?;
    let secret = token::generate();
    write_tx(conn, |conn| {
        queries::sensing::set_secret(conn, &row.id, &token::hash(&secret))?;
        queries::audit::record(conn, Some(&caller.user.id), "sensor.rekey", &row.id, &row.code)?;
        Ok::<(), ApiError>(())
    })?;
    Ok(view(&row, Some(secret)))
}

/// Takes a sensor out of service: its readings are refused, its open alerts cleared.
pub fn retire(conn: &mut DbConn, index: &AreaIndex, caller: &Caller, id: &str) -> ApiResult<SensorView> {
    let row = visible(conn, index, caller, id)?;
    require_ops_over(caller, &row, index)?;
    write_tx(conn, |conn| {
        if queries::sensing::retire(conn, &row.id, now())? == 0 {
            return Err(ApiError::conflict("the sensor is retired already"));
        }
        super::alerts::clear_all_of(conn, &row, "retired")?;
        queries::audit::record(conn, Some(&caller.user.id), "sensor.retire", &row.id, &row.code)?;
        Ok::<(), ApiError>(())
    })?;
    let row = queries::sensing::sensor_by_id(conn, id)?.ok_or_else(|| ApiError::not_found("no such sensor"))?;
    Ok(view(&row, None))
}

/// A sensor the caller may see (ops staff and grid workers over its area); 404 otherwise, so
/// an id outside reach says nothing.
pub fn visible(conn: &mut DbConn, index: &AreaIndex, caller: &Caller, id: &str) -> ApiResult<SensorRow> {
    let row = queries::sensing::sensor_by_id(conn, id)?.ok_or_else(|| ApiError::not_found("no such sensor"))?;
    if !caller.holds_over_code(&super::WATCH_ROLES, &row.area_code, index) {
        return Err(ApiError::not_found("no such sensor"));
    }
    Ok(row)
}

/// The sensor a secret belongs to: registered under `code`, not retired, and the secret's
/// hash matches. Every failure is the same refusal, so a code's existence is not revealed.
pub fn authenticate(conn: &mut DbConn, code: &str, secret: &str) -> ApiResult<SensorRow> {
    let refused = || ApiError::unauthorized("unknown sensor or wrong secret");
    let row = queries::sensing::sensor_by_code(conn, code)?.ok_or_else(refused)?;
    if row.retired_at.is_some() || row.kind != "device" || row.secret_hash != token::hash(secret) {
        return Err(refused());
    }
    Ok(row)
}
