//! Volunteers (志愿者): signing up and the street coordinator's decision, the service record a
//! verified, closed task earns, and rankings. The rules are the shared core's
//! (`domain::volunteer`); this module checks reach and stores what they say.

use gridwork_mobile_core::domain::area::AreaLevel;
use gridwork_mobile_core::domain::category::Grade;
use gridwork_mobile_core::domain::volunteer::{
    ApplicationState, Decision, PhoneNumber, decide_application, service_award,
};
use gridwork_mobile_core::wire::{ApplicationView, DecisionRequest, SignUpRequest};
use gridwork_mobile_core::{AreaCode, Password, Role, RoleGrant, Scope, Username};
use serde_json::json;

use crate::accounts::{self, NewUser};
use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::events::notify;
use crate::models::event::EventRow;
use crate::models::user::{User, UserInsertForm};
use crate::models::volunteer::{ApplicationDecisionForm, ApplicationRow, ServiceRow};
use crate::models::{new_id, now};
use crate::queries;

/// Who decides sign-ups: the coordinators of the community's street (and administrators).
pub const DECIDERS: [Role; 2] = [Role::Coordinator, Role::Admin];

/// The `why` rule of a task a volunteer claimed from the pool.
pub const CLAIM_RULE: &str = "volunteer_claim";

/// A sign-up, parsed: every field checked before anything is stored or hashed twice.
#[derive(Debug)]
pub struct SignUp {
    user: UserInsertForm,
    community: String,
    street: String,
    phone: String,
    note: String,
}

/// Checks a sign-up: the account's fields, the phone number, and that the community is one.
pub fn parse_sign_up(req: &SignUpRequest, index: &AreaIndex) -> ApiResult<SignUp> {
    let username = Username::parse(&req.username)?;
    let password = Password::parse(&req.password)?;
    let phone = PhoneNumber::parse(&req.phone)?;
    let display_name = req.display_name.trim();
    if display_name.is_empty() {
        return Err(ApiError::field("display_name", "required", "say what to call you"));
    }
    let (community, street) = community_and_street(index, &req.community)?;
    let user = accounts::user_form(&NewUser {
        username,
        display_name: display_name.to_owned(),
        phone: Some(phone.as_str().to_owned()),
        password,
    })?;
    Ok(SignUp { user, community, street, phone: phone.as_str().to_owned(), note: req.note.trim().to_owned() })
}

/// The community a sign-up names, and its street.
fn community_and_street(index: &AreaIndex, code: &str) -> ApiResult<(String, String)> {
    let community = index
        .get(code.trim())
        .filter(|a| a.level == AreaLevel::Community)
        .ok_or_else(|| ApiError::field("community", "unknown_community", "no community with this code"))?;
    let street = index
        .parent_of(&community.code)
        .ok_or_else(|| ApiError::field("community", "unknown_community", "the community belongs to no street"))?;
    Ok((community.code.clone(), street.code.clone()))
}

/// A signed-in person asks to volunteer in a community with their own account: refused while
/// a sign-up of theirs waits, or where they volunteer already.
pub fn apply(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    req: &gridwork_mobile_core::wire::ApplyRequest,
) -> ApiResult<(ApplicationRow, User)> {
    let phone = PhoneNumber::parse(&req.phone)?;
    let (community, street) = community_and_street(index, &req.community)?;
    if caller.holds_over_code(&[Role::Volunteer], &community, index) {
        return Err(ApiError::conflict("you volunteer in this community already").with_field(
            "community",
            "already_volunteer",
            "you volunteer here already",
        ));
    }
    write_tx(conn, |conn| {
        let waiting = queries::volunteers::applications_of(conn, &caller.user.id)?
            .into_iter()
            .any(|(a, _)| a.state == ApplicationState::Pending.as_str());
        if waiting {
            return Err(ApiError::conflict("a sign-up of yours is waiting for its decision").with_field(
                "community",
                "already_pending",
                "wait for the decision on your sign-up",
            ));
        }
        let row = file(conn, index, &caller.user.id, &community, &street, phone.as_str(), req.note.trim())?;
        Ok((row, caller.user.clone()))
    })
}

/// Creates the account and its pending sign-up in one transaction, and tells the street's
/// coordinators.
pub fn sign_up(conn: &mut DbConn, index: &AreaIndex, s: &SignUp) -> ApiResult<(ApplicationRow, User)> {
    write_tx(conn, |conn| {
        let user = accounts::insert_user(conn, &s.user, None)?;
        let row = file(conn, index, &user.id, &s.community, &s.street, &s.phone, &s.note)?;
        Ok((row, user))
    })
}

/// Files a pending sign-up (in the caller's transaction), audits it and tells the coordinators
/// over the community: what both ways of signing up share.
fn file(
    conn: &mut DbConn,
    index: &AreaIndex,
    user_id: &str,
    community: &str,
    street: &str,
    phone: &str,
    note: &str,
) -> ApiResult<ApplicationRow> {
    let row = ApplicationRow {
        id: new_id(),
        user_id: user_id.to_owned(),
        community_code: community.to_owned(),
        street_code: street.to_owned(),
        phone: phone.to_owned(),
        note: note.to_owned(),
        state: ApplicationState::Pending.as_str().to_owned(),
        reason: None,
        decided_by: None,
        decided_at: None,
        created_at: now(),
    };
    queries::volunteers::insert_application(conn, &row)?;
    queries::audit::record(conn, Some(user_id), "volunteer.sign_up", user_id, community)?;
    let area = AreaCode::parse(community).ok();
    let deciders = crate::events::holders_over_area(conn, index, area.as_ref(), Role::Coordinator, None)?;
    let payload = json!({"application_id": row.id, "community": community});
    notify::send_to(conn, &deciders, None, "volunteer_signed_up", &payload)?;
    Ok(row)
}

