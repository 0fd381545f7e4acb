//! The indicator registry (体征指标): a shipped default and CSV import/export like the catalog,
//! and per-area overrides of the thresholds down the tree (the deepest one over a sensor wins).

use std::collections::BTreeMap;

use gridwork_mobile_core::AreaLevel;
use gridwork_mobile_core::domain::sensing::{Aggregation, Direction, Thresholds};
use gridwork_mobile_core::wire::{IndicatorOverride, IndicatorView, ThresholdLevels};

use crate::catalog::{ImportSummary, RowError, guard, invalid_rows, parse_bool, unguard};
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::models::now;
use crate::models::sensing::{IndicatorRow, OverrideRow, SensorRow};
use crate::queries;

pub const DEFAULT_CSV: &str = include_str!("default_indicators.csv");

const HEADER: [&str; 14] = [
    "code",
    "name",
    "unit",
    "levels",
    "aggregation",
    "window_secs",
    "direction",
    "blue",
    "yellow",
    "orange",
    "red",
    "hysteresis",
    "category",
    "active",
];

/// An indicator as the registry holds it, every field parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub levels: Vec<AreaLevel>,
    pub aggregation: Aggregation,
    pub window_secs: i64,
    pub thresholds: Thresholds,
    pub category: Option<String>,
    pub active: bool,
}

/// An indicator code: 1 to 40 lower-case letters, digits and `_`.
pub fn check_code(code: &str) -> Result<(), (String, String)> {
    let ok = (1..=40).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok { Ok(()) } else { Err(("invalid_code".into(), "1 to 40 lower-case letters, digits and '_'".into())) }
}

fn parse_number(field: &str, raw: &str) -> Result<Option<f64>, (String, String, String)> {
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| (field.to_owned(), "invalid_number".to_owned(), format!("{field}: {raw:?} is not a number")))
}

fn parse_row(rec: &csv::StringRecord) -> Result<Indicator, (String, String, String)> {
    let get =
        |name: &str| unguard(HEADER.iter().position(|h| *h == name).and_then(|i| rec.get(i)).unwrap_or("").trim());
    let dom = |e: gridwork_mobile_core::DomainError| (e.field.to_owned(), e.code.to_owned(), e.message);
    let code = get("code").to_owned();
    check_code(&code).map_err(|(c, m)| ("code".to_owned(), c, m))?;
    let text = |field: &str, max: usize| -> Result<String, (String, String, String)> {
        let v = get(field);
        if v.is_empty() || v.chars().count() > max {
            Err((field.to_owned(), "invalid_length".into(), format!("{field} must be 1 to {max} characters")))
        } else {
            Ok(v.to_owned())
        }
    };
    let levels = get("levels")
        .split('/')
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse::<AreaLevel>().map_err(dom))
        .collect::<Result<Vec<_>, _>>()?;
    if levels.is_empty() {
        return Err(("levels".into(), "invalid_levels".into(), "name the levels, separated by '/'".into()));
    }
    let window_secs: i64 = get("window_secs")
        .parse()
        .ok()
        .filter(|w| (1..=86_400 * 7).contains(w))
        .ok_or_else(|| ("window_secs".to_owned(), "invalid_number".to_owned(), "1 s to 7 days".to_owned()))?;
    let direction: Direction = get("direction").parse().map_err(dom)?;
    let mut levels_set = [None; 4];
    for (i, name) in ["blue", "yellow", "orange", "red"].iter().enumerate() {
        levels_set[i] = parse_number(name, get(name))?;
    }
    let hysteresis = parse_number("hysteresis", get("hysteresis"))?.unwrap_or(0.0);
    let thresholds = Thresholds::new(direction, levels_set, hysteresis).map_err(dom)?;
    let active = parse_bool("active", get("active")).map_err(|(c, m)| ("active".to_owned(), c, m))?;
    Ok(Indicator {
        name: text("name", 100)?,
        unit: text("unit", 20)?,
        code,
        levels,
        aggregation: get("aggregation").parse().map_err(dom)?,
        window_secs,
        thresholds,
        category: Some(get("category").to_owned()).filter(|c| !c.is_empty()),
        active: active || get("active").is_empty(),
    })
}

