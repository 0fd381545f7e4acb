//! Emergency mode (急时): an ops centre switches its area's subtree from normal (平时) to
//! emergency with a reason and an expected end. While it lasts, deadlines shrink by a factor per
//! grade and an overdue event escalates straight to the city centre (`event::decide` reads
//! `EventFacts::emergency`). Pure, so the phone shows the same deadlines the server keeps.

use chrono::{DateTime, Duration, Utc};

use super::area::AreaLevel;
use super::category::Grade;
use super::error::DomainError;

/// How much of its normal time each grade gets during an emergency (0.5: half).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadlineFactors {
    pub general: f64,
    pub significant: f64,
    pub serious: f64,
    pub critical: f64,
}

impl Default for DeadlineFactors {
    /// Half the time for every grade, a quarter for critical events.
    fn default() -> Self {
        Self { general: 0.5, significant: 0.5, serious: 0.5, critical: 0.25 }
    }
}

/// The smallest factor: a deadline never shrinks below a twentieth of its normal length.
pub const MIN_FACTOR: f64 = 0.05;

impl DeadlineFactors {
    /// Each factor within `MIN_FACTOR..=1`.
    pub fn check(self) -> Result<Self, DomainError> {
        for (grade, f) in [
            (Grade::General, self.general),
            (Grade::Significant, self.significant),
            (Grade::Serious, self.serious),
            (Grade::Critical, self.critical),
        ] {
            if !(MIN_FACTOR..=1.0).contains(&f) {
                return Err(DomainError::new(
                    "deadline_factors",
                    "out_of_range",
                    format!("the {grade} factor must lie between {MIN_FACTOR} and 1"),
                ));
            }
        }
        Ok(self)
    }

    pub fn of(&self, grade: Grade) -> f64 {
        match grade {
            Grade::General => self.general,
            Grade::Significant => self.significant,
            Grade::Serious => self.serious,
            Grade::Critical => self.critical,
        }
    }

    /// The stricter of two declarations covering one place (a district's inside the city's).
    pub fn stricter(self, other: Self) -> Self {
        Self {
            general: self.general.min(other.general),
            significant: self.significant.min(other.significant),
            serious: self.serious.min(other.serious),
            critical: self.critical.min(other.critical),
        }
    }
}

/// A stage's minutes under a factor (at least one minute).
pub fn shrink_minutes(minutes: u32, factor: f64) -> i64 {
    ((f64::from(minutes) * factor).round() as i64).max(1)
}

/// A running stage's deadline when the emergency is declared: the time it was given, shrunk,
/// counted from when the stage started — never earlier than now plus a minute, so nobody is
/// overdue the instant the mode switches.
pub fn shrunk_due(started: DateTime<Utc>, due: DateTime<Utc>, factor: f64, now: DateTime<Utc>) -> DateTime<Utc> {
    let given = (due - started).num_seconds().max(0) as f64;
    let shrunk = started + Duration::seconds((given * factor).round() as i64);
    shrunk.max(now + Duration::minutes(1)).min(due)
}

/// Ops centres declare: the city, a district or a street (their own area's subtree).
pub fn may_declare(level: AreaLevel, expected_end: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), DomainError> {
    if !matches!(level, AreaLevel::City | AreaLevel::District | AreaLevel::Street) {
        return Err(DomainError::new(
            "area",
            "not_an_ops_centre",
            "emergencies are declared for a city, a district or a street",
        ));
    }
    if expected_end <= now || expected_end > now + Duration::days(90) {
        return Err(DomainError::new(
            "expected_end_at",
            "out_of_range",
            "the expected end lies after now and within 90 days",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn factors_are_checked_and_combined() {
        assert!(DeadlineFactors::default().check().is_ok());
        let bad = DeadlineFactors { critical: 0.0, ..DeadlineFactors::default() };
        assert_eq!(bad.check().unwrap_err().code, "out_of_range");
        let lax = DeadlineFactors { general: 2.0, ..DeadlineFactors::default() };
        assert!(lax.check().is_err());
        let a = DeadlineFactors { general: 0.4, ..DeadlineFactors::default() };
        let b = DeadlineFactors { critical: 0.1, ..DeadlineFactors::default() };
        let s = a.stricter(b);
        assert_eq!((s.general, s.critical), (0.4, 0.1));
        assert_eq!(s.of(Grade::Critical), 0.1);
    }

    #[test]
    fn deadlines_shrink_but_never_into_the_past() {
        assert_eq!(shrink_minutes(240, 0.5), 120);
        assert_eq!(shrink_minutes(1, 0.05), 1);
        let t = |m: i64| Utc.timestamp_opt(1_700_000_000, 0).unwrap() + Duration::minutes(m);
        // Four hours given, one hour gone: half of it is two hours from the start.
        assert_eq!(shrunk_due(t(0), t(240), 0.5, t(60)), t(120));
        // Already past the shrunk deadline: due a minute from now.
        assert_eq!(shrunk_due(t(0), t(240), 0.25, t(100)), t(101));
        // Never later than it was.
        assert_eq!(shrunk_due(t(0), t(10), 0.5, t(9)), t(10));
    }

    #[test]
    fn only_ops_centres_declare_for_a_while() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        assert!(may_declare(AreaLevel::Street, now + Duration::hours(6), now).is_ok());
        assert_eq!(may_declare(AreaLevel::Grid, now + Duration::hours(6), now).unwrap_err().code, "not_an_ops_centre");
        assert_eq!(may_declare(AreaLevel::City, now, now).unwrap_err().code, "out_of_range");
    }
}
