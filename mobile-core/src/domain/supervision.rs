//! Supervision as a loop (督办闭环): an order carries a due time and needs a reply; the unit
//! responsible for the event replies (with evidence), the issuing level accepts the reply or
//! sends it back, and an order left unanswered past its due time escalates one level. Pure rules:
//! the server asks them with who the caller is to the order and stores what they say.

use serde::{Deserialize, Serialize};

use super::area::AreaLevel;
use super::error::DomainError;
use super::event::REASON_MAX_CHARS;

named_enum!(
    /// Where an order stands.
    OrderState, "state",
    Open => "open", Replied => "replied", Closed => "closed", Escalated => "escalated"
);

/// What a person does with an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OrderAction {
    /// The responsible unit says what it did, with photos (evidence ids) where it has them.
    Reply {
        text: String,
        #[serde(default)]
        evidence: Vec<String>,
    },
    /// The issuing level accepts the reply: the order is closed.
    Accept,
    /// The issuing level is not satisfied: the order is open again, due afresh.
    SendBack { reason: String },
}

impl OrderAction {
    pub fn name(&self) -> &'static str {
        match self {
            OrderAction::Reply { .. } => "reply",
            OrderAction::Accept => "accept",
            OrderAction::SendBack { .. } => "send_back",
        }
    }
}

/// Who the caller is to an order (the server works it out from roles, scopes and the event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderParty {
    /// A handler of the event, or the ops centre one level below the order's.
    pub responsible: bool,
    /// The ops centre of the order's level over its area (or an administrator).
    pub issuer: bool,
}

/// What an allowed order action leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderOutcome {
    pub state: OrderState,
    /// The reply time starts afresh (a send-back).
    pub due_again: bool,
}

fn refuse(field: &'static str, code: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::new(field, code, message)
}

fn text_of(field: &'static str, text: &str) -> Result<(), DomainError> {
    if text.trim().is_empty() {
        return Err(refuse(field, "reason_required", format!("{field} is required")));
    }
    if text.chars().count() > REASON_MAX_CHARS {
        return Err(refuse(field, "too_long", format!("{field} is at most {REASON_MAX_CHARS} characters")));
    }
    Ok(())
}

/// Decides an order action: replies from the responsible unit to an open order, decisions from
/// the issuing level on a replied one.
pub fn decide_order(state: OrderState, party: OrderParty, action: &OrderAction) -> Result<OrderOutcome, DomainError> {
    let wrong_state =
        || refuse("action", "invalid_transition", format!("cannot {} an order that is {state}", action.name()));
    match action {
        OrderAction::Reply { text, .. } => {
            text_of("text", text)?;
            if !party.responsible {
                return Err(refuse("action", "not_permitted", "only the unit responsible for the event replies"));
            }
            if state != OrderState::Open {
                return Err(wrong_state());
            }
            Ok(OrderOutcome { state: OrderState::Replied, due_again: false })
        }
        OrderAction::Accept | OrderAction::SendBack { .. } => {
            if let OrderAction::SendBack { reason } = action {
                text_of("reason", reason)?;
            }
            if !party.issuer {
                return Err(refuse("action", "not_permitted", "only the issuing ops centre decides on a reply"));
            }
            if state != OrderState::Replied {
                return Err(wrong_state());
            }
            let accepted = matches!(action, OrderAction::Accept);
            Ok(OrderOutcome {
                state: if accepted { OrderState::Closed } else { OrderState::Open },
                due_again: !accepted,
            })
        }
    }
}

/// The level an unanswered order escalates to; `None` at the city (nobody is above it: it stays
/// open and overdue).
pub fn escalation_of(level: AreaLevel) -> Option<AreaLevel> {
    match level {
        AreaLevel::City => None,
        AreaLevel::District => Some(AreaLevel::City),
        _ => Some(AreaLevel::District),
    }
}

/// Whether an order in `state` due at `due` escalates at `now`.
pub fn overdue(state: OrderState, due: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> bool {
    state == OrderState::Open && now > due
}

#[cfg(test)]
mod tests {
    use super::*;

    const HANDLER: OrderParty = OrderParty { responsible: true, issuer: false };
    const ISSUER: OrderParty = OrderParty { responsible: false, issuer: true };
    const NOBODY: OrderParty = OrderParty { responsible: false, issuer: false };

    fn reply() -> OrderAction {
        OrderAction::Reply { text: "已安排夜间抢修".into(), evidence: vec![] }
    }

    #[test]
    fn the_loop_reply_send_back_reply_accept() {
        use OrderState as S;
        let r = decide_order(S::Open, HANDLER, &reply()).unwrap();
        assert_eq!(r, OrderOutcome { state: S::Replied, due_again: false });
        let back = decide_order(S::Replied, ISSUER, &OrderAction::SendBack { reason: "照片看不清".into() }).unwrap();
        assert_eq!(back, OrderOutcome { state: S::Open, due_again: true });
        assert_eq!(decide_order(S::Open, HANDLER, &reply()).unwrap().state, S::Replied);
        assert_eq!(decide_order(S::Replied, ISSUER, &OrderAction::Accept).unwrap().state, S::Closed);
    }

    #[test]
    fn each_side_does_only_its_part_in_order() {
        use OrderState as S;
        let code = |s, p, a: &OrderAction| decide_order(s, p, a).unwrap_err().code;
        assert_eq!(code(S::Open, ISSUER, &reply()), "not_permitted");
        assert_eq!(code(S::Open, NOBODY, &reply()), "not_permitted");
        assert_eq!(code(S::Replied, HANDLER, &OrderAction::Accept), "not_permitted");
        assert_eq!(code(S::Open, ISSUER, &OrderAction::Accept), "invalid_transition");
        assert_eq!(code(S::Replied, HANDLER, &reply()), "invalid_transition");
        for done in [S::Closed, S::Escalated] {
            assert_eq!(code(done, HANDLER, &reply()), "invalid_transition");
            assert_eq!(code(done, ISSUER, &OrderAction::Accept), "invalid_transition");
        }
        assert_eq!(
            code(S::Open, HANDLER, &OrderAction::Reply { text: " ".into(), evidence: vec![] }),
            "reason_required"
        );
        assert_eq!(code(S::Replied, ISSUER, &OrderAction::SendBack { reason: String::new() }), "reason_required");
        assert_eq!(
            code(S::Open, HANDLER, &OrderAction::Reply { text: "长".repeat(501), evidence: vec![] }),
            "too_long"
        );
    }

    #[test]
    fn unanswered_orders_climb_to_the_city_and_stop() {
        assert_eq!(escalation_of(AreaLevel::Street), Some(AreaLevel::District));
        assert_eq!(escalation_of(AreaLevel::District), Some(AreaLevel::City));
        assert_eq!(escalation_of(AreaLevel::City), None);
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let later = t0 + chrono::Duration::minutes(1);
        assert!(overdue(OrderState::Open, t0, later));
        assert!(!overdue(OrderState::Replied, t0, later), "a reply stops the clock");
        assert!(!overdue(OrderState::Open, later, t0));
    }
}
