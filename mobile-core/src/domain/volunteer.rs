//! Volunteers (志愿者): signing up, the coordinator's decision, and what a verified task earns.
//! Pure rules, so the server, the phone and the console say the same.

use chrono::{DateTime, Utc};

use super::category::Grade;
use super::error::DomainError;

named_enum!(
    /// Where a sign-up stands.
    ApplicationState, "state", Pending => "pending", Approved => "approved", Declined => "declined"
);

named_enum!(
    /// What the street's coordinator says to a sign-up.
    Decision, "decision", Approve => "approve", Decline => "decline"
);

/// A contact phone number: a mainland mobile number (`13800138000`, also written with `+86`,
/// spaces or dashes) or an international one (`+` and 7 to 15 digits). Kept in its plain form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::new(
                "phone",
                "invalid_phone",
                "a mobile number such as 13800138000, or + and 7 to 15 digits".to_owned(),
            )
        };
        let compact: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let (international, digits) = match compact.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, compact.as_str()),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let mainland = |d: &str| d.len() == 11 && d.starts_with('1') && !d[1..2].starts_with(['0', '1', '2']);
        match digits.strip_prefix("86") {
            Some(rest) if international && mainland(rest) => Ok(Self(rest.to_owned())),
            _ if !international && mainland(digits) => Ok(Self(digits.to_owned())),
            _ if international && (7..=15).contains(&digits.len()) => Ok(Self(format!("+{digits}"))),
            _ => Err(bad()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The coordinator's decision on a pending sign-up: a decline needs a reason the applicant will
/// read; a decided sign-up stays decided (sign up again instead).
pub fn decide_application(
    state: ApplicationState,
    decision: Decision,
    reason: Option<&str>,
) -> Result<ApplicationState, DomainError> {
    if state != ApplicationState::Pending {
        return Err(DomainError::new("decision", "already_decided", format!("the sign-up was already {state}")));
    }
    match decision {
        Decision::Approve => Ok(ApplicationState::Approved),
        Decision::Decline if reason.is_none_or(|r| r.trim().is_empty()) => {
            Err(DomainError::new("reason", "reason_required", "say why the sign-up is declined".to_owned()))
        }
        Decision::Decline => Ok(ApplicationState::Declined),
    }
}

/// What one verified, closed task earns its volunteer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceAward {
    pub points: i32,
    /// Service time: from the claim to the resolve, at most `MAX_TASK_MINUTES` and at least one.
    pub minutes: i32,
}

/// A volunteer job is small: a claim left open overnight is not a night of service.
pub const MAX_TASK_MINUTES: i32 = 240;

/// Points (积分) by the event's grade, plus one for every full half hour of service.
pub fn service_award(grade: Grade, claimed_at: DateTime<Utc>, resolved_at: DateTime<Utc>) -> ServiceAward {
    let base = match grade {
        Grade::General => 10,
        Grade::Significant => 20,
        Grade::Serious => 40,
        Grade::Critical => 80,
    };
    let minutes =
        i32::try_from((resolved_at - claimed_at).num_minutes()).unwrap_or(i32::MAX).clamp(1, MAX_TASK_MINUTES);
    ServiceAward { points: base + minutes / 30, minutes }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn phone_numbers_are_kept_plain_and_refused_with_the_field() {
        for (raw, kept) in [
            ("13800138000", "13800138000"),
            (" 138-0013-8000 ", "13800138000"),
            ("+86 138 0013 8000", "13800138000"),
            ("+44 20 7946 0958", "+442079460958"),
        ] {
            assert_eq!(PhoneNumber::parse(raw).unwrap().as_str(), kept, "{raw}");
        }
        for raw in ["", "12800138000", "1380013800", "138001380001", "phone", "+12", "+86 12800138000x", "027-8888"] {
            let e = PhoneNumber::parse(raw).unwrap_err();
            assert_eq!((e.field, e.code), ("phone", "invalid_phone"), "{raw}");
        }
    }

    #[test]
    fn a_sign_up_is_decided_once_and_a_decline_says_why() {
        use ApplicationState as S;
        assert_eq!(decide_application(S::Pending, Decision::Approve, None).unwrap(), S::Approved);
        assert_eq!(decide_application(S::Pending, Decision::Decline, Some("不在本社区居住")).unwrap(), S::Declined);
        assert_eq!(decide_application(S::Pending, Decision::Decline, Some("  ")).unwrap_err().code, "reason_required");
        assert_eq!(decide_application(S::Pending, Decision::Decline, None).unwrap_err().code, "reason_required");
        for done in [S::Approved, S::Declined] {
            assert_eq!(decide_application(done, Decision::Approve, None).unwrap_err().code, "already_decided");
        }
    }

    #[test]
    fn service_counts_claim_to_resolve_capped_and_points_follow_grade_and_time() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(
            service_award(Grade::General, t0, t0 + Duration::minutes(45)),
            ServiceAward { points: 11, minutes: 45 }
        );
        assert_eq!(
            service_award(Grade::Significant, t0, t0 + Duration::seconds(20)),
            ServiceAward { points: 20, minutes: 1 }
        );
        assert_eq!(
            service_award(Grade::Serious, t0, t0 + Duration::hours(30)),
            ServiceAward { points: 48, minutes: MAX_TASK_MINUTES }
        );
        // A phone clock behind the server's never makes negative service.
        assert_eq!(service_award(Grade::General, t0, t0 - Duration::hours(1)).minutes, 1);
    }
}
