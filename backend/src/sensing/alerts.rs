//! Alerts: what a judged value leads to (the core's `sensing::judge`) written down — the alert
//! raised, moved, annotated or cleared; the event orange and red open (one open event per
//! sensor and indicator; later alerts annotate it); ops staff over the area told. Also the
//! silence scan (a sensor that stopped reporting) and acknowledging an alert.

use chrono::NaiveDateTime;
use gridwork_mobile_core::domain::event::EventState;
use gridwork_mobile_core::domain::sensing::{self, AlertKind, AlertLevel, AlertState, OpenAlert, Thresholds, Verdict};
use gridwork_mobile_core::wire::AlertView;
use gridwork_mobile_core::{AreaCode, Role};
use serde_json::json;

use super::indicators::Indicator;
use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::events::actions::Ctx;
use crate::events::intake::{self, DirectReport};
use crate::events::timeline::{self, Who};
use crate::events::{holders_over_area, notify};
use crate::models::event::EventRow;
use crate::models::sensing::{AlertRow, SensorRow};
use crate::models::{new_id, now};
use crate::queries;

/// The ops centres an alert is pushed to.
const TOLD: [Role; 3] = [Role::Coordinator, Role::DistrictOperator, Role::CityOperator];

pub fn view(a: &AlertRow, sensor: &SensorRow) -> ApiResult<AlertView> {
    let bad = |e: gridwork_mobile_core::DomainError| ApiError::internal(e.message);
    Ok(AlertView {
        id: a.id.clone(),
        kind: a.kind.parse().map_err(bad)?,
        indicator: a.indicator_code.clone(),
        sensor: sensor.code.clone(),
        area: sensor.area_code.clone(),
        level: a.level.parse().map_err(bad)?,
        state: a.state.parse().map_err(bad)?,
        raised_value: a.raised_value,
        peak_value: a.peak_value,
        last_value: a.last_value,
        event_id: a.event_id.clone(),
        raised_at: a.raised_at.and_utc(),
        acknowledged_at: a.acknowledged_at.map(|t| t.and_utc()),
        cleared_at: a.cleared_at.map(|t| t.and_utc()),
    })
}

fn subject(sensor: &SensorRow, indicator: Option<&str>) -> String {
    format!("{}/{}", sensor.id, indicator.unwrap_or("offline"))
}

fn tell(conn: &mut DbConn, index: &AreaIndex, sensor: &SensorRow, kind: &str, alert: &AlertRow) -> ApiResult<()> {
    let area = AreaCode::parse(&sensor.area_code).ok();
    let mut users = vec![];
    for role in TOLD {
        users.extend(holders_over_area(conn, index, area.as_ref(), role, None)?);
    }
    let payload = json!({
        "alert_id": alert.id,
        "sensor": sensor.code,
        "indicator": alert.indicator_code,
        "level": alert.level,
        "value": alert.last_value,
        "event_id": alert.event_id,
    });
    notify::send_to(conn, &users, alert.event_id.as_deref(), kind, &payload)
}

/// The event, if it is still being handled.
fn still_open(conn: &mut DbConn, id: Option<&str>) -> ApiResult<Option<EventRow>> {
    let Some(id) = id else { return Ok(None) };
    Ok(queries::events::by_id(conn, id)?
        .filter(|e| !matches!(e.state.parse(), Ok(EventState::Closed | EventState::Rejected))))
}

fn note(conn: &mut DbConn, event: &EventRow, action: &str, detail: serde_json::Value) -> ApiResult<()> {
    timeline::note(conn, event, &Who::system(), action, None, detail)?;
    Ok(())
}

fn description(sensor: &SensorRow, ind: &Indicator, level: AlertLevel, value: f64) -> String {
    format!("{} {value}{}（{level}预警）— 感知设备 {}（{}）", ind.name, ind.unit, sensor.name, sensor.code)
}