/// Whether the caller decides sign-ups for this community.
pub fn decides_for(caller: &Caller, community: &str, index: &AreaIndex) -> bool {
    caller.holds_over_code(&DECIDERS, community, index)
}

/// Approves (the volunteer role over the community is granted) or declines (with the reason the
/// applicant reads) a pending sign-up. Sign-ups out of the caller's reach are not found.
pub fn decide(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    id: &str,
    req: &DecisionRequest,
) -> ApiResult<(ApplicationRow, User)> {
    let missing = || ApiError::not_found(format!("no volunteer sign-up {id:?}"));
    write_tx(conn, |conn| {
        let (row, user) = queries::volunteers::application(conn, id)?
            .filter(|(row, _)| decides_for(caller, &row.community_code, index))
            .ok_or_else(missing)?;
        let state: ApplicationState = row.state.parse()?;
        let next = decide_application(state, req.decision, req.reason.as_deref()).map_err(ApiError::refusal)?;
        let reason = req.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
        let form = ApplicationDecisionForm {
            state: next.as_str().to_owned(),
            reason: reason.clone(),
            decided_by: Some(caller.user.id.clone()),
            decided_at: Some(now()),
        };
        if !queries::volunteers::decide(conn, id, &form)? {
            return Err(ApiError::conflict("the sign-up was decided meanwhile").with_field(
                "decision",
                "already_decided",
                "reload it",
            ));
        }
        let me = Some(caller.user.id.as_str());
        let kind = match req.decision {
            Decision::Approve => {
                let community = AreaCode::parse(&row.community_code)?;
                let grant = RoleGrant::new(Role::Volunteer, Scope::Area(community), None)?;
                accounts::grant_role(conn, &user.id, &grant, me)?;
                "volunteer_approved"
            }
            Decision::Decline => "volunteer_declined",
        };
        queries::audit::record(
            conn,
            me,
            &format!("volunteer.{}", req.decision),
            &user.id,
            reason.as_deref().unwrap_or(""),
        )?;
        let payload = json!({"application_id": row.id, "community": row.community_code, "reason": reason});
        notify::send_to(conn, std::slice::from_ref(&user.id), None, kind, &payload)?;
        let decided = queries::volunteers::application(conn, id)?.ok_or_else(missing)?;
        Ok(decided)
    })
}

/// A sign-up as the API shows it; the phone number only when `with_phone`.
pub fn view(row: ApplicationRow, user: &User, index: &AreaIndex, with_phone: bool) -> ApiResult<ApplicationView> {
    Ok(ApplicationView {
        id: row.id,
        user_id: user.id.clone(),
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        phone: with_phone.then_some(row.phone),
        community_name: index.get(&row.community_code).map(|a| a.name.clone()),
        community_code: row.community_code,
        street_code: row.street_code,
        note: row.note,
        state: row.state.parse()?,
        reason: row.reason,
        decided_by: row.decided_by,
        decided_at: row.decided_at.map(|d| d.and_utc()),
        created_at: row.created_at.and_utc(),
    })
}

/// When a volunteer's event is verified and closed, each volunteer whose part was resolved earns
/// the core's award (claim to resolve), once. Runs before the close moves the tasks on.
pub fn award_on_close(conn: &mut DbConn, event: &EventRow, grade: Grade) -> ApiResult<()> {
    let (Some(community), Some(street)) = (&event.community_code, &event.street_code) else {
        return Ok(());
    };
    let at = now();
    for task in queries::tasks::for_event(conn, &event.id)? {
        let claimed = serde_json::from_str::<serde_json::Value>(&task.why).is_ok_and(|why| why["rule"] == CLAIM_RULE);
        if !claimed || task.state != "resolved" {
            continue;
        }
        let award = service_award(grade, task.created_at.and_utc(), task.updated_at.and_utc());
        let row = ServiceRow {
            user_id: task.user_id.clone(),
            event_id: event.id.clone(),
            community_code: community.clone(),
            street_code: street.clone(),
            points: award.points,
            minutes: award.minutes,
            claimed_at: task.created_at,
            resolved_at: task.updated_at,
            created_at: at,
        };
        if queries::volunteers::award(conn, &row)? {
            let payload = json!({"event_id": event.id, "points": award.points, "minutes": award.minutes});
            notify::send_to(conn, std::slice::from_ref(&task.user_id), Some(&event.id), "service_recorded", &payload)?;
        }
    }
    Ok(())
}

/// Whether the caller may see the ranking of `area` (a community or a street): those who steer
/// it, and the volunteers who serve inside it.
pub fn may_see_ranking(caller: &Caller, area: &AreaCode, index: &AreaIndex) -> bool {
    const STEERING: [Role; 5] =
        [Role::Coordinator, Role::DistrictOperator, Role::CityOperator, Role::Admin, Role::Volunteer];
    if caller.holds_over(&STEERING, Some(area), index) {
        return true;
    }
    // A volunteer of a community sees its street's ranking too.
    caller
        .scopes_for(&[Role::Volunteer])
        .into_iter()
        .filter_map(Scope::area_code)
        .any(|c| gridwork_mobile_core::domain::area::AreaTree::is_within(index, c, area))
}
