//! Evaluation of every unit (考核): the database tallies what happened per unit over a period
//! (`queries::evaluation`); this decides the rates.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use gridwork_mobile_core::wire::Score;

use crate::areas::AreaIndex;
use crate::db::DbConn;
use crate::error::ApiResult;
use crate::queries;
use crate::queries::evaluation::{Reach, Tally, Unit};

/// Every unit's score over [from, to) with its name (an area's, a department's, a handler's):
/// what `GET /evaluation` answers and what reports list.
pub fn scores(
    conn: &mut DbConn,
    index: &AreaIndex,
    unit: Unit,
    reach: &Reach,
    (from, to): (NaiveDateTime, NaiveDateTime),
    now: NaiveDateTime,
) -> ApiResult<Vec<Score>> {
    let mut scores: Vec<Score> =
        queries::evaluation::tally(conn, unit, reach, from, to, now)?.into_iter().map(score).collect();
    let names: HashMap<String, String> = match unit {
        Unit::Area(_) => {
            scores.iter().filter_map(|s| Some((s.unit.clone(), index.get(&s.unit)?.name.clone()))).collect()
        }
        Unit::Department => queries::departments::list(conn)?.into_iter().map(|d| (d.id, d.name)).collect(),
        Unit::Handler => {
            let ids: Vec<String> = scores.iter().map(|s| s.unit.clone()).collect();
            queries::users::by_ids(conn, &ids)?.into_iter().map(|u| (u.id, u.display_name)).collect()
        }
    };
    for s in &mut scores {
        s.name = names.get(&s.unit).cloned();
    }
    Ok(scores)
}

fn rate(n: u64, d: u64) -> Option<f64> {
    // Rates are shown to four decimals; the counts beside them are exact.
    (d > 0).then(|| ((n as f64 / d as f64) * 10_000.0).round() / 10_000.0)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Whole seconds: sub-second averages are noise from clock resolution.
fn seconds(s: Option<f64>) -> Option<f64> {
    s.map(f64::round)
}

/// A unit's score from its tally: closure rate (结案率) over reported, on-time closure (按期结案率),
/// rework (返工率) and extension (延期率) over closed, return rate (退回率) over dispatched,
/// satisfaction (满意率) over hotline callbacks.
pub fn score(t: Tally) -> Score {
    let closed = count(t.closed);
    let closed_on_time = count(t.closed_on_time);
    let (reported, dispatched, returned) = (count(t.reported), count(t.dispatched), count(t.returned));
    let (reworked, extended) = (count(t.reworked), count(t.extended));
    Score {
        unit: t.unit,
        name: None,
        reported,
        accepted: count(t.accepted),
        dispatched,
        returned,
        closed,
        closed_on_time,
        reworked,
        extended,
        excused: count(t.excused),
        overdue_open: count(t.overdue_open),
        supervision_orders: count(t.orders_issued),
        orders_closed: count(t.orders_closed),
        orders_open: count(t.orders_open),
        closure_rate: rate(closed, reported),
        on_time_closure_rate: rate(closed_on_time, closed),
        rework_rate: rate(reworked, closed),
        extension_rate: rate(extended, closed),
        return_rate: rate(returned, dispatched),
        callbacks: count(t.callbacks),
        satisfied: count(t.satisfied),
        satisfaction_rate: rate(count(t.satisfied), count(t.callbacks)),
        avg_accept_secs: seconds(t.accept_secs),
        avg_dispatch_secs: seconds(t.dispatch_secs),
        avg_handle_secs: seconds(t.handle_secs),
        avg_verify_secs: seconds(t.verify_secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_over_their_own_denominators_and_absent_without_one() {
        let t = Tally {
            unit: "a".into(),
            reported: 5,
            closed: 3,
            closed_on_time: 2,
            reworked: 1,
            extended: 1,
            dispatched: 4,
            returned: 1,
            callbacks: 4,
            satisfied: 3,
            accept_secs: Some(59.6),
            ..Tally::default()
        };
        let s = score(t);
        assert_eq!(s.closure_rate, Some(0.6));
        assert_eq!(
            (s.on_time_closure_rate, s.rework_rate, s.extension_rate),
            (Some(0.6667), Some(0.3333), Some(0.3333))
        );
        assert_eq!((s.return_rate, s.avg_accept_secs, s.avg_verify_secs), (Some(0.25), Some(60.0), None));
        assert_eq!(s.satisfaction_rate, Some(0.75));
        let empty = score(Tally { unit: "b".into(), ..Tally::default() });
        assert_eq!((empty.closure_rate, empty.on_time_closure_rate, empty.return_rate), (None, None, None));
        assert_eq!(empty.satisfaction_rate, None);
    }
}
