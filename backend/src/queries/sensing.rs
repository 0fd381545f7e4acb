use chrono::NaiveDateTime;
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::upsert::excluded;
use gridwork_mobile_core::AreaLevel;

use crate::db::DbConn;
use crate::db::conn::MultiBackend;
use crate::db::schema::{alerts, indicator_overrides, indicators, reading_rollups, readings, sensors};
use crate::models::sensing::{AlertRow, IndicatorRow, OverrideRow, ReadingRow, RollupRow, SensorRow};
use crate::queries::evaluation::Reach;

pub fn indicator(conn: &mut DbConn, code: &str) -> QueryResult<Option<IndicatorRow>> {
    indicators::table.find(code).select(IndicatorRow::as_select()).first(conn).optional()
}

pub fn indicators(conn: &mut DbConn) -> QueryResult<Vec<IndicatorRow>> {
    indicators::table.order(indicators::code.asc()).select(IndicatorRow::as_select()).load(conn)
}

pub fn indicator_count(conn: &mut DbConn) -> QueryResult<i64> {
    indicators::table.count().get_result(conn)
}

pub fn save_indicator(conn: &mut DbConn, row: &IndicatorRow) -> QueryResult<()> {
    let updated = diesel::update(indicators::table.find(&row.code)).set(row).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(indicators::table).values(row).execute(conn)?;
    }
    Ok(())
}

pub fn overrides_of(conn: &mut DbConn, indicator: &str) -> QueryResult<Vec<OverrideRow>> {
    indicator_overrides::table
        .filter(indicator_overrides::indicator_code.eq(indicator))
        .order(indicator_overrides::area_code.asc())
        .select(OverrideRow::as_select())
        .load(conn)
}

pub fn all_overrides(conn: &mut DbConn) -> QueryResult<Vec<OverrideRow>> {
    indicator_overrides::table.select(OverrideRow::as_select()).load(conn)
}

/// Every override set on one of these areas (a sensor's chain).
pub fn overrides_on(conn: &mut DbConn, areas: &[String]) -> QueryResult<Vec<OverrideRow>> {
    indicator_overrides::table
        .filter(indicator_overrides::area_code.eq_any(areas))
        .select(OverrideRow::as_select())
        .load(conn)
}

pub fn save_override(conn: &mut DbConn, row: &OverrideRow) -> QueryResult<()> {
    let updated = diesel::update(indicator_overrides::table.find((&row.indicator_code, &row.area_code)))
        .set(row)
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(indicator_overrides::table).values(row).execute(conn)?;
    }
    Ok(())
}

pub fn delete_override(conn: &mut DbConn, indicator: &str, area: &str) -> QueryResult<usize> {
    diesel::delete(indicator_overrides::table.find((indicator, area))).execute(conn)
}

pub fn insert_sensor(conn: &mut DbConn, row: &SensorRow) -> QueryResult<()> {
    diesel::insert_into(sensors::table).values(row).execute(conn).map(drop)
}

pub fn sensor_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<SensorRow>> {
    sensors::table.filter(sensors::code.eq(code)).select(SensorRow::as_select()).first(conn).optional()
}

pub fn sensor_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<SensorRow>> {
    sensors::table.find(id).select(SensorRow::as_select()).first(conn).optional()
}

type SensorCond = Box<dyn BoxableExpression<sensors::table, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// `sensors.<level>_code = code`.
fn sensor_in(level: AreaLevel, code: &str) -> SensorCond {
    let c = code.to_owned();
    match level {
        AreaLevel::City => Box::new(sensors::city_code.eq(c).assume_not_null()),
        AreaLevel::District => Box::new(sensors::district_code.eq(c).assume_not_null()),
        AreaLevel::Street => Box::new(sensors::street_code.eq(c).assume_not_null()),
        AreaLevel::Community => Box::new(sensors::community_code.eq(c).assume_not_null()),
        AreaLevel::Grid => Box::new(sensors::grid_code.eq(c).assume_not_null()),
        AreaLevel::Compound => Box::new(sensors::compound_code.eq(c).assume_not_null()),
        AreaLevel::Building => Box::new(sensors::building_code.eq(c).assume_not_null()),
    }
}

/// The sensors in `reach` (as events are counted: in one of its areas, or anywhere; `within`
/// only narrows).
fn reached(reach: &Reach) -> sensors::BoxedQuery<'static, MultiBackend> {
    let mut q = sensors::table.into_boxed();
    if !reach.everywhere {
        let mut cond: SensorCond = Box::new(sensors::id.eq("").and(sensors::id.ne("")));
        for (level, code) in &reach.areas {
            cond = Box::new(cond.or(sensor_in(*level, code)));
        }
        q = q.filter(cond);
    }
    if let Some((level, code)) = &reach.within {
        q = q.filter(sensor_in(*level, code));
    }
    q
}

