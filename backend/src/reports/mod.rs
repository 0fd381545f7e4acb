//! Evaluation reports (考核报表): once a week and once a month is over, every ops centre's area
//! (the city, each district, each street) gets a report of that period: the area itself, its parts
//! one level down and its handlers, with every count and rate of `GET /evaluation`, as CSV and
//! XLSX. The scheduler produces them; several servers may try, one report per area and period
//! is kept.

mod files;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use gridwork_mobile_core::AreaLevel;
use gridwork_mobile_core::wire::Score;

use crate::areas::AreaIndex;
use crate::db::DbConn;
use crate::error::ApiResult;
use crate::events::evaluation::scores;
use crate::models::report::ReportRow;
use crate::queries;
use crate::queries::evaluation::{Reach, Unit};

pub use files::COLUMNS;

/// Periods follow the city's calendar: China keeps one time zone, UTC+8, all year.
pub const CITY_OFFSET: Duration = Duration::hours(8);

/// The levels that run an ops centre, and so get reports.
const OPS_CENTRE_LEVELS: [AreaLevel; 3] = [AreaLevel::City, AreaLevel::District, AreaLevel::Street];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Weekly,
    Monthly,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Weekly, Kind::Monthly];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Weekly => "weekly",
            Kind::Monthly => "monthly",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// The last whole period of `kind` before `at` (UTC), as [from, to) in UTC: Monday to Monday, or
/// the first of a month to the first of the next, at the city's midnight.
pub fn last_period(kind: Kind, at: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    let today = (at + CITY_OFFSET).date();
    let end = match kind {
        Kind::Weekly => today - Duration::days(i64::from(today.weekday().num_days_from_monday())),
        Kind::Monthly => today.with_day(1).unwrap_or(today),
    };
    let start = match kind {
        Kind::Weekly => end - Duration::days(7),
        Kind::Monthly => first_of_previous_month(end),
    };
    (midnight(start), midnight(end))
}

fn first_of_previous_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 1 { (first.year() - 1, 12) } else { (first.year(), first.month() - 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

/// The city's midnight starting `day`, in UTC.
fn midnight(day: NaiveDate) -> NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN) - CITY_OFFSET
}

/// One line of a report: which kind of unit, and its score.
#[derive(Debug)]
pub struct Line {
    pub level: &'static str,
    pub score: Score,
}

/// Produces every report of the last whole week and month that is not there yet; how many
/// this call stored.
pub fn produce(conn: &mut DbConn, index: &AreaIndex, at: NaiveDateTime) -> ApiResult<usize> {
    let mut stored = 0;
    let centres: Vec<(String, AreaLevel)> =
        index.all().filter(|a| OPS_CENTRE_LEVELS.contains(&a.level)).map(|a| (a.code.clone(), a.level)).collect();
    for kind in Kind::ALL {
        let (from, to) = last_period(kind, at);
        for (code, level) in &centres {
            let (code, level) = (code.clone(), *level);
            if queries::reports::exists(conn, kind.as_str(), &code, from)? {
                continue;
            }
            let lines = lines(conn, index, &code, level, from, to, at)?;
            let name = index.get(&code).map_or(code.as_str(), |a| a.name.as_str());
            let title = format!("{name} {} {}", kind.as_str(), (from + CITY_OFFSET).date());
            let row = ReportRow {
                id: crate::models::new_id(),
                kind: kind.as_str().to_owned(),
                area_code: code.clone(),
                period_from: from,
                period_to: to,
                rows: i32::try_from(lines.len()).unwrap_or(i32::MAX),
                csv: files::csv(&lines)?,
                xlsx: files::xlsx(&lines, &title, from + CITY_OFFSET, to + CITY_OFFSET)?,
                created_at: crate::models::now(),
            };
            if queries::reports::insert(conn, &row)? {
                stored += 1;
            }
        }
    }
    Ok(stored)
}

/// The area's own line, one per part one level down, one per handler.
fn lines(
    conn: &mut DbConn,
    index: &AreaIndex,
    code: &str,
    level: AreaLevel,
    from: NaiveDateTime,
    to: NaiveDateTime,
    at: NaiveDateTime,
) -> ApiResult<Vec<Line>> {
    let reach = Reach { everywhere: true, areas: vec![], within: Some((level, code.to_owned())) };
    let scores = |conn: &mut DbConn, unit| scores(conn, index, unit, &reach, (from, to), at);
    let own = scores(conn, Unit::Area(level))?.into_iter().next().unwrap_or_else(|| Score {
        unit: code.to_owned(),
        name: index.get(code).map(|a| a.name.clone()),
        ..Score::default()
    });
    let mut out = vec![Line { level: level.as_str(), score: own }];
    if let Some(below) = AreaLevel::ALL.get(usize::from(level.depth())) {
        out.extend(scores(conn, Unit::Area(*below))?.into_iter().map(|score| Line { level: below.as_str(), score }));
    }
    out.extend(scores(conn, Unit::Handler)?.into_iter().map(|score| Line { level: "handler", score }));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn periods_end_at_the_citys_midnight() {
        // Wednesday 2 December 2026, 09:00 in the city (01:00 UTC).
        let at = utc(2026, 12, 2, 1);
        assert_eq!(last_period(Kind::Weekly, at), (utc(2026, 11, 22, 16), utc(2026, 11, 29, 16)));
        assert_eq!(last_period(Kind::Monthly, at), (utc(2026, 10, 31, 16), utc(2026, 11, 30, 16)));
        // 1 January, 07:00 in the city is still 31 December in UTC: December is over, and the
        // week of Monday 29 December is not.
        let new_year = utc(2026, 12, 31, 23);
        assert_eq!(last_period(Kind::Monthly, new_year), (utc(2026, 11, 30, 16), utc(2026, 12, 31, 16)));
        assert_eq!(last_period(Kind::Weekly, new_year), (utc(2026, 12, 20, 16), utc(2026, 12, 27, 16)));
    }
}