/// Writes what one judged value of a sensor's indicator leads to, inside the ingest's transaction.
pub fn judge_value(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    sensor: &SensorRow,
    ind: &Indicator,
    th: &Thresholds,
    value: f64,
    at: NaiveDateTime,
) -> ApiResult<()> {
    let subject = subject(sensor, Some(&ind.code));
    let open = queries::sensing::open_alert(conn, &subject)?;
    let own_event = still_open(conn, open.as_ref().and_then(|a| a.event_id.as_deref()))?;
    let facts = match &open {
        Some(a) => Some(OpenAlert {
            level: a.level.parse().map_err(|e: gridwork_mobile_core::DomainError| ApiError::internal(e.message))?,
            state: a.state.parse().map_err(|e: gridwork_mobile_core::DomainError| ApiError::internal(e.message))?,
            noted_value: a.noted_value.or(a.raised_value).unwrap_or(value),
            has_event: own_event.is_some(),
        }),
        None => None,
    };
    // An earlier alert's event still being handled matters only when this value would open one.
    let mut verdict = sensing::judge(th, facts.as_ref(), false, value);
    let mut earlier_event = None;
    if matches!(verdict, Verdict::Raise { open_event: true, .. } | Verdict::Change { open_event: true, .. }) {
        let last = queries::sensing::last_event_of(conn, &subject)?;
        earlier_event = still_open(conn, last.as_deref())?;
        verdict = sensing::judge(th, facts.as_ref(), earlier_event.is_some(), value);
    }
    let file = |conn: &mut DbConn, level: AlertLevel| -> ApiResult<Option<EventRow>> {
        let Some(category) = &ind.category else { return Ok(None) };
        let report = DirectReport {
            source: gridwork_mobile_core::domain::event::Source::Sensor,
            reporter: crate::events::SYSTEM_USER.to_owned(),
            who: Who::system(),
            category: category.clone(),
            grade: Some(level.grade()),
            lat: sensor.lat,
            lng: sensor.lng,
            description: description(sensor, ind, level, value),
            detail: json!({"sensor": sensor.code, "indicator": ind.code, "level": level.as_str(), "value": value}),
        };
        intake::open_direct(conn, ctx, &report).map(Some)
    };
    match (verdict, open) {
        (Verdict::Quiet, Some(mut a)) => {
            a.last_value = Some(value);
            a.peak_value = Some(worse(th, a.peak_value, value));
            queries::sensing::update_alert(conn, &a)?;
        }
        (Verdict::Raise { level, open_event }, None) => {
            let event = match (&earlier_event, open_event) {
                (Some(e), _) => {
                    note(conn, e, "sensor_alert", json!({"level": level.as_str(), "value": value}))?;
                    Some(e.clone())
                }
                (None, true) => file(conn, level)?,
                (None, false) => None,
            };
            let row = AlertRow {
                id: new_id(),
                kind: AlertKind::Threshold.as_str().to_owned(),
                sensor_id: sensor.id.clone(),
                indicator_code: Some(ind.code.clone()),
                subject,
                level: level.as_str().to_owned(),
                state: AlertState::Raised.as_str().to_owned(),
                raised_value: Some(value),
                peak_value: Some(value),
                last_value: Some(value),
                noted_value: Some(value),
                event_id: event.map(|e| e.id),
                raised_at: at,
                acknowledged_at: None,
                acknowledged_by: None,
                cleared_at: None,
            };
            queries::sensing::insert_alert(conn, &row)?;
            tell(conn, ctx.index, sensor, "alert_raised", &row)?;
        }
        (Verdict::Change { level, rose, open_event }, Some(mut a)) => {
            let from = a.level.clone();
            a.level = level.as_str().to_owned();
            a.last_value = Some(value);
            a.peak_value = Some(worse(th, a.peak_value, value));
            a.noted_value = Some(value);
            if rose {
                a.state = AlertState::Raised.as_str().to_owned();
                a.acknowledged_at = None;
                a.acknowledged_by = None;
            }
            match (&own_event, &earlier_event, open_event) {
                (Some(e), _, _) => {
                    note(conn, e, "sensor_level", json!({"from": from, "to": level.as_str(), "value": value}))?;
                }
                // Rising into orange while an earlier alert's event is still handled: that one.
                (None, Some(e), _) => {
                    note(conn, e, "sensor_alert", json!({"level": level.as_str(), "value": value}))?;
                    a.event_id = Some(e.id.clone());
                }
                (None, None, true) => a.event_id = file(conn, level)?.map(|e| e.id),
                (None, None, false) => {}
            }
            queries::sensing::update_alert(conn, &a)?;
            if rose {
                tell(conn, ctx.index, sensor, "alert_raised", &a)?;
            }
        }
        (Verdict::Annotate, Some(mut a)) => {
            if let Some(e) = &own_event {
                note(conn, e, "sensor_reading", json!({"level": a.level, "value": value}))?;
            }
            a.last_value = Some(value);
            a.peak_value = Some(worse(th, a.peak_value, value));
            a.noted_value = Some(value);
            queries::sensing::update_alert(conn, &a)?;
        }
        (Verdict::Clear, Some(mut a)) => {
            a.last_value = Some(value);
            clear(conn, ctx.index, sensor, &mut a, own_event.as_ref(), "normal", at)?;
        }
        (_, _) => {}
    }
    Ok(())
}

/// The graver of the worst value so far and this one.
fn worse(th: &Thresholds, peak: Option<f64>, value: f64) -> f64 {
    match (peak, th.direction) {
        (None, _) => value,
        (Some(p), sensing::Direction::Above) => p.max(value),
        (Some(p), sensing::Direction::Below) => p.min(value),
    }
}

