//! Supervision orders (督办) as a loop: the responsible unit replies, the issuing level accepts or
//! sends back, and the scheduler escalates orders left unanswered past their due time. The rules
//! are the shared core's (`domain::supervision`); this works out who the caller is to an order
//! and stores what the rules say, with a timeline note and the notices.

use chrono::NaiveDateTime;
use gridwork_mobile_core::domain::event::{EventState, ops_role};
use gridwork_mobile_core::domain::supervision::{OrderAction, OrderParty, OrderState, decide_order, escalation_of};
use gridwork_mobile_core::{AreaCode, AreaLevel, Role};
use serde_json::json;

use super::actions::Ctx;
use super::timeline::{self, Step, Who};
use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::models::event::{EventRow, SupervisionOrderRow};
use crate::models::now;
use crate::queries;

fn level_of(order: &SupervisionOrderRow) -> ApiResult<AreaLevel> {
    order.level.parse().map_err(super::internal)
}

/// The area an order is about: the one it was issued over, else the event's deepest.
fn area_of(order: &SupervisionOrderRow, event: &EventRow) -> Option<AreaCode> {
    order.area_code.as_deref().or_else(|| event.area_code()).and_then(|a| AreaCode::parse(a).ok())
}

/// Who the caller is to the order: responsible (a handler on the event, or the ops centre one
/// level below the order's) and/or issuer (the ops centre of the order's level over its area).
pub fn party(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    order: &SupervisionOrderRow,
    event: &EventRow,
) -> ApiResult<OrderParty> {
    let assignees = super::on_event(conn, event)?.assignees;
    party_of(caller, index, order, event, &assignees)
}

/// `party` for an event whose handlers (`assignees`) are known already (a list reads them for
/// a whole page at once).
pub fn party_of(
    caller: &Caller,
    index: &AreaIndex,
    order: &SupervisionOrderRow,
    event: &EventRow,
    assignees: &[String],
) -> ApiResult<OrderParty> {
    let level = level_of(order)?;
    let area = area_of(order, event);
    let event_area = event.area_code().and_then(|a| AreaCode::parse(a).ok());
    let handler = assignees.contains(&caller.user.id);
    let below = match level {
        AreaLevel::City => Some(Role::DistrictOperator),
        AreaLevel::District => Some(Role::Coordinator),
        _ => None,
    };
    let unit_below = below.is_some_and(|r| caller.holds_over(&[r], event_area.as_ref(), index));
    let issuer = caller.holds_over(&[ops_role(level), Role::Admin], area.as_ref(), index);
    Ok(OrderParty { responsible: handler || unit_below, issuer })
}

/// Applies a person's action to an order, in one transaction.
pub fn act(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    caller: &Caller,
    order_id: &str,
    action: &OrderAction,
) -> ApiResult<SupervisionOrderRow> {
    let missing = || ApiError::not_found(format!("no supervision order {order_id}"));
    write_tx(conn, |conn| {
        let order = queries::events::order_by_id(conn, order_id)?.ok_or_else(missing)?;
        // An order is as visible as its event: out of reach looks like missing.
        let event = super::visible(conn, caller, &order.event_id, ctx.index).map_err(|_| missing())?;
        let party = party(conn, caller, ctx.index, &order, &event)?;
        let state: OrderState = order.state.parse()?;
        let out = decide_order(state, party, action).map_err(ApiError::refusal)?;
        let at = now();
        let mut up = order.clone();
        up.state = out.state.as_str().to_owned();
        match action {
            OrderAction::Reply { text, evidence } => {
                check_evidence(conn, &event, evidence)?;
                up.reply = Some(text.trim().to_owned());
                up.reply_evidence = serde_json::to_string(evidence).map_err(|e| ApiError::internal(e.to_string()))?;
                up.replied_by = Some(caller.user.id.clone());
                up.replied_at = Some(at);
            }
            OrderAction::Accept | OrderAction::SendBack { .. } => {
                up.decided_by = Some(caller.user.id.clone());
                up.decided_at = Some(at);
                up.send_back_reason = match action {
                    OrderAction::SendBack { reason } => Some(reason.trim().to_owned()),
                    _ => None,
                };
            }
        }
        if out.due_again {
            up.due_at = Some(at + ctx.policy.supervision_reply);
        }
        if !queries::events::update_order(conn, &up, &order.state)? {
            return Err(ApiError::conflict("the order changed meanwhile; reload it"));
        }
        let who = Who { user_id: caller.user.id.clone(), role: role_name(caller, &party) };
        let reason = match action {
            OrderAction::Reply { text, .. } => Some(text.trim()),
            OrderAction::SendBack { reason } => Some(reason.trim()),
            OrderAction::Accept => None,
        };
        let detail = json!({"supervision_order": order.id, "level": order.level});
        let step = format!("supervision_{}", action.name());
        note(conn, &event, &who, &step, reason, detail)?;
        let level = level_of(&order)?;
        let to = match action {
            OrderAction::Reply { .. } => super::holders_over(conn, ctx.index, &event, ops_role(level), None)?,
            _ => {
                let mut to = super::on_event(conn, &event)?.assignees;
                to.extend(order.replied_by.clone());
                to
            }
        };
        let kind = match action {
            OrderAction::Reply { .. } => "supervision_replied",
            OrderAction::Accept => "supervision_closed",
            OrderAction::SendBack { .. } => "supervision_sent_back",
        };
        let payload = json!({"event_id": event.id, "order_id": order.id, "level": order.level, "reason": reason});
        super::notify::send_to(conn, &to, Some(&event.id), kind, &payload)?;
        Ok(up)
    })
}

