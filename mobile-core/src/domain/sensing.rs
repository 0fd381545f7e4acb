//! Sensing and warning (感知 → 监测 → 预警): city vital-sign indicators (体征指标) with graded
//! thresholds, and the decisions a reading leads to. Pure, so every server (and a test) decides
//! alike: the store loads the alert that is open for a device and indicator, asks `judge`, and
//! writes what it answers.

use chrono::{DateTime, Utc};

use super::category::Grade;
use super::error::DomainError;

named_enum!(
    /// 预警等级: blue (一般), yellow (较大), orange (严重), red (特别严重).
    AlertLevel, "alert_level", Blue => "blue", Yellow => "yellow", Orange => "orange", Red => "red"
);
named_enum!(
    /// How an indicator's readings over its window become the one value judged.
    Aggregation, "aggregation", Latest => "latest", Mean => "mean", Max => "max", Rate => "rate"
);
named_enum!(
    /// Whether a reading breaches by rising above the thresholds (water depth) or falling below
    /// them (streetlight power, battery).
    Direction, "direction", Above => "above", Below => "below"
);
named_enum!(
    /// An alert's life: raised → acknowledged (the ops centre has seen it) → cleared.
    AlertState, "alert_state", Raised => "raised", Acknowledged => "acknowledged", Cleared => "cleared"
);
named_enum!(
    /// What an alert is about: a threshold breached, or a device silent past its interval.
    AlertKind, "alert_kind", Threshold => "threshold", Offline => "offline"
);

impl AlertLevel {
    /// The event grade an alert of this level files.
    pub fn grade(self) -> Grade {
        match self {
            AlertLevel::Blue => Grade::General,
            AlertLevel::Yellow => Grade::Significant,
            AlertLevel::Orange => Grade::Serious,
            AlertLevel::Red => Grade::Critical,
        }
    }

    /// Orange and red open an event that runs the loop; blue and yellow are watched only.
    pub fn opens_event(self) -> bool {
        self >= AlertLevel::Orange
    }
}

/// Graded thresholds with hysteresis, checked once when they are set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Thresholds {
    pub direction: Direction,
    /// Blue, yellow, orange, red; a level without a threshold is skipped.
    pub levels: [Option<f64>; 4],
    /// How far back past a threshold a value must go before its level is left.
    pub hysteresis: f64,
}

impl Thresholds {
    pub fn new(direction: Direction, levels: [Option<f64>; 4], hysteresis: f64) -> Result<Self, DomainError> {
        if !hysteresis.is_finite() || hysteresis < 0.0 {
            return Err(DomainError::new("hysteresis", "invalid_hysteresis", "a finite number of zero or more"));
        }
        let set: Vec<(usize, f64)> = levels.iter().enumerate().filter_map(|(i, t)| t.map(|t| (i, t))).collect();
        if set.is_empty() {
            return Err(DomainError::new("thresholds", "no_threshold", "set at least one level's threshold"));
        }
        if let Some((i, _)) = set.iter().find(|(_, t)| !t.is_finite()) {
            return Err(DomainError::new(
                "thresholds",
                "invalid_threshold",
                format!("the {} threshold is not a finite number", AlertLevel::ALL[*i]),
            ));
        }
        for pair in set.windows(2) {
            let ((lo_i, lo), (hi_i, hi)) = (pair[0], pair[1]);
            let graver = match direction {
                Direction::Above => hi > lo,
                Direction::Below => hi < lo,
            };
            if !graver {
                return Err(DomainError::new(
                    "thresholds",
                    "thresholds_out_of_order",
                    format!(
                        "the {} threshold must lie {} the {} threshold",
                        AlertLevel::ALL[hi_i],
                        if direction == Direction::Above { "above" } else { "below" },
                        AlertLevel::ALL[lo_i]
                    ),
                ));
            }
        }
        Ok(Self { direction, levels, hysteresis })
    }

