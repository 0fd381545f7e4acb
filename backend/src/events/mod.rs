//! The event loop on the server: intake (idempotent, area-resolved, duplicate-linked, triaged),
//! actions decided by the shared state machine in `mobile-core`, automatic dispatch, the deadline
//! scheduler, the hash-chained timeline and evaluation.

pub mod actions;
pub mod dispatch;
pub mod evaluation;
pub mod group_commit;
pub mod hotspots;
pub mod intake;
pub mod notify;
pub mod scheduler;
pub mod supervision;
pub mod timeline;

use std::collections::HashMap;

use gridwork_mobile_core::domain::category::{Grade, HandlerKind, Stage};
use gridwork_mobile_core::domain::event::{Actor, EventFacts, EventState, VERIFIER_ROLES};
use gridwork_mobile_core::domain::task::{self, TaskFacts};
use gridwork_mobile_core::{AreaCode, Role, Scope};

pub use actions::{Request, act};
pub use intake::{Filed, NewReport, report};

use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::catalog::{self, Category};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::models::event::{EventRow, TaskRow};
use crate::queries;

/// The account automatic dispatch and the scheduler act as (created by a migration; it cannot
/// sign in).
pub const SYSTEM_USER: &str = "system";

/// Whether a role held over `scope` reaches something filed under `area`; only system-wide roles
/// reach what lies in no area.
fn reaches(scope: &Scope, area: Option<&AreaCode>, tree: &AreaIndex) -> bool {
    match (scope, area) {
        (Scope::Everywhere, _) => true,
        (Scope::Area(_), Some(a)) => scope.covers(a, tree),
        (Scope::Area(_), None) => false,
    }
}

/// The roles the caller holds over an area (what the state machine weighs).
pub fn roles_over(caller: &Caller, area: Option<&str>, tree: &AreaIndex) -> Vec<Role> {
    let code = area.and_then(|a| AreaCode::parse(a).ok());
    caller.grants.iter().filter(|g| reaches(&g.scope, code.as_ref(), tree)).map(|g| g.role).collect()
}

/// The caller as the state machine sees them on this event: the roles held over its area, and a
/// handler's roles from elsewhere when it is given to them (`Actor::for_event`).
pub fn actor_for(caller: &Caller, row: &EventRow, facts: &EventFacts, tree: &AreaIndex) -> Actor {
    let held: Vec<Role> = caller.grants.iter().map(|g| g.role).collect();
    Actor::for_event(&caller.user.id, roles_over(caller, row.area_code(), tree), &held, facts)
}

/// The users holding `role` (for department handlers, of `department`) over the event's area,
/// system-wide holders included. A stored scope that no longer parses reaches nothing, as in
/// `grant_from_row`.
pub fn holders_over(
    conn: &mut DbConn,
    tree: &AreaIndex,
    event: &EventRow,
    role: Role,
    department: Option<&str>,
) -> ApiResult<Vec<String>> {
    let area = event.area_code().and_then(|a| AreaCode::parse(a).ok());
    holders_over_area(conn, tree, area.as_ref(), role, department)
}

/// Holders of `role` whose scope covers `area` (`None`: system-wide holders only).
pub fn holders_over_area(
    conn: &mut DbConn,
    tree: &AreaIndex,
    area: Option<&AreaCode>,
    role: Role,
    department: Option<&str>,
) -> ApiResult<Vec<String>> {
    Ok(queries::workers::holders(conn, role.as_str(), department)?
        .into_iter()
        .filter(|(_, scope)| {
            let scope = match scope.as_deref().map(AreaCode::parse) {
                None => Some(Scope::Everywhere),
                Some(Ok(code)) => Some(Scope::Area(code)),
                Some(Err(_)) => None,
            };
            scope.is_some_and(|s| reaches(&s, area, tree))
        })
        .map(|(user, _)| user)
        .collect())
}

/// When a stage started at `from` is due, by the category's deadline for the grade.
/// `factor` is the emergency's share of the normal time (1 in normal times).
fn due(
    category: &Category,
    grade: Grade,
    stage: Option<Stage>,
    from: chrono::NaiveDateTime,
    factor: f64,
) -> Option<chrono::NaiveDateTime> {
    let minutes = category.deadlines.get(&stage?)?.get(&grade)?;
    let minutes = if factor < 1.0 {
        gridwork_mobile_core::domain::emergency::shrink_minutes(*minutes, factor)
    } else {
        i64::from(*minutes)
    };
    Some(from + chrono::Duration::minutes(minutes))
}

pub(crate) fn internal(e: gridwork_mobile_core::DomainError) -> ApiError {
    ApiError::internal(e.message)
}

pub(crate) fn grade_of(row: &EventRow) -> ApiResult<Grade> {
    row.grade.parse().map_err(internal)
}

/// Who is on an event: the handlers (the lead first) and those whose part is resolved — what
/// its task rows, the one record of it, say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnEvent {
    pub assignees: Vec<String>,
    pub resolved_parts: Vec<String>,
}

