//! Readings in: one batch of a sensor (an HTTP request or an MQTT message) stored in one
//! transaction — each reading once however often it is resent, the minute and hour roll-ups,
//! the sensor's last sign of life — and every new reading judged in time order.

use std::collections::BTreeMap;

use chrono::{Duration, DurationRound, NaiveDateTime, SubsecRound};
use gridwork_mobile_core::domain::sensing::{self, Aggregation};
use gridwork_mobile_core::wire::{ReadingBatch, ReadingReceipt, RefusedReading};

use super::indicators::{self, Indicator};
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::events::actions::Ctx;
use crate::models::now;
use crate::models::sensing::{ReadingRow, RollupRow, SensorRow};
use crate::queries;

/// How far ahead of the server's clock a reading may be stamped (a device's clock drifts).
const FUTURE_SLACK_SECS: i64 = 300;

/// What the ingest needs beyond the database.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Readings older than this are refused: their raw rows would already be purged.
    pub oldest: Duration,
}

fn refused(index: usize, code: &str, message: impl Into<String>) -> RefusedReading {
    RefusedReading { index, code: code.to_owned(), message: message.into() }
}

/// The indicator registry and every area override, read once per transaction.
struct Registry {
    indicators: std::collections::HashMap<String, Indicator>,
    overrides: Vec<crate::models::sensing::OverrideRow>,
}

impl Registry {
    fn load(conn: &mut DbConn) -> ApiResult<Self> {
        Ok(Self {
            indicators: indicators::all(conn)?.into_iter().map(|i| (i.code.clone(), i)).collect(),
            overrides: queries::sensing::all_overrides(conn)?,
        })
    }
}

/// A batch checked and sorted, ready to store: per indicator its readings in time order.
struct Prepared<'a> {
    sensor: &'a SensorRow,
    battery: Option<f64>,
    by_indicator: BTreeMap<String, Vec<(NaiveDateTime, f64)>>,
    receipt: ReadingReceipt,
}

/// Checks a batch: a malformed one is refused whole; single readings are refused by index.
fn prepare<'a>(
    limits: Limits,
    sensor: &'a SensorRow,
    batch: &ReadingBatch,
    received: NaiveDateTime,
) -> ApiResult<Prepared<'a>> {
    if batch.readings.is_empty() || batch.readings.len() > 1000 {
        return Err(ApiError::field("readings", "invalid_length", "send 1 to 1000 readings"));
    }
    if let Some(b) = batch.battery
        && !(0.0..=100.0).contains(&b)
    {
        return Err(ApiError::field("battery", "out_of_range", "battery is a percentage from 0 to 100"));
    }
    let own = sensor.indicator_codes();
    let mut receipt = ReadingReceipt { stored: 0, duplicates: 0, refused: vec![] };
    // Per indicator, the batch's readings in time order (microseconds: what both backends keep).
    let mut by_indicator: BTreeMap<String, Vec<(NaiveDateTime, f64)>> = BTreeMap::new();
    for (i, r) in batch.readings.iter().enumerate() {
        let at = r.at.naive_utc().trunc_subsecs(6);
        if !own.contains(&r.indicator) {
            receipt.refused.push(refused(
                i,
                "unknown_indicator",
                format!("this sensor does not report {:?}", r.indicator),
            ));
        } else if !r.value.is_finite() {
            receipt.refused.push(refused(i, "invalid_number", "value is not a finite number"));
        } else if at > received + Duration::seconds(FUTURE_SLACK_SECS) {
            receipt.refused.push(refused(i, "reading_in_future", "at lies in the future"));
        } else if at < received - limits.oldest {
            receipt.refused.push(refused(i, "reading_too_old", "at lies before the raw readings are kept"));
        } else {
            by_indicator.entry(r.indicator.clone()).or_default().push((at, r.value));
        }
    }
    for readings in by_indicator.values_mut() {
        readings.sort_by_key(|(at, _)| *at);
    }
    Ok(Prepared { sensor, battery: batch.battery, by_indicator, receipt })
}

/// Stores and judges one batch of a sensor's readings, in a transaction of its own.
pub fn ingest(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    limits: Limits,
    sensor: &SensorRow,
    batch: &ReadingBatch,
) -> ApiResult<ReadingReceipt> {
    let received = now();
    let mut p = prepare(limits, sensor, batch, received)?;
    write_tx(conn, |conn| {
        let registry = Registry::load(conn)?;
        store(conn, ctx, &registry, &mut p, received)
    })?;
    Ok(p.receipt)
}

