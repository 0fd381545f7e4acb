//! The vital signs of an area (城市体征): every indicator over a period, from its sensors'
//! minute roll-ups (periods up to six hours) or hour roll-ups, for the area and for each of its
//! parts one level down, with the alerts open now.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use gridwork_mobile_core::AreaLevel;
use gridwork_mobile_core::domain::sensing::AlertLevel;
use gridwork_mobile_core::wire::{AlertCounts, VitalSign, VitalSigns};

use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::queries;
use crate::queries::evaluation::Reach;

/// Sensors a city holds at most in one answer; an area with more asks for its parts.
const MAX_SENSORS: i64 = 100_000;

#[derive(Default)]
struct Sums {
    sensors: std::collections::BTreeSet<String>,
    readings: i64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
    open: AlertCounts,
}

/// The level below `level` that roll-ups are reported at (community is the finest).
fn part_level(level: AreaLevel) -> Option<AreaLevel> {
    match level {
        AreaLevel::City => Some(AreaLevel::District),
        AreaLevel::District => Some(AreaLevel::Street),
        AreaLevel::Street => Some(AreaLevel::Community),
        _ => None,
    }
}

/// The vital signs of an area the caller watches (checked by the caller).
pub fn of_area(
    conn: &mut DbConn,
    area: &str,
    level: AreaLevel,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<VitalSigns> {
    if to <= from {
        return Err(ApiError::field("to", "invalid_period", "to must come after from"));
    }
    let resolution = if to - from <= Duration::hours(6) { "minute" } else { "hour" };
    let reach = Reach { everywhere: false, areas: vec![(level, area.to_owned())], within: None };
    let sensors = queries::sensing::sensors_in(conn, &reach, MAX_SENSORS)?;
    let rollups = queries::sensing::rollups_in(conn, &reach, resolution, from.naive_utc(), to.naive_utc())?;
    let open = queries::sensing::alerts_in(conn, &reach, true, MAX_SENSORS)?;
    let indicators = super::indicators::all(conn)?;
    let parts = part_level(level);
    // (indicator, area) → sums; an area's parts are named by the sensors' chains.
    let mut sums: BTreeMap<(String, String), Sums> = BTreeMap::new();
    let part_of: std::collections::HashMap<&str, Option<&str>> =
        sensors.iter().map(|s| (s.id.as_str(), parts.and_then(|p| s.code_at(p)))).collect();
    let places = |sensor_id: &str| -> Vec<String> {
        let part = part_of.get(sensor_id).copied().flatten().map(str::to_owned);
        std::iter::once(area.to_owned()).chain(part).collect()
    };
    let reported = |code: &str, place: &str| -> bool {
        let at = if place == area { level } else { parts.unwrap_or(level) };
        indicators.iter().any(|i| i.code == code && i.levels.contains(&at))
    };
    for r in &rollups {
        for place in places(&r.sensor_id) {
            if !reported(&r.indicator_code, &place) {
                continue;
            }
            let s = sums.entry((r.indicator_code.clone(), place)).or_default();
            s.sensors.insert(r.sensor_id.clone());
            s.readings += r.count;
            s.sum += r.sum;
            s.min = Some(s.min.map_or(r.min, |m| m.min(r.min)));
            s.max = Some(s.max.map_or(r.max, |m| m.max(r.max)));
        }
    }
    for (a, _) in &open {
        let Some(code) = &a.indicator_code else { continue };
        let Ok(lvl) = a.level.parse::<AlertLevel>() else { continue };
        for place in places(&a.sensor_id) {
            if reported(code, &place) {
                sums.entry((code.clone(), place)).or_default().open.add(lvl, 1);
            }
        }
    }
    let signs = sums
        .into_iter()
        .map(|((indicator, area), s)| VitalSign {
            indicator,
            area,
            sensors: s.sensors.len() as i64,
            readings: s.readings,
            mean: (s.readings > 0).then(|| s.sum / s.readings as f64),
            min: s.min,
            max: s.max,
            open_alerts: s.open,
        })
        .collect();
    Ok(VitalSigns { area: area.to_owned(), level, from, to, signs })
}