    /// How far `value` lies past `threshold` in the breaching direction (negative: short of it).
    fn past(&self, value: f64, threshold: f64) -> f64 {
        match self.direction {
            Direction::Above => value - threshold,
            Direction::Below => threshold - value,
        }
    }

    /// The level a value stands at, given the level it stood at: a level is entered when its
    /// threshold is reached and left only once the value is back past it by the hysteresis, so
    /// a value flapping around a threshold stays at one level.
    pub fn level(&self, current: Option<AlertLevel>, value: f64) -> Option<AlertLevel> {
        let mut level = None;
        for (i, t) in self.levels.iter().enumerate() {
            let Some(t) = *t else { continue };
            let here = AlertLevel::ALL[i];
            let reached = self.past(value, t) >= 0.0;
            let held = current.is_some_and(|c| here <= c) && self.past(value, t) > -self.hysteresis;
            if reached || held {
                level = Some(here);
            }
        }
        level
    }
}

/// The one value judged from the readings in an indicator's window (oldest first): the latest,
/// the mean, the maximum, or the rate of change per hour between the first and the last.
pub fn aggregate(how: Aggregation, window: &[(DateTime<Utc>, f64)]) -> Option<f64> {
    let (first, last) = (window.first()?, window.last()?);
    Some(match how {
        Aggregation::Latest => last.1,
        Aggregation::Mean => window.iter().map(|(_, v)| v).sum::<f64>() / window.len() as f64,
        Aggregation::Max => window.iter().map(|(_, v)| *v).fold(f64::NEG_INFINITY, f64::max),
        Aggregation::Rate => {
            let hours = (last.0 - first.0).num_milliseconds() as f64 / 3_600_000.0;
            if hours <= 0.0 {
                return None;
            }
            (last.1 - first.1) / hours
        }
    })
}

/// The alert open for a device and indicator, as far as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenAlert {
    pub level: AlertLevel,
    pub state: AlertState,
    /// The value last written onto the event's timeline (or the value it was raised at).
    pub noted_value: f64,
    /// It has an open event (its own, or the device's earlier one it annotates).
    pub has_event: bool,
}

/// What a judged value leads to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Nothing to write.
    Quiet,
    /// A new alert at this level; `open_event` when none is open for the device and indicator.
    Raise { level: AlertLevel, open_event: bool },
    /// The open alert moves to another level; a rise is raised again (the ops centre is told)
    /// and opens an event when it reaches orange without one.
    Change { level: AlertLevel, rose: bool, open_event: bool },
    /// The value moved on by at least the hysteresis since last noted: note it on the event.
    Annotate,
    /// The value is back to normal: the alert is cleared (noted on the event's timeline).
    Clear,
}

/// The decision for one judged value. `event_open` says whether the device already has an
/// open event for the indicator (an earlier alert's, still being handled): then no second one.
pub fn judge(th: &Thresholds, open: Option<&OpenAlert>, event_open: bool, value: f64) -> Verdict {
    let level = th.level(open.map(|a| a.level), value);
    match (open, level) {
        (None, None) => Verdict::Quiet,
        (None, Some(level)) => Verdict::Raise { level, open_event: level.opens_event() && !event_open },
        (Some(_), None) => Verdict::Clear,
        (Some(a), Some(level)) if level != a.level => Verdict::Change {
            level,
            rose: level > a.level,
            open_event: level.opens_event() && !a.has_event && !event_open,
        },
        (Some(a), Some(_)) => {
            let step = th.hysteresis.max(f64::EPSILON);
            if a.has_event && (value - a.noted_value).abs() >= step { Verdict::Annotate } else { Verdict::Quiet }
        }
    }
}

/// An alert may be acknowledged once, while it is raised.
pub fn may_acknowledge(state: AlertState) -> Result<(), DomainError> {
    match state {
        AlertState::Raised => Ok(()),
        AlertState::Acknowledged => {
            Err(DomainError::new("alert", "already_decided", "the alert was acknowledged already"))
        }
        AlertState::Cleared => Err(DomainError::new("alert", "alert_cleared", "the alert is cleared")),
    }
}