/// An order's step on its event's timeline (the event's state does not change).
fn note(
    conn: &mut DbConn,
    event: &EventRow,
    who: &Who,
    action: &str,
    reason: Option<&str>,
    detail: serde_json::Value,
) -> ApiResult<()> {
    let state: EventState = event.state.parse().map_err(super::internal)?;
    let step = Step { who, action, from: Some(state), to: state, reason, at: None, detail: Some(detail) };
    timeline::append(conn, &event.id, &step).map(drop)
}

/// The role the caller acts in, for the timeline.
fn role_name(caller: &Caller, party: &OrderParty) -> String {
    let roles = caller.roles();
    let prefer: &[Role] = if party.issuer {
        &[Role::CityOperator, Role::DistrictOperator, Role::Coordinator, Role::Admin]
    } else {
        &[Role::GridWorker, Role::DeptHandler, Role::Volunteer, Role::Coordinator, Role::DistrictOperator]
    };
    prefer.iter().find(|r| roles.contains(r)).or(roles.first()).map_or("none", |r| r.as_str()).to_owned()
}

/// A reply's photos must be photos of this event.
fn check_evidence(conn: &mut DbConn, event: &EventRow, ids: &[String]) -> ApiResult<()> {
    if ids.len() > 10 {
        return Err(ApiError::field("evidence", "too_many", "at most 10 photos per reply"));
    }
    for id in ids {
        let ok =
            queries::evidence::by_id(conn, id)?.is_some_and(|(e, _)| e.event_id.as_deref() == Some(event.id.as_str()));
        if !ok {
            return Err(ApiError::field("evidence", "unknown_evidence", format!("{id:?} is no photo of this event")));
        }
    }
    Ok(())
}

/// Escalates the orders left unanswered past their due time one level up (a new order there,
/// the old one marked `escalated`); city orders stay open and overdue. How many escalated.
pub fn escalate_overdue(conn: &mut DbConn, ctx: Ctx<'_>, at: NaiveDateTime) -> ApiResult<usize> {
    let mut n = 0;
    for order in queries::events::orders_overdue(conn, at, 200)? {
        let Some(next) = escalation_of(level_of(&order)?) else { continue };
        let escalated = write_tx(conn, |conn| {
            let Some(event) = queries::events::by_id(conn, &order.event_id)? else { return Ok(false) };
            let reason = format!("督办逾期未回复：{}", order.reason);
            let new = SupervisionOrderRow::issue(
                &event.id,
                next.as_str(),
                event.code_at(next).map(str::to_owned),
                true,
                &reason,
                super::SYSTEM_USER,
                at,
                at + ctx.policy.supervision_reply,
            );
            let mut old = order.clone();
            old.state = OrderState::Escalated.as_str().to_owned();
            old.escalated_to = Some(new.id.clone());
            // Another server (or a reply) got there first: nothing to do.
            if !queries::events::update_order(conn, &old, OrderState::Open.as_str())? {
                return Ok(false);
            }
            queries::events::insert_order(conn, &new)?;
            let detail = json!({"supervision_order": new.id, "level": new.level, "from": order.id});
            note(conn, &event, &Who::system(), "supervision_escalate", Some(&reason), detail)?;
            let mut to = super::holders_over(conn, ctx.index, &event, ops_role(next), None)?;
            to.extend(super::holders_over(conn, ctx.index, &event, Role::Coordinator, None)?);
            to.extend(super::on_event(conn, &event)?.assignees);
            let payload = json!({"event_id": event.id, "order_id": new.id, "level": new.level, "reason": reason});
            super::notify::send_to(conn, &to, Some(&event.id), "supervision", &payload)?;
            Ok::<bool, ApiError>(true)
        })?;
        if escalated {
            n += 1;
        }
    }
    Ok(n)
}
