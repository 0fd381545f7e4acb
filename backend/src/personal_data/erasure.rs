//! Erasure at the person's request: they ask (`POST /me/erasure-requests`), an administrator
//! over their area carries it out or declines with a reason, they may withdraw while it waits.
//! Carrying it out removes or irreversibly anonymises everything that says who they were —
//! name, account name, phone, trails, photos' capture data, their positions and words on
//! timelines — while their reports stay and every timeline still verifies.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use gridwork_mobile_core::domain::erasure::{ErasureState, decide_erasure};
use gridwork_mobile_core::wire::{ErasureDecisionRequest, ErasureRequestView};
use gridwork_mobile_core::{AreaCode, Role, Scope};

use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::auth::caller::Grant;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::events::timeline;
use crate::models::erasure::{ErasureDecisionForm, ErasureRequestRow};
use crate::models::{new_id, now};
use crate::queries::{self, personal_data as pd};

/// Who carries out or declines erasures: administrators over the person's areas.
pub const DECIDERS: [Role; 1] = [Role::Admin];

/// The areas that decide who may carry out a person's erasure: where their grants lie; none
/// when any grant is system-wide or there is none (then only system-wide administrators).
fn areas_of(grants: &[Grant]) -> Vec<String> {
    if grants.is_empty() || grants.iter().any(|g| g.scope == Scope::Everywhere) {
        return vec![];
    }
    let mut areas: Vec<String> = grants.iter().filter_map(|g| g.scope.area_code()).map(ToString::to_string).collect();
    areas.sort();
    areas.dedup();
    areas
}

fn stored_areas(row: &ErasureRequestRow) -> ApiResult<Vec<String>> {
    serde_json::from_str(&row.areas).map_err(|e| ApiError::internal(format!("erasure request areas: {e}")))
}

/// Whether the caller may carry out or decline erasures over these areas.
pub fn decides_over(caller: &Caller, areas: &[String], index: &AreaIndex) -> bool {
    let codes: Vec<Option<AreaCode>> = areas.iter().map(|a| AreaCode::parse(a).ok()).collect();
    let refs: Vec<Option<&AreaCode>> = codes.iter().map(Option::as_ref).collect();
    caller.reaches_person(&DECIDERS, &refs, index)
}

pub fn view(row: ErasureRequestRow, username: String) -> ApiResult<ErasureRequestView> {
    Ok(ErasureRequestView {
        areas: stored_areas(&row)?,
        id: row.id,
        user_id: row.user_id,
        username,
        state: row.state.parse()?,
        created_at: row.created_at.and_utc(),
        decided_at: row.decided_at.map(|d| d.and_utc()),
        decided_by: row.decided_by,
        decision_reason: row.decision_reason,
        summary: row
            .summary
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| ApiError::internal(e.to_string()))?,
    })
}

/// A person's own requests, newest first.
pub fn of_person(conn: &mut DbConn, user: &str) -> ApiResult<Vec<ErasureRequestView>> {
    queries::erasure::of_user(conn, user)?.into_iter().map(|(row, name)| view(row, name)).collect()
}

/// The person asks. One waiting request at a time.
pub fn request(conn: &mut DbConn, caller: &Caller) -> ApiResult<ErasureRequestView> {
    let user = caller.user.id.clone();
    let areas = serde_json::to_string(&areas_of(&caller.grants)).map_err(|e| ApiError::internal(e.to_string()))?;
    write_tx(conn, |conn| {
        if queries::erasure::waiting_of(conn, &user)? {
            return Err(ApiError::conflict("an erasure request of yours is already waiting").with_field(
                "state",
                "already_requested",
                "wait for the decision or withdraw it",
            ));
        }
        let row = ErasureRequestRow {
            id: new_id(),
            user_id: user.clone(),
            areas,
            state: ErasureState::Requested.as_str().to_owned(),
            decided_by: None,
            decided_at: None,
            decision_reason: None,
            summary: None,
            created_at: now(),
        };
        queries::erasure::insert(conn, &row)?;
        queries::audit::record(conn, Some(&user), "erasure.request", &user, &row.id)?;
        view(row, caller.user.username.clone())
    })
}