pub fn sensors_in(conn: &mut DbConn, reach: &Reach, limit: i64) -> QueryResult<Vec<SensorRow>> {
    reached(reach).order(sensors::code.asc()).limit(limit).select(SensorRow::as_select()).load(conn)
}

pub fn set_secret(conn: &mut DbConn, id: &str, hash: &str) -> QueryResult<usize> {
    diesel::update(sensors::table.find(id)).set(sensors::secret_hash.eq(hash)).execute(conn)
}

pub fn retire(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sensors::table.find(id).filter(sensors::retired_at.is_null()))
        .set(sensors::retired_at.eq(at))
        .execute(conn)
}

pub fn heard(conn: &mut DbConn, id: &str, at: NaiveDateTime, battery: Option<f64>) -> QueryResult<()> {
    let q = diesel::update(sensors::table.find(id));
    match battery {
        Some(b) => q.set((sensors::last_seen_at.eq(at), sensors::battery.eq(b))).execute(conn)?,
        None => q.set(sensors::last_seen_at.eq(at)).execute(conn)?,
    };
    Ok(())
}

/// Active devices, for the silence scan (the server's own figures are never silent).
pub fn active_sensors(conn: &mut DbConn) -> QueryResult<Vec<SensorRow>> {
    sensors::table
        .filter(sensors::retired_at.is_null())
        .filter(sensors::kind.eq("device"))
        .select(SensorRow::as_select())
        .load(conn)
}

pub fn set_indicators(conn: &mut DbConn, id: &str, indicators: &str) -> QueryResult<usize> {
    diesel::update(sensors::table.find(id)).set(sensors::indicators.eq(indicators)).execute(conn)
}

/// Events filed since `from`, per street.
pub fn reports_per_street(conn: &mut DbConn, from: NaiveDateTime) -> QueryResult<Vec<(Option<String>, i64)>> {
    use crate::db::schema::events;
    events::table
        .filter(events::created_at.ge(from))
        .group_by(events::street_code)
        .select((events::street_code, diesel::dsl::count_star()))
        .load(conn)
}

