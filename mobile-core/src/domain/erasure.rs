//! Erasure of a person's data at their request (删除权): the person asks, an administrator over
//! their area carries it out or declines with a reason, and the person may withdraw while it
//! waits. Pure, so the phone can tell what it may still do with its request.

use super::error::DomainError;

named_enum!(
    /// Where an erasure request stands.
    ErasureState, "state", Requested => "requested", Erased => "erased", Declined => "declined",
    Withdrawn => "withdrawn"
);

named_enum!(
    /// What is done with a waiting request: `carry_out` and `decline` by an administrator over
    /// the person's area, `withdraw` by the person.
    ErasureDecision, "decision", CarryOut => "carry_out", Decline => "decline", Withdraw => "withdraw"
);

/// The state a request moves to, or why it cannot. `by_person`: the person themself decides
/// (only withdrawing is theirs; carrying out and declining are the administrator's).
pub fn decide_erasure(
    state: ErasureState,
    decision: ErasureDecision,
    by_person: bool,
    reason: Option<&str>,
) -> Result<ErasureState, DomainError> {
    if state != ErasureState::Requested {
        return Err(DomainError::new("decision", "already_decided", format!("the request was already {state}")));
    }
    let needs_admin = || DomainError::new("decision", "not_permitted", format!("only an administrator may {decision}"));
    match decision {
        ErasureDecision::Withdraw if by_person => Ok(ErasureState::Withdrawn),
        ErasureDecision::Withdraw => {
            Err(DomainError::new("decision", "not_permitted", "only the person may withdraw their request".to_owned()))
        }
        _ if by_person => Err(needs_admin()),
        ErasureDecision::CarryOut => Ok(ErasureState::Erased),
        ErasureDecision::Decline if reason.is_none_or(|r| r.trim().is_empty()) => Err(DomainError::new(
            "reason",
            "reason_required",
            "say why the erasure is declined (the person reads it)".to_owned(),
        )),
        ErasureDecision::Decline => Ok(ErasureState::Declined),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_decided_once_by_the_right_side() {
        use ErasureDecision as D;
        use ErasureState as S;
        assert_eq!(decide_erasure(S::Requested, D::CarryOut, false, None).unwrap(), S::Erased);
        assert_eq!(decide_erasure(S::Requested, D::Decline, false, Some("法定保存期内")).unwrap(), S::Declined);
        assert_eq!(decide_erasure(S::Requested, D::Decline, false, Some(" ")).unwrap_err().code, "reason_required");
        assert_eq!(decide_erasure(S::Requested, D::Withdraw, true, None).unwrap(), S::Withdrawn);
        assert_eq!(decide_erasure(S::Requested, D::Withdraw, false, None).unwrap_err().code, "not_permitted");
        assert_eq!(decide_erasure(S::Requested, D::CarryOut, true, None).unwrap_err().code, "not_permitted");
        for done in [S::Erased, S::Declined, S::Withdrawn] {
            for d in D::ALL {
                assert_eq!(decide_erasure(done, d, false, Some("x")).unwrap_err().code, "already_decided");
            }
        }
    }
}
