//! Evaluation of every unit (考核): how many events it got and closed, how many closed on time
//! (no stage past its deadline), how many needed rework, how many are overdue now, and how many
//! supervision orders it drew.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

/// What evaluation needs of one event.
#[derive(Debug, Clone)]
pub struct Fact {
    /// The unit it counts for (an area code, a department or a handler).
    pub unit: Option<String>,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
    pub late_stages: i32,
    /// Late stages excused by the ops centre: not held against the on-time rate.
    pub excused_stages: i32,
    pub rework_count: i32,
    pub extension_count: i32,
    pub merged: bool,
    pub supervision_orders: i64,
}

pub use gridwork_mobile_core::wire::Score;

fn rate(n: u64, d: u64) -> Option<f64> {
    // Rates are shown to four decimals; the counts beside them are exact.
    (d > 0).then(|| ((n as f64 / d as f64) * 10_000.0).round() / 10_000.0)
}

/// Scores per unit over [from, to): events reported in the window, events closed in it (merged
/// duplicates do not count), and what is overdue at `now`.
pub fn score(facts: &[Fact], from: NaiveDateTime, to: NaiveDateTime, now: NaiveDateTime) -> Vec<Score> {
    let mut by: BTreeMap<String, Score> = BTreeMap::new();
    for f in facts {
        let Some(unit) = &f.unit else { continue };
        let s = by.entry(unit.clone()).or_insert_with(|| Score { unit: unit.clone(), ..Default::default() });
        if f.created_at >= from && f.created_at < to {
            s.reported += 1;
            s.supervision_orders += f.supervision_orders;
        }
        let closed = f.state == "closed";
        if closed && !f.merged && f.updated_at >= from && f.updated_at < to {
            s.closed += 1;
            if f.late_stages <= f.excused_stages {
                s.closed_on_time += 1;
            }
            if f.excused_stages > 0 {
                s.excused += 1;
            }
            if f.rework_count > 0 {
                s.reworked += 1;
            }
            if f.extension_count > 0 {
                s.extended += 1;
            }
        }
        let open = !matches!(f.state.as_str(), "closed" | "rejected");
        if open && f.due_at.is_some_and(|d| d < now) {
            s.overdue_open += 1;
        }
    }
    by.into_values()
        .map(|mut s| {
            s.closure_rate = rate(s.closed, s.reported);
            s.on_time_rate = rate(s.closed_on_time, s.closed);
            s.rework_rate = rate(s.reworked, s.closed);
            s.extension_rate = rate(s.extended, s.closed);
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_700_000_000 + h * 3600, 0).unwrap().naive_utc()
    }

    fn fact(unit: &str, state: &str, late: i32, rework: i32) -> Fact {
        Fact {
            unit: Some(unit.into()),
            state: state.into(),
            created_at: t(1),
            updated_at: t(5),
            due_at: Some(t(3)),
            late_stages: late,
            excused_stages: 0,
            rework_count: rework,
            extension_count: 0,
            merged: false,
            supervision_orders: 0,
        }
    }

    #[test]
    fn rates_count_only_closed_events_in_the_window() {
        let mut merged = fact("a", "closed", 0, 0);
        merged.merged = true;
        let mut extended = fact("a", "closed", 0, 0);
        extended.extension_count = 2;
        let facts = vec![
            extended,
            fact("a", "closed", 1, 0),
            fact("a", "closed", 0, 2),
            fact("a", "in_progress", 0, 0),
            merged,
            fact("b", "rejected", 0, 0),
        ];
        let s = score(&facts, t(0), t(10), t(4));
        let a = &s[0];
        assert_eq!((a.reported, a.closed, a.closed_on_time, a.reworked, a.overdue_open), (5, 3, 2, 1, 1));
        assert_eq!(a.on_time_rate, Some(0.6667));
        assert_eq!(a.rework_rate, Some(0.3333));
        assert_eq!((a.extended, a.extension_rate, a.closure_rate), (1, Some(0.3333), Some(0.6)));
        assert_eq!((s[1].closed, s[1].on_time_rate, s[1].overdue_open), (0, None, 0));
        // Closed after the window: not counted as closed in it.
        let later = score(&facts, t(0), t(4), t(4));
        assert_eq!(later[0].closed, 0);
        // An excused late stage is on time, and counted as excused.
        let mut excused = fact("c", "closed", 1, 0);
        excused.excused_stages = 1;
        let mut half = fact("c", "closed", 2, 0);
        half.excused_stages = 1;
        let c = &score(&[excused, half], t(0), t(10), t(4))[0];
        assert_eq!((c.closed, c.closed_on_time, c.excused, c.on_time_rate), (2, 1, 2, Some(0.5)));
    }
}