/// Carries out, declines or withdraws a waiting request. Requests the caller neither made nor
/// reaches as an administrator are not found.
pub fn decide(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    id: &str,
    req: &ErasureDecisionRequest,
) -> ApiResult<ErasureRequestView> {
    let missing = || ApiError::not_found(format!("no erasure request {id:?}"));
    write_tx(conn, |conn| {
        let (row, _) = queries::erasure::by_id(conn, id)?.ok_or_else(missing)?;
        let by_person = row.user_id == caller.user.id;
        if !by_person && !decides_over(caller, &stored_areas(&row)?, index) {
            return Err(missing());
        }
        let state: ErasureState = row.state.parse()?;
        let next = decide_erasure(state, req.decision, by_person, req.reason.as_deref()).map_err(ApiError::refusal)?;
        // The person's grants may have grown since they asked: the administrator must reach
        // them as they are now, too.
        if next == ErasureState::Erased {
            let now_areas = areas_of(&crate::accounts::roles_of(conn, &row.user_id)?);
            if !decides_over(caller, &now_areas, index) {
                return Err(ApiError::forbidden(
                    "the person now holds roles outside your area: an administrator over all of them decides",
                ));
            }
        }
        let at = now();
        let summary = match next {
            ErasureState::Erased => Some(erase(conn, &row.user_id, at)?),
            _ => None,
        };
        let summary_json =
            summary.as_ref().map(serde_json::to_string).transpose().map_err(|e| ApiError::internal(e.to_string()))?;
        let form = ErasureDecisionForm {
            state: next.as_str().to_owned(),
            decided_by: Some(caller.user.id.clone()),
            decided_at: Some(at),
            decision_reason: req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned),
            summary: summary_json.clone(),
        };
        if !queries::erasure::decide(conn, id, &form)? {
            return Err(ApiError::conflict("the request was decided meanwhile").with_field(
                "decision",
                "already_decided",
                "reload it",
            ));
        }
        let action = format!("erasure.{}", req.decision);
        queries::audit::record(
            conn,
            Some(&caller.user.id),
            &action,
            &row.user_id,
            summary_json.as_deref().unwrap_or(""),
        )?;
        let (row, username) = queries::erasure::by_id(conn, id)?.ok_or_else(missing)?;
        view(row, username)
    })
}

/// Erases one person's personal data (inside the caller's transaction); how many rows of each
/// kind changed.
pub fn erase(conn: &mut DbConn, user_id: &str, at: NaiveDateTime) -> ApiResult<BTreeMap<String, i64>> {
    let account = pd::account(conn, user_id)?;
    let needles = pd::Needles::new(&[&account.display_name, &account.username], account.phone.as_deref());
    let mut out = BTreeMap::new();
    let mut put = |k: &str, n: usize| {
        out.insert(k.to_owned(), i64::try_from(n).unwrap_or(i64::MAX));
    };
    put("timeline_entries", timeline::erase_actor(conn, user_id, at)?);
    put("reports_scrubbed", pd::scrub_reports(conn, user_id, &needles)?);
    put("photos", pd::erase_capture_data(conn, user_id)?);
    put("location_pings", pd::erase_movements(conn, user_id)?);
    let (devices, notifications) = pd::erase_devices_and_notifications(conn, user_id)?;
    put("devices", devices);
    put("notifications", notifications);
    put("sessions", pd::erase_access(conn, user_id, &account.username)?);
    put("volunteer_applications", pd::erase_applications(conn, user_id)?);
    put("audit_entries", pd::scrub_audit(conn, user_id, &needles)?);
    pd::anonymise_account(conn, user_id, at)?;
    Ok(out)
}
