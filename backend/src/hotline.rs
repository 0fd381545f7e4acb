//! The 12345 citizens' hotline (市民热线): an operator files a call — the caller's name and
//! phone, the call's reference number and the problem — which becomes an event with source
//! `hotline` and runs the loop like any report; once the case is closed the caller is called back
//! (回访) and their satisfaction recorded, which joins evaluation. Callers' names and phones are
//! shown in full only to ops staff over the case, masked for everyone else, never in exports or
//! to other systems, and purged after the retention period.

use gridwork_mobile_core::domain::event::{EventState, OPS_ROLES, Source};
use gridwork_mobile_core::domain::hotline::{mask_name, mask_phone, may_call_back};
use gridwork_mobile_core::wire::{CallbackRequest, HotlineCallRequest, HotlineCallView};

use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::events::actions::Ctx;
use crate::events::intake::{self, NewReport};
use crate::events::roles_over;
use crate::events::timeline::Who;
use crate::models::event::EventRow;
use crate::models::hotline::CallRow;
use crate::models::{new_id, now};
use crate::queries;

/// Whether the caller sees callers in full on this event: ops staff over its area.
pub fn sees_callers(caller: &Caller, event: &EventRow, index: &AreaIndex) -> bool {
    roles_over(caller, event.area_code(), index).iter().any(|r| OPS_ROLES.contains(r))
}

pub fn view(row: &CallRow, full: bool) -> HotlineCallView {
    HotlineCallView {
        id: row.id.clone(),
        reference: row.reference.clone(),
        event_id: row.event_id.clone(),
        caller_name: row.caller_name.as_deref().map(|n| if full { n.to_owned() } else { mask_name(n) }),
        caller_phone: row.caller_phone.as_deref().map(|p| if full { p.to_owned() } else { mask_phone(p) }),
        masked: !full,
        created_at: row.created_at.and_utc(),
        callback_at: row.callback_at.map(|t| t.and_utc()),
        satisfied: row.satisfied,
        callback_note: row.callback_note.clone(),
    }
}

/// A caller's phone: 5 to 15 digits, written with `+`, spaces, dashes or brackets (landlines too).
fn parse_phone(raw: &str) -> ApiResult<String> {
    let raw = raw.trim();
    let digits = raw.chars().filter(char::is_ascii_digit).count();
    let allowed = raw.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
    if !allowed || !(5..=15).contains(&digits) {
        return Err(ApiError::field("caller_phone", "invalid_phone", "a phone number of 5 to 15 digits"));
    }
    Ok(raw.to_owned())
}

/// Files a call: the event (through intake, as any report) and the call. Filing the same
/// reference again answers the call filed first (`true`: it was filed just now).
pub fn file(conn: &mut DbConn, ctx: Ctx<'_>, caller: &Caller, req: &HotlineCallRequest) -> ApiResult<(CallRow, bool)> {
    let phone = parse_phone(&req.caller_phone)?;
    let reference = req.reference.trim().to_owned();
    if let Some(done) = queries::hotline::by_reference(conn, &reference)? {
        return Ok((done, false));
    }
    let new = NewReport {
        category: req.category.trim().to_owned(),
        source: Source::Hotline,
        lat: req.lat,
        lng: req.lng,
        description: req.description.clone(),
        address: req.address.clone(),
        grade: req.grade,
        suggested_grade: None,
        at: None,
        evidence: vec![],
    };
    let (event, _) = intake::report(conn, ctx, caller, &new, &format!("hotline:{reference}"))?;
    let row = CallRow {
        id: new_id(),
        reference: reference.clone(),
        event_id: event.id,
        caller_name: Some(req.caller_name.trim().to_owned()),
        caller_phone: Some(phone),
        filed_by: caller.user.id.clone(),
        created_at: now(),
        callback_at: None,
        callback_by: None,
        satisfied: None,
        callback_note: None,
        purged_at: None,
    };
    match queries::hotline::insert(conn, &row) {
        Ok(()) => Ok((row, true)),
        // The same reference filed at the same moment elsewhere: that one stands.
        Err(e) => queries::hotline::by_reference(conn, &reference)?.map(|done| (done, false)).ok_or_else(|| e.into()),
    }
}

/// Records the callback (回访) of a closed case, once, by ops staff over it. Calls out of reach
/// are not found.
pub fn call_back(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    id: &str,
    req: &CallbackRequest,
) -> ApiResult<HotlineCallView> {
    let missing = || ApiError::not_found(format!("no hotline call {id:?}"));
    write_tx(conn, |conn| {
        let (call, event) = queries::hotline::with_event(conn, id)?
            .filter(|(_, e)| sees_callers(caller, e, index))
            .ok_or_else(missing)?;
        let state: EventState = event.state.parse()?;
        may_call_back(state, call.callback_at.is_some()).map_err(ApiError::refusal)?;
        let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if !queries::hotline::record_callback(conn, id, &caller.user.id, req.satisfied, note, now())? {
            return Err(ApiError::conflict("the caller was called back meanwhile").with_field(
                "satisfied",
                "already_decided",
                "reload it",
            ));
        }
        let detail = serde_json::json!({"call": call.id, "reference": call.reference, "satisfied": req.satisfied});
        let role = roles_over(caller, event.area_code(), index).into_iter().find(|r| OPS_ROLES.contains(r));
        let who = Who { user_id: caller.user.id.clone(), role: role.map_or("coordinator", |r| r.as_str()).to_owned() };
        crate::events::timeline::note(conn, &event, &who, "callback", None, detail)?;
        let (call, _) = queries::hotline::with_event(conn, id)?.ok_or_else(missing)?;
        Ok(view(&call, true))
    })
}
