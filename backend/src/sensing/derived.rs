//! Vital signs from Gridwork's own events: per street, the reports filed per hour and the share
//! of open events past their deadline. Each street has a `derived` sensor (made on first use, at
//! the street's interior point, with no usable secret), and the scheduler sends it readings like
//! any device, so thresholds, overrides, alerts, roll-ups and the vital-signs panel all apply.
//! These indicators name no category: their alerts tell the ops centres, they open no event.

use chrono::{Duration, NaiveDateTime};
use gridwork_mobile_core::AreaLevel;
use gridwork_mobile_core::domain::event::EventState;
use gridwork_mobile_core::wire::{Reading, ReadingBatch};

use super::indicators::{self, Indicator};
use super::ingest::{self, Limits};
use crate::auth::token;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::events::actions::Ctx;
use crate::models::new_id;
use crate::models::sensing::SensorRow;
use crate::queries;

/// The indicators the server computes itself.
pub const DERIVED: [&str; 2] = ["reports_per_hour", "overdue_share"];

fn sensor_code(street: &str) -> String {
    format!("derived.{street}")
}

/// The street's derived sensor, made (or given the indicators) as needed.
fn sensor_of(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    street: &str,
    indicators: &[String],
    at: NaiveDateTime,
) -> ApiResult<Option<SensorRow>> {
    let wanted = serde_json::to_string(indicators).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(row) = queries::sensing::sensor_by_code(conn, &sensor_code(street))? {
        if row.indicators != wanted {
            queries::sensing::set_indicators(conn, &row.id, &wanted)?;
        }
        return Ok(queries::sensing::sensor_by_code(conn, &sensor_code(street))?);
    }
    let Some((lat, lng, name)) = crate::areas::store::interior_point(conn, street)? else { return Ok(None) };
    let chain = ctx.index.lookup(lng, lat);
    let code_at = |level: AreaLevel| chain.iter().find(|a| a.level == level).map(|a| a.code.clone());
    let row = SensorRow {
        id: new_id(),
        code: sensor_code(street),
        name: format!("{name} 事件统计"),
        indicators: wanted,
        lat,
        lng,
        area_code: street.to_owned(),
        city_code: code_at(AreaLevel::City),
        district_code: code_at(AreaLevel::District),
        street_code: Some(street.to_owned()),
        community_code: None,
        grid_code: None,
        compound_code: None,
        building_code: None,
        kind: "derived".to_owned(),
        // Nobody holds this secret: the figures come only from the scheduler.
        secret_hash: token::hash(&token::generate()),
        expected_interval_secs: 3600,
        last_seen_at: None,
        battery: None,
        registered_by: crate::events::SYSTEM_USER.to_owned(),
        created_at: at,
        retired_at: None,
    };
    queries::sensing::insert_sensor(conn, &row)?;
    Ok(Some(row))
}

/// One pass at `at`: every street's figures as readings of its derived sensor.
pub fn compute(conn: &mut DbConn, ctx: Ctx<'_>, limits: Limits, at: NaiveDateTime) -> ApiResult<usize> {
    let active: Vec<Indicator> =
        indicators::all(conn)?.into_iter().filter(|i| i.active && DERIVED.contains(&i.code.as_str())).collect();
    if active.is_empty() {
        return Ok(0);
    }
    let window = |code: &str| active.iter().find(|i| i.code == code).map(|i| Duration::seconds(i.window_secs));
    let reports = match window("reports_per_hour") {
        Some(w) => Some((w, queries::sensing::reports_per_street(conn, at - w)?)),
        None => None,
    };
    let open: Vec<&str> = EventState::ALL
        .iter()
        .filter(|s| !matches!(s, EventState::Closed | EventState::Rejected | EventState::Suspended))
        .map(|s| s.as_str())
        .collect();
    let overdue = match window("overdue_share") {
        Some(_) => Some(queries::sensing::overdue_per_street(conn, &open, at)?),
        None => None,
    };
    let codes: Vec<String> = active.iter().map(|i| i.code.clone()).collect();
    let streets: Vec<String> =
        ctx.index.all().filter(|a| a.level == AreaLevel::Street).map(|a| a.code.clone()).collect();
    let mut sent = 0;
    for street in streets {
        let mut readings = vec![];
        if let Some((w, per)) = &reports {
            let n = per.iter().find(|(s, _)| s.as_deref() == Some(street.as_str())).map_or(0, |(_, n)| *n);
            let hours = w.num_seconds() as f64 / 3600.0;
            readings.push(Reading { indicator: "reports_per_hour".into(), value: n as f64 / hours, at: at.and_utc() });
        }
        if let Some(per) = &overdue {
            let (all, late) =
                per.iter().find(|(s, _, _)| s.as_deref() == Some(street.as_str())).map_or((0, 0), |(_, a, l)| (*a, *l));
            let share = if all == 0 { 0.0 } else { 100.0 * late as f64 / all as f64 };
            readings.push(Reading { indicator: "overdue_share".into(), value: share, at: at.and_utc() });
        }
        let Some(sensor) = crate::db::write_tx(conn, |conn| sensor_of(conn, ctx, &street, &codes, at))? else {
            continue;
        };
        ingest::ingest(conn, ctx, limits, &sensor, &ReadingBatch { readings, battery: None })?;
        sent += 1;
    }
    Ok(sent)
}