/// The machine's view of task rows, the lead first (then in the order they were made).
fn task_facts(tasks: &[&TaskRow]) -> ApiResult<Vec<TaskFacts>> {
    let mut ordered = tasks.to_vec();
    ordered.sort_by_key(|t| !t.lead);
    ordered
        .iter()
        .map(|t| Ok(TaskFacts { user_id: t.user_id.clone(), state: t.state.parse().map_err(internal)? }))
        .collect()
}

fn on_event_from(row: &EventRow, tasks: &[&TaskRow]) -> ApiResult<OnEvent> {
    let (assignees, resolved_parts) = task::on_event(row.state.parse().map_err(internal)?, &task_facts(tasks)?);
    Ok(OnEvent { assignees, resolved_parts })
}

pub fn on_event(conn: &mut DbConn, row: &EventRow) -> ApiResult<OnEvent> {
    let tasks = queries::tasks::for_event(conn, &row.id)?;
    on_event_from(row, &tasks.iter().collect::<Vec<_>>())
}

/// Who is on a report's event as it is answered: nobody on an event it just opened that awaits
/// acceptance (no task can exist yet: no need to ask), else as stored (a trusted report's event
/// was dispatched in the same transaction; a duplicate joined an event in any state).
pub fn on_filed(conn: &mut DbConn, row: &EventRow, filed: Filed) -> ApiResult<OnEvent> {
    if filed == Filed::Created && row.state == EventState::Reported.as_str() {
        return on_event_from(row, &[]);
    }
    on_event(conn, row)
}

/// Who is on each of `rows`, in their order, with one query per 500 events.
pub fn on_events(conn: &mut DbConn, rows: &[EventRow]) -> ApiResult<Vec<OnEvent>> {
    let mut by_event: HashMap<String, Vec<TaskRow>> = HashMap::new();
    for chunk in rows.chunks(500) {
        let ids: Vec<String> = chunk.iter().map(|r| r.id.clone()).collect();
        for t in queries::tasks::for_events(conn, &ids)? {
            by_event.entry(t.event_id.clone()).or_default().push(t);
        }
    }
    rows.iter()
        .map(|r| on_event_from(r, &by_event.get(&r.id).map(|ts| ts.iter().collect::<Vec<_>>()).unwrap_or_default()))
        .collect()
}

/// What the state machine needs to know of a stored event (who is on it from the tasks table).
pub fn facts_of(conn: &mut DbConn, row: &EventRow, category: &Category) -> ApiResult<EventFacts> {
    let rows = queries::tasks::for_event(conn, &row.id)?;
    let rows: Vec<&TaskRow> = rows.iter().collect();
    let on = on_event_from(row, &rows)?;
    Ok(EventFacts {
        state: row.state.parse().map_err(internal)?,
        assignees: on.assignees,
        resolved_by: row.resolved_by.clone(),
        resolved_parts: on.resolved_parts,
        after_photo_required: category.after_photo_required,
        volunteer_eligible: category.handler_kind == HandlerKind::Volunteer,
        tasks: task_facts(&rows)?,
        escalation_level: row.escalation_level.as_deref().map(str::parse).transpose().map_err(internal)?,
        extension_requested: row.extension_requested_at.is_some(),
        emergency: crate::emergency::factors_for(conn, row)?.is_some(),
        grade: grade_of(row)?,
        late_stages: u32::try_from(row.late_stages).unwrap_or(0),
        excused_stages: u32::try_from(queries::events::excuses(conn, &row.id)?).unwrap_or(0),
    })
}

pub(crate) fn category_of(conn: &mut DbConn, code: &str) -> ApiResult<Category> {
    crate::standing::category(conn, code)?
        .map(|r| catalog::from_row(&r))
        .transpose()?
        .ok_or_else(|| ApiError::internal("event category missing"))
}

/// Whether the caller may see the event: people on it, staff over its area, or followers.
/// Staff of an area see who acted, where, and the checks on evidence; the public sees what
/// happened and when.
pub fn is_staff(roles: &[Role]) -> bool {
    roles.iter().any(|r| VERIFIER_ROLES.contains(r) || *r == Role::DeptHandler)
}

pub fn may_see(conn: &mut DbConn, caller: &Caller, row: &EventRow, index: &AreaIndex) -> ApiResult<bool> {
    let me = &caller.user.id;
    if row.reporter_id == *me || on_event(conn, row)?.assignees.contains(me) {
        return Ok(true);
    }
    let roles = roles_over(caller, row.area_code(), index);
    if is_staff(&roles) {
        return Ok(true);
    }
    // Volunteers of the community see the events in its pool (the machine says which those are).
    if roles.contains(&Role::Volunteer) {
        let category = category_of(conn, &row.category_code)?;
        if facts_of(conn, row, &category)?.in_volunteer_pool() {
            return Ok(true);
        }
    }
    Ok(queries::events::followers(conn, &row.id)?.contains(me))
}

/// Loads an event the caller may see; strangers get the same 404 as for a missing id.
pub fn visible(conn: &mut DbConn, caller: &Caller, id: &str, index: &AreaIndex) -> ApiResult<EventRow> {
    let row = queries::events::by_id(conn, id)?.ok_or_else(|| ApiError::not_found(format!("no event {id}")))?;
    if !may_see(conn, caller, &row, index)? {
        return Err(ApiError::not_found(format!("no event {id}")));
    }
    Ok(row)
}