/// Open events with a running deadline per street: (street, all, past their deadline at `at`).
pub fn overdue_per_street(
    conn: &mut DbConn,
    open_states: &[&str],
    at: NaiveDateTime,
) -> QueryResult<Vec<(Option<String>, i64, i64)>> {
    use crate::db::schema::events;
    let all: Vec<(Option<String>, i64)> = events::table
        .filter(events::state.eq_any(open_states))
        .filter(events::due_at.is_not_null())
        .group_by(events::street_code)
        .select((events::street_code, diesel::dsl::count_star()))
        .load(conn)?;
    let late: Vec<(Option<String>, i64)> = events::table
        .filter(events::state.eq_any(open_states))
        .filter(events::due_at.lt(at))
        .group_by(events::street_code)
        .select((events::street_code, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(all
        .into_iter()
        .map(|(street, n)| {
            let overdue = late.iter().find(|(s, _)| *s == street).map_or(0, |(_, l)| *l);
            (street, n, overdue)
        })
        .collect())
}

/// The latest instant stored for a sensor's indicator.
pub fn latest_measured(conn: &mut DbConn, sensor: &str, indicator: &str) -> QueryResult<Option<NaiveDateTime>> {
    readings::table
        .filter(readings::sensor_id.eq(sensor))
        .filter(readings::indicator_code.eq(indicator))
        .select(diesel::dsl::max(readings::measured_at))
        .first(conn)
}

/// Stores a reading unless it is stored already (`false`: a resent one).
pub fn insert_reading(conn: &mut DbConn, row: &ReadingRow) -> QueryResult<bool> {
    let insert = diesel::insert_into(readings::table).values(row).on_conflict_do_nothing();
    let n = match conn {
        DbConn::Sqlite(c) => insert.execute(c)?,
        DbConn::Postgres(c) => insert.execute(c)?,
    };
    Ok(n == 1)
}

/// A sensor's readings of an indicator from `from` to `to` (inclusive), oldest first.
pub fn window(
    conn: &mut DbConn,
    sensor: &str,
    indicator: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(NaiveDateTime, f64)>> {
    readings::table
        .filter(readings::sensor_id.eq(sensor))
        .filter(readings::indicator_code.eq(indicator))
        .filter(readings::measured_at.ge(from))
        .filter(readings::measured_at.le(to))
        .order(readings::measured_at.asc())
        .select((readings::measured_at, readings::value))
        .load(conn)
}

/// Adds readings to a roll-up bucket (count and sum add up, min and max widen) in one
/// statement, so two servers adding to the same bucket never lose one another's readings.
pub fn add_to_rollup(conn: &mut DbConn, row: &RollupRow) -> QueryResult<()> {
    use reading_rollups::dsl as r;
    let upsert = diesel::insert_into(r::reading_rollups)
        .values(row)
        .on_conflict((r::sensor_id, r::indicator_code, r::resolution, r::bucket))
        .do_update()
        .set((
            r::count.eq(r::count + excluded(r::count)),
            r::sum.eq(r::sum + excluded(r::sum)),
            r::min.eq(case_when(excluded(r::min).lt(r::min), excluded(r::min)).otherwise(r::min)),
            r::max.eq(case_when(excluded(r::max).gt(r::max), excluded(r::max)).otherwise(r::max)),
        ));
    match conn {
        DbConn::Sqlite(c) => upsert.execute(c)?,
        DbConn::Postgres(c) => upsert.execute(c)?,
    };
    Ok(())
}

/// The roll-ups of sensors in reach over a period (summed up by the caller).
pub fn rollups_in(
    conn: &mut DbConn,
    reach: &Reach,
    resolution: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<RollupRow>> {
    let ids: Vec<String> = reached(reach).select(sensors::id).load(conn)?;
    let mut out = vec![];
    for chunk in ids.chunks(500) {
        out.extend(
            reading_rollups::table
                .filter(reading_rollups::sensor_id.eq_any(chunk))
                .filter(reading_rollups::resolution.eq(resolution))
                .filter(reading_rollups::bucket.ge(from))
                .filter(reading_rollups::bucket.lt(to))
                .select(RollupRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

pub fn purge_readings(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(readings::table.filter(readings::measured_at.lt(before))).execute(conn)
}

pub fn purge_rollups(conn: &mut DbConn, resolution: &str, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        reading_rollups::table
            .filter(reading_rollups::resolution.eq(resolution))
            .filter(reading_rollups::bucket.lt(before)),
    )
    .execute(conn)
}

pub fn open_alert(conn: &mut DbConn, subject: &str) -> QueryResult<Option<AlertRow>> {
    alerts::table
        .filter(alerts::subject.eq(subject))
        .filter(alerts::cleared_at.is_null())
        .select(AlertRow::as_select())
        .first(conn)
        .optional()
}

/// The latest event an alert of this subject opened, if any.
pub fn last_event_of(conn: &mut DbConn, subject: &str) -> QueryResult<Option<String>> {
    alerts::table
        .filter(alerts::subject.eq(subject))
        .filter(alerts::event_id.is_not_null())
        .order(alerts::raised_at.desc())
        .select(alerts::event_id.assume_not_null())
        .first(conn)
        .optional()
}

pub fn insert_alert(conn: &mut DbConn, row: &AlertRow) -> QueryResult<()> {
    diesel::insert_into(alerts::table).values(row).execute(conn).map(drop)
}

pub fn update_alert(conn: &mut DbConn, row: &AlertRow) -> QueryResult<()> {
    diesel::update(alerts::table.find(&row.id)).set(row).execute(conn).map(drop)
}

pub fn alert(conn: &mut DbConn, id: &str) -> QueryResult<Option<(AlertRow, SensorRow)>> {
    alerts::table
        .inner_join(sensors::table.on(sensors::id.eq(alerts::sensor_id)))
        .filter(alerts::id.eq(id))
        .select((AlertRow::as_select(), SensorRow::as_select()))
        .first(conn)
        .optional()
}

/// Alerts of sensors in reach, newest first; `open_only` leaves out cleared ones.
pub fn alerts_in(
    conn: &mut DbConn,
    reach: &Reach,
    open_only: bool,
    limit: i64,
) -> QueryResult<Vec<(AlertRow, SensorRow)>> {
    let ids: Vec<String> = reached(reach).select(sensors::id).load(conn)?;
    let mut out = vec![];
    for chunk in ids.chunks(500) {
        let mut q = alerts::table
            .inner_join(sensors::table.on(sensors::id.eq(alerts::sensor_id)))
            .filter(alerts::sensor_id.eq_any(chunk))
            .into_boxed();
        if open_only {
            q = q.filter(alerts::cleared_at.is_null());
        }
        out.extend(
            q.order(alerts::raised_at.desc())
                .limit(limit)
                .select((AlertRow::as_select(), SensorRow::as_select()))
                .load::<(AlertRow, SensorRow)>(conn)?,
        );
    }
    out.sort_by(|a, b| b.0.raised_at.cmp(&a.0.raised_at).then_with(|| b.0.id.cmp(&a.0.id)));
    out.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(out)
}
