//! Emergency mode (急时): an ops centre declares it for its area's subtree with a reason and an
//! expected end. Running deadlines of the area's open events shrink at once (noted on each
//! timeline), new stages get the emergency's time, escalation goes straight to the city centre
//! (`EventFacts::emergency`), and everyone working in the area is pushed (off-duty field
//! workers called on duty when asked). Ending it (平时) is noted the same way. The rules are the
//! core's `domain::emergency`; each switch is on the audit log.

use chrono::Duration;
use gridwork_mobile_core::domain::emergency::{self, DeadlineFactors};
use gridwork_mobile_core::domain::event::{EventState, OPS_ROLES};
use gridwork_mobile_core::wire::{EmergencyRequest, EmergencyView};
use gridwork_mobile_core::{AreaCode, Role, Scope};
use serde_json::json;

use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::events::notify;
use crate::events::timeline::{self, Who};
use crate::models::emergency::EmergencyRow;
use crate::models::event::EventRow;
use crate::models::{new_id, now};
use crate::queries;

/// Everyone working in an area: told when it switches mode.
const WORKERS: [Role; 5] =
    [Role::GridWorker, Role::DeptHandler, Role::Coordinator, Role::DistrictOperator, Role::CityOperator];
/// Who is in the field, and so may be called on duty.
const FIELD: [Role; 2] = [Role::GridWorker, Role::DeptHandler];

/// The running emergencies over an event's place, combined (the stricter factor per grade).
pub fn factors_for(conn: &mut DbConn, row: &EventRow) -> ApiResult<Option<DeadlineFactors>> {
    let areas: Vec<String> =
        [&row.city_code, &row.district_code, &row.street_code].into_iter().flatten().cloned().collect();
    if areas.is_empty() {
        return Ok(None);
    }
    Ok(crate::standing::emergencies_on(conn, &areas)?
        .iter()
        .map(EmergencyRow::factors)
        .reduce(DeadlineFactors::stricter))
}

pub fn view(r: &EmergencyRow) -> EmergencyView {
    EmergencyView {
        id: r.id.clone(),
        area: r.area_code.clone(),
        reason: r.reason.clone(),
        declared_by: r.declared_by.clone(),
        declared_at: r.declared_at.and_utc(),
        expected_end_at: r.expected_end_at.and_utc(),
        deadline_factors: r.factors(),
        events_shortened: r.events_shortened,
        people_told: r.people_told,
        ended_at: r.ended_at.map(|t| t.and_utc()),
        end_reason: r.end_reason.clone(),
    }
}

/// Whether the caller works in or over the emergency's area (or administers it): they see it.
pub fn concerns(caller: &Caller, index: &AreaIndex, area: &str) -> bool {
    let roles: Vec<Role> = WORKERS.iter().copied().chain([Role::Admin]).collect();
    caller.works_in_code(&roles, area, index)
}

fn terminal() -> [&'static str; 3] {
    [EventState::Closed.as_str(), EventState::Rejected.as_str(), EventState::Suspended.as_str()]
}

/// Holders of these roles who work in or over the area.
fn people(conn: &mut DbConn, index: &AreaIndex, area: &AreaCode, roles: &[Role]) -> ApiResult<Vec<String>> {
    let mut users = vec![];
    for role in roles {
        for (user, scope) in queries::workers::holders(conn, role.as_str(), None)? {
            let scope = match scope.as_deref().map(AreaCode::parse) {
                None => Some(Scope::Everywhere),
                Some(Ok(code)) => Some(Scope::Area(code)),
                Some(Err(_)) => None,
            };
            if scope.is_some_and(|s| s.touches(area, index)) {
                users.push(user);
            }
        }
    }
    users.sort();
    users.dedup();
    Ok(users)
}