/// A device is silent once nothing came from it for twice its expected interval (one missed
/// report is tolerated: a reading in flight or a clock a little off).
pub fn is_silent(
    last_seen: Option<DateTime<Utc>>,
    since: DateTime<Utc>,
    interval_secs: i64,
    now: DateTime<Utc>,
) -> bool {
    let heard = last_seen.unwrap_or(since);
    (now - heard).num_seconds() > 2 * interval_secs.max(1)
}

/// A device code as it appears in the MQTT topic `gridwork/readings/{device}`: 1 to 64 letters,
/// digits, `-`, `_` or `.`, so it can never carry a topic wildcard or a path.
pub fn check_device_code(code: &str) -> Result<(), DomainError> {
    let ok = (1..=64).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::new("code", "invalid_device_code", "1 to 64 letters, digits, '-', '_' or '.'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn depth() -> Thresholds {
        // Waterlogging depth in cm: 10 / 20 / 30 / 50, leave a level 3 cm below it.
        Thresholds::new(Direction::Above, [Some(10.0), Some(20.0), Some(30.0), Some(50.0)], 3.0).unwrap()
    }

    #[test]
    fn thresholds_are_checked() {
        let order = Thresholds::new(Direction::Above, [Some(10.0), Some(5.0), None, None], 1.0).unwrap_err();
        assert_eq!(order.code, "thresholds_out_of_order");
        assert!(Thresholds::new(Direction::Below, [Some(10.0), Some(5.0), None, Some(1.0)], 0.5).is_ok());
        assert_eq!(Thresholds::new(Direction::Above, [None; 4], 1.0).unwrap_err().code, "no_threshold");
        assert_eq!(
            Thresholds::new(Direction::Above, [Some(1.0), None, None, None], -1.0).unwrap_err().code,
            "invalid_hysteresis"
        );
        assert_eq!(
            Thresholds::new(Direction::Above, [Some(f64::NAN), None, None, None], 1.0).unwrap_err().code,
            "invalid_threshold"
        );
    }

    #[test]
    fn levels_rise_at_once_and_fall_past_the_hysteresis() {
        let th = depth();
        assert_eq!(th.level(None, 9.9), None);
        assert_eq!(th.level(None, 10.0), Some(AlertLevel::Blue));
        assert_eq!(th.level(None, 35.0), Some(AlertLevel::Orange));
        assert_eq!(th.level(None, 80.0), Some(AlertLevel::Red));
        // Back under orange's 30 but not by 3: still orange; past it: yellow.
        assert_eq!(th.level(Some(AlertLevel::Orange), 27.5), Some(AlertLevel::Orange));
        assert_eq!(th.level(Some(AlertLevel::Orange), 26.9), Some(AlertLevel::Yellow));
        assert_eq!(th.level(Some(AlertLevel::Red), 5.0), None);
        // Held levels never exceed the current one.
        assert_eq!(th.level(Some(AlertLevel::Blue), 19.0), Some(AlertLevel::Blue));
    }

    #[test]
    fn falling_indicators_mirror_rising_ones() {
        let power = Thresholds::new(Direction::Below, [Some(80.0), None, Some(40.0), Some(10.0)], 5.0).unwrap();
        assert_eq!(power.level(None, 90.0), None);
        assert_eq!(power.level(None, 39.0), Some(AlertLevel::Orange));
        assert_eq!(power.level(Some(AlertLevel::Orange), 43.0), Some(AlertLevel::Orange));
        assert_eq!(power.level(Some(AlertLevel::Orange), 46.0), Some(AlertLevel::Blue));
        assert_eq!(power.level(Some(AlertLevel::Blue), 86.0), None);
    }

    #[test]
    fn a_flapping_value_raises_one_alert() {
        let th = depth();
        let mut open: Option<OpenAlert> = None;
        let mut raised = 0;
        for v in [29.0, 31.0, 29.5, 30.5, 28.0, 30.0, 27.5, 31.0] {
            match judge(&th, open.as_ref(), false, v) {
                Verdict::Raise { level, open_event } => {
                    raised += 1;
                    open = Some(OpenAlert { level, state: AlertState::Raised, noted_value: v, has_event: open_event });
                }
                Verdict::Change { level, .. } => open.as_mut().unwrap().level = level,
                Verdict::Clear => open = None,
                Verdict::Quiet | Verdict::Annotate => {}
            }
        }
        assert_eq!(raised, 1);
        assert_eq!(open.unwrap().level, AlertLevel::Orange);
    }

    #[test]
    fn verdicts() {
        let th = depth();
        let orange =
            OpenAlert { level: AlertLevel::Orange, state: AlertState::Raised, noted_value: 32.0, has_event: true };
        let yellow = OpenAlert { level: AlertLevel::Yellow, has_event: false, ..orange };
        assert_eq!(judge(&th, None, false, 5.0), Verdict::Quiet);
        assert_eq!(judge(&th, None, false, 12.0), Verdict::Raise { level: AlertLevel::Blue, open_event: false });
        assert_eq!(judge(&th, None, false, 60.0), Verdict::Raise { level: AlertLevel::Red, open_event: true });
        // The device's earlier event is still being handled: no second one.
        assert_eq!(judge(&th, None, true, 60.0), Verdict::Raise { level: AlertLevel::Red, open_event: false });
        assert_eq!(
            judge(&th, Some(&yellow), false, 31.0),
            Verdict::Change { level: AlertLevel::Orange, rose: true, open_event: true }
        );
        assert_eq!(
            judge(&th, Some(&orange), false, 55.0),
            Verdict::Change { level: AlertLevel::Red, rose: true, open_event: false }
        );
        assert_eq!(
            judge(&th, Some(&orange), false, 20.0),
            Verdict::Change { level: AlertLevel::Yellow, rose: false, open_event: false }
        );
        assert_eq!(judge(&th, Some(&orange), false, 33.0), Verdict::Quiet);
        assert_eq!(judge(&th, Some(&orange), false, 35.5), Verdict::Annotate);
        assert_eq!(judge(&th, Some(&yellow), false, 29.0), Verdict::Quiet, "no event: nothing to annotate");
        assert_eq!(judge(&th, Some(&orange), false, 1.0), Verdict::Clear);
    }

    #[test]
    fn aggregation_over_a_window() {
        let t = |m: i64| Utc.timestamp_opt(1_700_000_000 + m * 60, 0).unwrap();
        let w = [(t(0), 10.0), (t(30), 16.0), (t(60), 13.0)];
        assert_eq!(aggregate(Aggregation::Latest, &w), Some(13.0));
        assert_eq!(aggregate(Aggregation::Mean, &w), Some(13.0));
        assert_eq!(aggregate(Aggregation::Max, &w), Some(16.0));
        assert_eq!(aggregate(Aggregation::Rate, &w), Some(3.0));
        assert_eq!(aggregate(Aggregation::Rate, &w[..1]), None);
        assert_eq!(aggregate(Aggregation::Latest, &[]), None);
    }

    #[test]
    fn acknowledging_and_silence() {
        assert!(may_acknowledge(AlertState::Raised).is_ok());
        assert_eq!(may_acknowledge(AlertState::Cleared).unwrap_err().code, "alert_cleared");
        let t0 = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let later = |s: i64| t0 + chrono::Duration::seconds(s);
        assert!(!is_silent(Some(t0), t0, 60, later(120)));
        assert!(is_silent(Some(t0), t0, 60, later(121)));
        assert!(is_silent(None, t0, 60, later(121)), "a device never heard from counts from its registration");
        assert!(check_device_code("wl-0001.a_b").is_ok());
        assert!(check_device_code("a/+").is_err());
        assert!(check_device_code("").is_err());
    }
}