/// Parses a whole CSV; every bad row is reported, not just the first.
pub fn parse_csv(data: &[u8]) -> Result<Vec<Indicator>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(data);
    let header_ok = reader.headers().map(|h| h.iter().collect::<Vec<_>>() == HEADER).unwrap_or(false);
    if !header_ok {
        return Err(vec![RowError {
            row: 0,
            field: "header".into(),
            code: "invalid_header".into(),
            message: format!("the first line must be: {}", HEADER.join(",")),
        }]);
    }
    let (mut out, mut errors, mut seen) = (Vec::new(), Vec::new(), BTreeMap::new());
    for (i, rec) in reader.records().enumerate() {
        let row = i + 1;
        match rec.map_err(|e| ("row".to_owned(), "invalid_csv".to_owned(), e.to_string())).and_then(|r| parse_row(&r)) {
            Ok(ind) => {
                if let Some(first) = seen.insert(ind.code.clone(), row) {
                    errors.push(RowError {
                        row,
                        field: "code".into(),
                        code: "duplicate".into(),
                        message: format!("{} already given on row {first}", ind.code),
                    });
                }
                out.push(ind);
            }
            Err((field, code, message)) => errors.push(RowError { row, field, code, message }),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn number(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

pub fn to_csv(indicators: &[Indicator]) -> ApiResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| ApiError::internal(e.to_string());
    w.write_record(HEADER).map_err(io)?;
    for i in indicators {
        let t = i.thresholds.levels;
        let levels: Vec<&str> = i.levels.iter().map(|l| l.as_str()).collect();
        let cells = [
            i.code.clone(),
            i.name.clone(),
            i.unit.clone(),
            levels.join("/"),
            i.aggregation.as_str().to_owned(),
            i.window_secs.to_string(),
            i.thresholds.direction.as_str().to_owned(),
            number(t[0]),
            number(t[1]),
            number(t[2]),
            number(t[3]),
            i.thresholds.hysteresis.to_string(),
            i.category.clone().unwrap_or_default(),
            i.active.to_string(),
        ];
        w.write_record(cells.iter().map(|cell| guard(cell).into_owned())).map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| ApiError::internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ApiError::internal(e.to_string()))
}

fn to_row(i: &Indicator) -> IndicatorRow {
    let t = i.thresholds.levels;
    IndicatorRow {
        code: i.code.clone(),
        name: i.name.clone(),
        unit: i.unit.clone(),
        levels: i.levels.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(","),
        aggregation: i.aggregation.as_str().to_owned(),
        window_secs: i.window_secs,
        direction: i.thresholds.direction.as_str().to_owned(),
        blue: t[0],
        yellow: t[1],
        orange: t[2],
        red: t[3],
        hysteresis: i.thresholds.hysteresis,
        category_code: i.category.clone(),
        active: i.active,
        updated_at: now(),
    }
}

pub fn from_row(r: &IndicatorRow) -> ApiResult<Indicator> {
    let bad = |e: gridwork_mobile_core::DomainError| {
        ApiError::internal(format!("stored indicator {} unreadable: {}", r.code, e.message))
    };
    Ok(Indicator {
        code: r.code.clone(),
        name: r.name.clone(),
        unit: r.unit.clone(),
        levels: r.levels.split(',').map(str::parse).collect::<Result<_, _>>().map_err(bad)?,
        aggregation: r.aggregation.parse().map_err(bad)?,
        window_secs: r.window_secs,
        thresholds: Thresholds::new(
            r.direction.parse().map_err(bad)?,
            [r.blue, r.yellow, r.orange, r.red],
            r.hysteresis,
        )
        .map_err(bad)?,
        category: r.category_code.clone(),
        active: r.active,
    })
}

/// Validates the whole file (categories must exist), then writes it in one transaction.
/// Indicators missing from the file are left as they are (deactivate them with `active=false`).
pub fn import_csv(conn: &mut DbConn, data: &[u8], actor: Option<&str>) -> ApiResult<ImportSummary> {
    let indicators = parse_csv(data).map_err(|e| invalid_rows(&e))?;
    write_tx(conn, |conn| {
        let mut missing = vec![];
        for (i, ind) in indicators.iter().enumerate() {
            if let Some(c) = &ind.category
                && queries::categories::by_code(conn, c)?.is_none()
            {
                missing.push(RowError {
                    row: i + 1,
                    field: "category".into(),
                    code: "unknown_category".into(),
                    message: format!("no category {c:?} in the catalog"),
                });
            }
        }
        if !missing.is_empty() {
            return Err(invalid_rows(&missing));
        }
        let mut summary = ImportSummary::default();
        for ind in &indicators {
            match queries::sensing::indicator(conn, &ind.code)? {
                Some(existing) if from_row(&existing)? == *ind => summary.unchanged += 1,
                Some(_) => {
                    queries::sensing::save_indicator(conn, &to_row(ind))?;
                    summary.updated += 1;
                }
                None => {
                    queries::sensing::save_indicator(conn, &to_row(ind))?;
                    summary.created += 1;
                }
            }
        }
        if summary.created + summary.updated > 0 {
            let detail = format!("created {}, updated {}", summary.created, summary.updated);
            queries::audit::record(conn, actor, "indicators.import", "indicators", &detail)?;
        }
        Ok(summary)
    })
}

/// Ships the default registry into a database without indicators. A category an older catalog
/// lacks is left off its indicator (its alerts then open no event until one is set).
pub fn seed_default(conn: &mut DbConn) -> ApiResult<usize> {
    if queries::sensing::indicator_count(conn)? > 0 {
        return Ok(0);
    }
    let mut defaults = parse_csv(DEFAULT_CSV.as_bytes()).map_err(|e| ApiError::internal(format!("{e:?}")))?;
    for ind in &mut defaults {
        if let Some(c) = &ind.category
            && queries::categories::by_code(conn, c)?.is_none()
        {
            tracing::warn!(indicator = %ind.code, category = %c, "category missing from the catalog; left off");
            ind.category = None;
        }
    }
    let csv = to_csv(&defaults)?;
    Ok(import_csv(conn, csv.as_bytes(), None)?.created)
}

pub fn all(conn: &mut DbConn) -> ApiResult<Vec<Indicator>> {
    queries::sensing::indicators(conn)?.iter().map(from_row).collect()
}

pub fn by_code(conn: &mut DbConn, code: &str) -> ApiResult<Option<Indicator>> {
    queries::sensing::indicator(conn, code)?.as_ref().map(from_row).transpose()
}

pub fn view(i: &Indicator, thresholds: &Thresholds, override_area: Option<String>) -> IndicatorView {
    IndicatorView {
        code: i.code.clone(),
        name: i.name.clone(),
        unit: i.unit.clone(),
        levels: i.levels.clone(),
        aggregation: i.aggregation,
        window_secs: i.window_secs,
        direction: thresholds.direction,
        thresholds: ThresholdLevels::from_array(thresholds.levels),
        hysteresis: thresholds.hysteresis,
        category: i.category.clone(),
        active: i.active,
        override_area,
    }
}

pub fn override_view(r: &OverrideRow) -> IndicatorOverride {
    IndicatorOverride {
        indicator: r.indicator_code.clone(),
        area: r.area_code.clone(),
        thresholds: ThresholdLevels { blue: r.blue, yellow: r.yellow, orange: r.orange, red: r.red },
        hysteresis: r.hysteresis,
        updated_at: r.updated_at.and_utc(),
    }
}

/// The area codes of a chain, deepest first.
pub fn chain_deepest_first(sensor: &SensorRow) -> Vec<String> {
    AreaLevel::ALL.iter().rev().filter_map(|l| sensor.code_at(*l).map(str::to_owned)).collect()
}

/// The thresholds that apply along a chain of area codes (deepest first): the deepest area's
/// override, else the registry's own; and the area whose override it is.
pub fn effective(
    indicator: &Indicator,
    chain_deepest_first: &[String],
    overrides: &[OverrideRow],
) -> ApiResult<(Thresholds, Option<String>)> {
    for code in chain_deepest_first {
        if let Some(o) = overrides.iter().find(|o| o.indicator_code == indicator.code && &o.area_code == code) {
            let t = Thresholds::new(indicator.thresholds.direction, [o.blue, o.yellow, o.orange, o.red], o.hysteresis)
                .map_err(|e| ApiError::internal(format!("stored override unreadable: {}", e.message)))?;
            return Ok((t, Some(code.clone())));
        }
    }
    Ok((indicator.thresholds, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_registry_parses_and_round_trips() {
        let parsed = parse_csv(DEFAULT_CSV.as_bytes()).expect("default indicators parse");
        assert!(parsed.len() >= 8);
        let again = parse_csv(to_csv(&parsed).unwrap().as_bytes()).unwrap();
        assert_eq!(parsed, again);
    }

    #[test]
    fn every_bad_row_is_reported() {
        let csv = format!(
            "{}\nBad Code,x,cm,city,latest,60,above,1,2,3,4,0.5,,true\nok,x,cm,city,latest,60,above,4,3,,,0,,true\nok2,x,cm,town,mean,0,sideways,,,,,1,,maybe\n",
            HEADER.join(",")
        );
        let errors = parse_csv(csv.as_bytes()).unwrap_err();
        let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.code.as_str())).collect();
        assert_eq!(found, vec![(1, "invalid_code"), (2, "thresholds_out_of_order"), (3, "invalid_level")]);
        assert_eq!(parse_csv(b"code,name\n").unwrap_err()[0].code, "invalid_header");
    }
}