fn clear(
    conn: &mut DbConn,
    index: &AreaIndex,
    sensor: &SensorRow,
    a: &mut AlertRow,
    event: Option<&EventRow>,
    why: &str,
    at: NaiveDateTime,
) -> ApiResult<()> {
    a.state = AlertState::Cleared.as_str().to_owned();
    a.cleared_at = Some(at);
    queries::sensing::update_alert(conn, a)?;
    if let Some(e) = event {
        note(conn, e, "sensor_cleared", json!({"alert": a.id, "why": why, "value": a.last_value}))?;
    }
    tell(conn, index, sensor, "alert_cleared", a)
}

/// Clears every open alert of a sensor (it was retired).
pub fn clear_all_of(conn: &mut DbConn, sensor: &SensorRow, why: &str) -> ApiResult<()> {
    let mut subjects: Vec<String> = sensor.indicator_codes().iter().map(|i| subject(sensor, Some(i))).collect();
    subjects.push(subject(sensor, None));
    for s in subjects {
        if let Some(mut a) = queries::sensing::open_alert(conn, &s)? {
            let event = still_open(conn, a.event_id.as_deref())?;
            a.state = AlertState::Cleared.as_str().to_owned();
            a.cleared_at = Some(now());
            queries::sensing::update_alert(conn, &a)?;
            if let Some(e) = event {
                note(conn, &e, "sensor_cleared", json!({"alert": a.id, "why": why}))?;
            }
        }
    }
    Ok(())
}

/// The sensor spoke: an open offline alert of it clears.
pub fn heard_from(conn: &mut DbConn, index: &AreaIndex, sensor: &SensorRow, at: NaiveDateTime) -> ApiResult<()> {
    if let Some(mut a) = queries::sensing::open_alert(conn, &subject(sensor, None))? {
        clear(conn, index, sensor, &mut a, None, "reporting again", at)?;
    }
    Ok(())
}

/// The scheduler's silence scan: every active sensor silent for twice its interval gets an
/// offline alert (one; the partial unique index keeps two servers from doubling it).
pub fn scan_silent(conn: &mut DbConn, index: &AreaIndex, at: NaiveDateTime) -> ApiResult<usize> {
    let mut raised = 0;
    for sensor in queries::sensing::active_sensors(conn)? {
        let silent = sensing::is_silent(
            sensor.last_seen_at.map(|t| t.and_utc()),
            sensor.created_at.and_utc(),
            sensor.expected_interval_secs,
            at.and_utc(),
        );
        if !silent {
            continue;
        }
        let s = subject(&sensor, None);
        let done: ApiResult<bool> = write_tx(conn, |conn| {
            if queries::sensing::open_alert(conn, &s)?.is_some() {
                return Ok(false);
            }
            let row = AlertRow {
                id: new_id(),
                kind: AlertKind::Offline.as_str().to_owned(),
                sensor_id: sensor.id.clone(),
                indicator_code: None,
                subject: s.clone(),
                level: AlertLevel::Blue.as_str().to_owned(),
                state: AlertState::Raised.as_str().to_owned(),
                raised_value: None,
                peak_value: None,
                last_value: None,
                noted_value: None,
                event_id: None,
                raised_at: at,
                acknowledged_at: None,
                acknowledged_by: None,
                cleared_at: None,
            };
            queries::sensing::insert_alert(conn, &row)?;
            tell(conn, index, &sensor, "sensor_offline", &row)?;
            Ok(true)
        });
        match done {
            Ok(true) => raised += 1,
            Ok(false) => {}
            // Another server raised it between our look and our insert.
            Err(e) if e.code == crate::error::ErrorCode::Conflict => {}
            Err(e) => return Err(e),
        }
    }
    Ok(raised)
}

/// Ops staff over the sensor acknowledge a raised alert (they have seen it).
pub fn acknowledge(conn: &mut DbConn, index: &AreaIndex, caller: &Caller, id: &str) -> ApiResult<AlertView> {
    write_tx(conn, |conn| {
        let (mut a, sensor) = queries::sensing::alert(conn, id)?.ok_or_else(|| ApiError::not_found("no such alert"))?;
        if !caller.holds_over_code(&super::WATCH_ROLES, &sensor.area_code, index) {
            return Err(ApiError::not_found("no such alert"));
        }
        super::sensors::require_ops_over(caller, &sensor, index)?;
        let state: AlertState =
            a.state.parse().map_err(|e: gridwork_mobile_core::DomainError| ApiError::internal(e.message))?;
        sensing::may_acknowledge(state).map_err(ApiError::refusal)?;
        a.state = AlertState::Acknowledged.as_str().to_owned();
        a.acknowledged_at = Some(now());
        a.acknowledged_by = Some(caller.user.id.clone());
        queries::sensing::update_alert(conn, &a)?;
        view(&a, &sensor)
    })
}
