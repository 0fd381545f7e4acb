//! The event loop on the server: intake (idempotent, area-resolved, duplicate-linked, triaged)
//! and actions, each decided by the shared state machine in `mobile-core`.

use diesel::Connection;
use gridwork_mobile_core::domain::category::{Grade, HandlerKind, Stage};
use gridwork_mobile_core::domain::crs::distance_m;
use gridwork_mobile_core::domain::event::{
    self, Action, Actor, EventFacts, EventState, OPS_ROLES, Source, VERIFIER_ROLES,
};
use gridwork_mobile_core::{AreaCode, AreaLevel, Role};
use serde::Serialize;

use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::catalog::{self, Category};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::models::event::{EventLogRow, EventRow, FollowerRow, IdempotencyRow};
use crate::models::{new_id, now};
use crate::queries;

#[derive(Debug, Clone)]
pub struct NewReport {
    pub category: String,
    pub source: Source,
    pub lat: f64,
    pub lng: f64,
    pub description: String,
    pub address: Option<String>,
    pub grade: Option<Grade>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Filed {
    /// A new event was opened.
    Created,
    /// An open event of the same category was nearby: the reporter now follows it.
    Duplicate,
    /// The same Idempotency-Key was sent before: the event it made.
    Replayed,
}

/// Who may file with a given source: patrols are grid workers', hotline entries the ops
/// centre's, sensor feeds administrators' integrations, department reports handlers'.
fn may_use_source(caller: &Caller, source: Source) -> bool {
    match source {
        Source::Resident | Source::Volunteer => true,
        Source::GridWorker => caller.has_role(Role::GridWorker),
        Source::Hotline => caller.require_any(&OPS_ROLES).is_ok(),
        Source::Sensor => caller.has_role(Role::Admin) || caller.has_role(Role::CityOperator),
        Source::Department => caller.has_role(Role::DeptHandler),
    }
}

/// The roles the caller holds over an area (what the state machine weighs).
pub fn roles_over(caller: &Caller, area: Option<&str>, tree: &AreaIndex) -> Vec<Role> {
    let code = area.and_then(|a| AreaCode::parse(a).ok());
    caller
        .grants
        .iter()
        .filter(|g| match (&code, g.scope.area_code()) {
            (_, None) => true,
            (Some(c), Some(_)) => g.scope.covers(c, tree),
            (None, Some(_)) => false,
        })
        .map(|g| g.role)
        .collect()
}

/// When a stage started at `from` is due, by the category's deadline for the grade.
fn due(
    category: &Category,
    grade: Grade,
    stage: Option<Stage>,
    from: chrono::NaiveDateTime,
) -> Option<chrono::NaiveDateTime> {
    let minutes = category.deadlines.get(&stage?)?.get(&grade)?;
    Some(from + chrono::Duration::minutes(i64::from(*minutes)))
}

fn grade_of(row: &EventRow) -> ApiResult<Grade> {
    row.grade.parse().map_err(|e: gridwork_mobile_core::DomainError| ApiError::internal(e.message))
}

fn assignees(row: &EventRow) -> Vec<String> {
    serde_json::from_str(&row.assignees).unwrap_or_default()
}

pub fn facts_of(row: &EventRow, after_photo_required: bool, volunteer_eligible: bool) -> ApiResult<EventFacts> {
    Ok(EventFacts {
        state: row.state.parse().map_err(|e: gridwork_mobile_core::DomainError| ApiError::internal(e.message))?,
        assignees: assignees(row),
        resolved_by: row.resolved_by.clone(),
        after_photo_required,
        volunteer_eligible,
    })
}

fn log(
    conn: &mut DbConn,
    event: &str,
    actor: &str,
    action: &str,
    from: Option<EventState>,
    to: EventState,
    reason: Option<&str>,
) -> ApiResult<()> {
    Ok(queries::events::log(
        conn,
        &EventLogRow {
            id: new_id(),
            event_id: event.to_owned(),
            actor_id: actor.to_owned(),
            action: action.to_owned(),
            from_state: from.map(|s| s.as_str().to_owned()),
            to_state: to.as_str().to_owned(),
            reason: reason.map(str::to_owned),
            created_at: now(),
        },
    )?)
}

/// Files a report. The point is resolved to its areas with the live index; the same key from the
/// same user returns the same event; a report near an open event of the same category joins it.
pub fn report(
    conn: &mut DbConn,
    index: &AreaIndex,
    caller: &Caller,
    new: &NewReport,
    key: &str,
) -> ApiResult<(EventRow, Filed)> {
    if !may_use_source(caller, new.source) {
        return Err(ApiError::field(
            "source",
            "source_not_permitted",
            format!("your roles cannot file {:?} reports", new.source),
        ));
    }
    let category = queries::categories::by_code(conn, &new.category)?
        .map(|r| catalog::from_row(&r))
        .transpose()?
        .filter(|c| c.active)
        .ok_or_else(|| {
            ApiError::field("category", "unknown_category", format!("no active category {:?}", new.category))
        })?;
    let chain = index.lookup(new.lng, new.lat);
    if chain.is_empty() {
        return Err(ApiError::field("location", "outside_service_area", "the point lies outside every mapped area"));
    }
    let code_at = |level: AreaLevel| chain.iter().find(|a| a.level == level).map(|a| a.code.clone());
    let user = caller.user.id.clone();
    conn.transaction(|conn| {
        if let Some(id) = queries::events::idempotent(conn, &user, key)? {
            let row = queries::events::by_id(conn, &id)?
                .ok_or_else(|| ApiError::internal("idempotency key points nowhere"))?;
            return Ok((row, Filed::Replayed));
        }
        let at = now();
        // Duplicates: an open event of this category within the category's radius.
        let r = f64::from(category.duplicate_radius_m);
        let dlat = r / 110_574.0;
        let dlng = r / (111_320.0 * new.lat.to_radians().cos().max(0.01));
        let terminal = [EventState::Closed.as_str(), EventState::Rejected.as_str()];
        let nearby = queries::events::open_nearby(
            conn,
            &category.code,
            &terminal,
            (new.lat - dlat, new.lng - dlng, new.lat + dlat, new.lng + dlng),
        )?;
        let (row, filed) = match nearby.into_iter().find(|e| distance_m((e.lng, e.lat), (new.lng, new.lat)) <= r) {
            Some(existing) => {
                let state: EventState = existing
                    .state
                    .parse()
                    .map_err(|e: gridwork_mobile_core::DomainError| ApiError::internal(e.message))?;
                log(conn, &existing.id, &user, "report_duplicate", Some(state), state, None)?;
                (existing, Filed::Duplicate)
            }
            None => {
                let state = new.source.initial_state();
                let grade = new.grade.unwrap_or(category.default_grade);
                let row = EventRow {
                    id: new_id(),
                    category_code: category.code.clone(),
                    grade: grade.as_str().to_owned(),
                    state: state.as_str().to_owned(),
                    source: serde_json::to_value(new.source)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    description: new.description.trim().to_owned(),
                    address: new.address.clone(),
                    lat: new.lat,
                    lng: new.lng,
                    city_code: code_at(AreaLevel::City),
                    district_code: code_at(AreaLevel::District),
                    street_code: code_at(AreaLevel::Street),
                    community_code: code_at(AreaLevel::Community),
                    grid_code: code_at(AreaLevel::Grid),
                    compound_code: code_at(AreaLevel::Compound),
                    building_code: code_at(AreaLevel::Building),
                    reporter_id: user.clone(),
                    assignees: "[]".into(),
                    resolved_by: None,
                    due_at: due(&category, grade, state.timed_stage(), at),
                    version: 1,
                    created_at: at,
                    updated_at: at,
                };
                queries::events::insert(conn, &row)?;
                log(conn, &row.id, &user, "report", None, state, None)?;
                (row, Filed::Created)
            }
        };
        queries::events::follow(
            conn,
            &FollowerRow { event_id: row.id.clone(), user_id: user.clone(), created_at: at },
        )?;
        queries::events::remember_key(
            conn,
            &IdempotencyRow { user_id: user.clone(), key: key.to_owned(), event_id: row.id.clone(), created_at: at },
        )?;
        Ok((row, filed))
    })
}

/// Whether the caller may see the event: people on it, or staff over its area.
pub fn may_see(conn: &mut DbConn, caller: &Caller, row: &EventRow, index: &AreaIndex) -> ApiResult<bool> {
    let me = &caller.user.id;
    if row.reporter_id == *me || assignees(row).contains(me) {
        return Ok(true);
    }
    let roles = roles_over(caller, row.area_code(), index);
    if roles.iter().any(|r| VERIFIER_ROLES.contains(r) || *r == Role::DeptHandler) {
        return Ok(true);
    }
    Ok(queries::events::followers(conn, &row.id)?.contains(me))
}

/// Applies an action if the shared state machine allows it; `expected_version` guards against
/// acting on a stale copy (a phone that was offline).
pub fn act(
    conn: &mut DbConn,
    index: &AreaIndex,
    caller: &Caller,
    id: &str,
    action: &Action,
    expected_version: Option<i32>,
) -> ApiResult<EventRow> {
    conn.transaction(|conn| {
        let row = queries::events::by_id(conn, id)?.ok_or_else(|| ApiError::not_found(format!("no event {id}")))?;
        if !may_see(conn, caller, &row, index)? {
            return Err(ApiError::not_found(format!("no event {id}")));
        }
        if let Some(v) = expected_version
            && v != row.version
        {
            return Err(ApiError::conflict(format!(
                "the event changed (version {} now, {v} expected); reload it",
                row.version
            )));
        }
        let category = queries::categories::by_code(conn, &row.category_code)?
            .map(|r| catalog::from_row(&r))
            .transpose()?
            .ok_or_else(|| ApiError::internal("event category missing"))?;
        let facts = facts_of(&row, category.after_photo_required, category.handler_kind == HandlerKind::Volunteer)?;
        let actor = Actor { user_id: caller.user.id.clone(), roles: roles_over(caller, row.area_code(), index) };
        let outcome = event::decide(&facts, &actor, action).map_err(|e| {
            let code = match e.code {
                "not_permitted" | "not_assignee" | "verifier_is_resolver" => ErrorCode::Forbidden,
                "invalid_transition" => ErrorCode::Conflict,
                _ => ErrorCode::ValidationFailed,
            };
            ApiError::new(code, e.message.clone()).with_field(e.field, e.code, e.message)
        })?;
        let next = outcome.facts;
        let mut updated = row.clone();
        updated.state = next.state.as_str().to_owned();
        updated.assignees = serde_json::to_string(&next.assignees).map_err(|e| ApiError::internal(e.to_string()))?;
        updated.resolved_by = next.resolved_by.clone();
        updated.version = row.version + 1;
        let at = now();
        updated.updated_at = at;
        let grade = grade_of(&row)?;
        let stage = next.state.timed_stage();
        updated.due_at = match action {
            // An approved extension adds the stage's time to the deadline (or to now, if past).
            Action::Extend { .. } => due(&category, grade, stage, row.due_at.map_or(at, |d| d.max(at))),
            // A new stage, a new handler or a rework starts the clock afresh.
            Action::Dispatch { .. } | Action::Rework { .. } => due(&category, grade, stage, at),
            _ if stage != facts.state.timed_stage() => due(&category, grade, stage, at),
            _ => row.due_at,
        };
        if !queries::events::update_if_version(conn, &updated, row.version)? {
            return Err(ApiError::conflict("the event changed meanwhile; reload it"));
        }
        let reason = match action {
            Action::Reject { reason }
            | Action::Return { reason }
            | Action::Rework { reason }
            | Action::Suspend { reason }
            | Action::Extend { reason }
            | Action::Escalate { reason } => Some(reason.as_str()),
            _ => None,
        };
        log(conn, &row.id, &caller.user.id, action.name(), Some(facts.state), next.state, reason)?;
        Ok(updated)
    })
}