/// Stores and judges many sensors' batches in one transaction (group commit: the MQTT
/// subscriber's way to keep up). A batch refused whole gets its error in its place; a failure
/// of the database fails them all, so the caller can acknowledge nothing and try again.
pub fn ingest_many(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    limits: Limits,
    items: &[(SensorRow, ReadingBatch)],
) -> ApiResult<Vec<ApiResult<ReadingReceipt>>> {
    let received = now();
    let mut prepared: Vec<ApiResult<Prepared<'_>>> =
        items.iter().map(|(sensor, batch)| prepare(limits, sensor, batch, received)).collect();
    write_tx(conn, |conn| {
        let registry = Registry::load(conn)?;
        for p in prepared.iter_mut().flatten() {
            store(conn, ctx, &registry, p, received)?;
        }
        Ok::<(), ApiError>(())
    })?;
    Ok(prepared.into_iter().map(|p| p.map(|p| p.receipt)).collect())
}

/// Inside the caller's transaction: each reading once, the roll-ups, the sensor's sign of life,
/// and every new reading judged.
fn store(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    registry: &Registry,
    p: &mut Prepared<'_>,
    received: NaiveDateTime,
) -> ApiResult<()> {
    let sensor = p.sensor;
    let chain = indicators::chain_deepest_first(sensor);
    for (code, readings) in &p.by_indicator {
        let Some(ind) = registry.indicators.get(code) else { continue };
        let latest = queries::sensing::latest_measured(conn, &sensor.id, code)?;
        let mut fresh = vec![];
        for &(at, value) in readings {
            let row = ReadingRow {
                sensor_id: sensor.id.clone(),
                indicator_code: code.clone(),
                measured_at: at,
                value,
                received_at: received,
            };
            if queries::sensing::insert_reading(conn, &row)? {
                p.receipt.stored += 1;
                fresh.push((at, value));
            } else {
                p.receipt.duplicates += 1;
            }
        }
        roll_up(conn, sensor, code, &fresh)?;
        // Only readings after the latest one judged before move the alert: a late or resent
        // reading is kept, but the present is already known.
        let newer: Vec<(NaiveDateTime, f64)> =
            fresh.into_iter().filter(|(at, _)| latest.is_none_or(|l| *at > l)).collect();
        if ind.active && !newer.is_empty() {
            let (th, _) = indicators::effective(ind, &chain, &registry.overrides)?;
            judge(conn, ctx, sensor, ind, &th, &newer)?;
        }
    }
    queries::sensing::heard(conn, &sensor.id, received, p.battery)?;
    // Only a sensor that was silent can have an offline alert to clear.
    let was_silent = sensing::is_silent(
        sensor.last_seen_at.map(|t| t.and_utc()),
        sensor.created_at.and_utc(),
        sensor.expected_interval_secs,
        received.and_utc(),
    );
    if was_silent {
        super::alerts::heard_from(conn, ctx.index, sensor, received)?;
    }
    Ok(())
}

/// Judges each new reading in turn, over the indicator's window when it aggregates one.
fn judge(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    sensor: &SensorRow,
    ind: &Indicator,
    th: &sensing::Thresholds,
    newer: &[(NaiveDateTime, f64)],
) -> ApiResult<()> {
    let span = Duration::seconds(ind.window_secs);
    let window = match ind.aggregation {
        Aggregation::Latest => vec![],
        _ => queries::sensing::window(conn, &sensor.id, &ind.code, newer[0].0 - span, newer[newer.len() - 1].0)?,
    };
    for &(at, value) in newer {
        let judged = match ind.aggregation {
            Aggregation::Latest => Some(value),
            how => {
                let inside: Vec<_> = window
                    .iter()
                    .filter(|(t, _)| *t >= at - span && *t <= at)
                    .map(|(t, v)| (t.and_utc(), *v))
                    .collect();
                sensing::aggregate(how, &inside)
            }
        };
        if let Some(v) = judged {
            super::alerts::judge_value(conn, ctx, sensor, ind, th, v, at)?;
        }
    }
    Ok(())
}

/// Adds fresh readings to their minute and hour buckets.
fn roll_up(conn: &mut DbConn, sensor: &SensorRow, indicator: &str, fresh: &[(NaiveDateTime, f64)]) -> ApiResult<()> {
    for (resolution, size) in [("minute", Duration::minutes(1)), ("hour", Duration::hours(1))] {
        let mut buckets: BTreeMap<NaiveDateTime, RollupRow> = BTreeMap::new();
        for &(at, value) in fresh {
            let bucket = at.duration_trunc(size).map_err(|e| ApiError::internal(e.to_string()))?;
            let b = buckets.entry(bucket).or_insert_with(|| RollupRow {
                sensor_id: sensor.id.clone(),
                indicator_code: indicator.to_owned(),
                resolution: resolution.to_owned(),
                bucket,
                count: 0,
                sum: 0.0,
                min: value,
                max: value,
            });
            b.count += 1;
            b.sum += value;
            b.min = b.min.min(value);
            b.max = b.max.max(value);
        }
        for row in buckets.values() {
            queries::sensing::add_to_rollup(conn, row)?;
        }
    }
    Ok(())
}