/// Declares an emergency for an ops centre's area (the caller runs it, or one above it).
pub fn declare(
    conn: &mut DbConn,
    index: &AreaIndex,
    caller: &Caller,
    req: &EmergencyRequest,
) -> ApiResult<EmergencyView> {
    let area = crate::areas::mapped_area(index, "area", &req.area)?;
    caller.require_over(&OPS_ROLES, Some(&area), index)?;
    let level = index.get(area.as_str()).map(|a| a.level).ok_or_else(|| ApiError::internal("mapped area"))?;
    let at = now();
    emergency::may_declare(level, req.expected_end_at, at.and_utc()).map_err(ApiError::refusal)?;
    let factors = req.deadline_factors.unwrap_or_default().check().map_err(ApiError::refusal)?;
    let mut row = EmergencyRow {
        id: new_id(),
        area_code: area.to_string(),
        reason: req.reason.trim().to_owned(),
        declared_by: caller.user.id.clone(),
        declared_at: at,
        expected_end_at: req.expected_end_at.naive_utc(),
        factor_general: factors.general,
        factor_significant: factors.significant,
        factor_serious: factors.serious,
        factor_critical: factors.critical,
        events_shortened: 0,
        people_told: 0,
        ended_at: None,
        ended_by: None,
        end_reason: None,
    };
    let who = Who { user_id: caller.user.id.clone(), role: acting_role(caller, &area, index) };
    write_tx(conn, |conn| {
        // Events already under another running emergency keep the deadlines it gave them.
        let events = queries::emergency::open_events_in(conn, area.as_str(), &terminal())?;
        let mut covered = vec![];
        for e in &events {
            covered.push(factors_for(conn, e)?.is_some());
        }
        queries::emergency::insert(conn, &row)?;
        let mut shortened = 0;
        for (e, covered) in events.iter().zip(covered) {
            let before = e.due_at;
            let mut after = before;
            if let (false, Some(due), Some(started)) = (covered, e.due_at, e.stage_started_at) {
                let grade = crate::events::grade_of(e)?;
                let shrunk = emergency::shrunk_due(started.and_utc(), due.and_utc(), factors.of(grade), at.and_utc())
                    .naive_utc();
                if shrunk < due {
                    if !queries::emergency::set_due(conn, &e.id, e.version, shrunk, at)? {
                        return Err(ApiError::conflict("an event changed while the emergency was declared: try again"));
                    }
                    shortened += 1;
                    after = Some(shrunk);
                }
            }
            let fresh = queries::events::by_id(conn, &e.id)?.ok_or_else(|| ApiError::internal("event vanished"))?;
            let detail = json!({"emergency": row.id, "reason": row.reason, "due_before": before.map(|d| d.and_utc()),
                                "due_at": after.map(|d| d.and_utc())});
            timeline::note(conn, &fresh, &who, "emergency_declared", None, detail)?;
        }
        let everyone = people(conn, index, &area, &WORKERS)?;
        let payload = json!({"emergency_id": row.id, "area": row.area_code, "reason": row.reason,
                             "expected_end_at": row.expected_end_at.and_utc()});
        notify::send_to(conn, &everyone, None, "emergency_declared", &payload)?;
        let mut told = everyone.len();
        if req.call_on_duty {
            let field = people(conn, index, &area, &FIELD)?;
            let mut off = vec![];
            for user in field {
                if !queries::workers::status(conn, &user)?.is_some_and(|s| s.on_duty) {
                    off.push(user);
                }
            }
            notify::send_to(conn, &off, None, "called_on_duty", &payload)?;
            told += off.iter().filter(|u| !everyone.contains(u)).count();
        }
        row.events_shortened = shortened;
        row.people_told = i64::try_from(told).unwrap_or(i64::MAX);
        queries::emergency::set_counts(conn, &row.id, row.events_shortened, row.people_told)?;
        let detail =
            format!("{} until {}: {} ({shortened} events shortened)", row.area_code, row.expected_end_at, row.reason);
        queries::audit::record(conn, Some(&caller.user.id), "emergency.declare", &row.id, &detail)?;
        Ok::<(), ApiError>(())
    })?;
    Ok(view(&row))
}

/// The ops role the caller acts in over the area (for the timeline).
pub(crate) fn acting_role(caller: &Caller, area: &AreaCode, index: &AreaIndex) -> String {
    OPS_ROLES.iter().find(|r| caller.holds_over(&[**r], Some(area), index)).map_or("none", |r| r.as_str()).to_owned()
}

/// Back to normal (平时): ops staff over the emergency's area end it.
pub fn end(conn: &mut DbConn, index: &AreaIndex, caller: &Caller, id: &str, reason: &str) -> ApiResult<EmergencyView> {
    let row = queries::emergency::by_id(conn, id)?
        .filter(|r| concerns(caller, index, &r.area_code))
        .ok_or_else(|| ApiError::not_found("no such emergency"))?;
    let area = AreaCode::parse(&row.area_code).map_err(|e| ApiError::internal(e.message))?;
    caller.require_over(&OPS_ROLES, Some(&area), index)?;
    let who = Who { user_id: caller.user.id.clone(), role: acting_role(caller, &area, index) };
    let at = now();
    let reason = reason.trim().to_owned();
    write_tx(conn, |conn| {
        if !queries::emergency::end(conn, &row.id, &caller.user.id, &reason, at)? {
            return Err(ApiError::field("emergency", "already_ended", "the emergency has ended already"));
        }
        for e in queries::emergency::open_events_in(conn, area.as_str(), &terminal())? {
            timeline::note(conn, &e, &who, "emergency_ended", None, json!({"emergency": row.id, "reason": reason}))?;
        }
        let everyone = people(conn, index, &area, &WORKERS)?;
        notify::send_to(
            conn,
            &everyone,
            None,
            "emergency_ended",
            &json!({"emergency_id": row.id, "area": row.area_code}),
        )?;
        queries::audit::record(conn, Some(&caller.user.id), "emergency.end", &row.id, &reason)?;
        Ok::<(), ApiError>(())
    })?;
    let row = queries::emergency::by_id(conn, id)?.ok_or_else(|| ApiError::internal("emergency vanished"))?;
    Ok(view(&row))
}

/// Running emergencies and those ended in the last 30 days that concern the caller.
pub fn list(conn: &mut DbConn, index: &AreaIndex, caller: &Caller) -> ApiResult<Vec<EmergencyView>> {
    let rows = queries::emergency::recent(conn, now() - Duration::days(30))?;
    Ok(rows.iter().filter(|r| concerns(caller, index, &r.area_code)).map(view).collect())
}
