//! Actions on an event: the shared machine (`mobile-core`'s `decide`) says what follows — tasks,
//! deadline, supervision order, notices, timeline step, dispatch — and this module stores it.
//! What needs the database stays here: loading the facts, who may be named (their grants over
//! the area), merge targets, evidence citations, the rows themselves.

use crate::db::write_tx;
use gridwork_mobile_core::domain::category::HandlerKind;
use gridwork_mobile_core::domain::event::{
    self, Action, Actor, Deadline, EventState, HANDLER_ROLES, OPS_ROLES, VERIFIER_ROLES,
};
use gridwork_mobile_core::domain::task::{TaskChange, TaskOrigin};
use gridwork_mobile_core::{AreaCode, Role, Scope};
use serde_json::{Value, json};

use super::dispatch::{self, Choice, Plan};
use super::notify;
use super::timeline::{self, Step, Who};
use super::{category_of, due, facts_of, visible};
use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::catalog::Category;
use crate::config::LoopSettings;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::models::event::{ActionKeyRow, EventLinkRow, EventRow, FollowerRow, SupervisionOrderRow, TaskRow};
use crate::models::{new_id, now};
use crate::queries;

/// What the event loop needs besides the connection: the area tree and the dispatch policy.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub index: &'a AreaIndex,
    pub policy: &'a LoopSettings,
}

/// An action as a client sends it.
#[derive(Debug, Clone)]
pub struct Request {
    pub action: Action,
    /// The version the client acted on; a stale one is refused.
    pub version: Option<i32>,
    /// Where the actor was (lat, lng).
    pub at: Option<(f64, f64)>,
    /// For dispatch: departments to take one handler each from (the first leads), instead of
    /// named assignees.
    pub departments: Vec<String>,
    /// Made on the device: the same key again is the same action, applied once.
    pub idempotency_key: Option<String>,
}

/// What an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Now,
    /// The key was seen before: the action had been applied; the event is as it is now.
    Before,
}

/// Automatic dispatch and the scheduler act with the ops centre's rights.
pub(crate) fn system_actor() -> Actor {
    Actor { user_id: super::SYSTEM_USER.to_owned(), roles: vec![Role::Admin] }
}

/// The role an action was taken in, for the timeline.
fn acting_role(roles: &[Role], action: &Action, is_assignee: bool) -> String {
    let prefer: &[Role] = match action {
        Action::Claim | Action::Start | Action::Resolve { .. } => &HANDLER_ROLES,
        Action::Return { .. } if is_assignee => &HANDLER_ROLES,
        Action::Verify | Action::Rework { .. } => &VERIFIER_ROLES,
        _ => &OPS_ROLES,
    };
    prefer.iter().find(|r| roles.contains(r)).or(roles.first()).map_or("none", |r| r.as_str()).to_owned()
}

/// Applies an action by a person, in one transaction.
pub fn act(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    caller: &Caller,
    id: &str,
    req: &Request,
) -> ApiResult<(EventRow, Applied)> {
    write_tx(conn, |conn| {
        let row = visible(conn, caller, id, ctx.index)?;
        if let Some(key) = &req.idempotency_key
            && let Some(seen) = queries::events::action_key(conn, &caller.user.id, key)?
        {
            if seen.event_id != row.id || seen.action != req.action.name() {
                return Err(ApiError::field(
                    "Idempotency-Key",
                    "key_reused",
                    format!("this key was used for {} on event {}", seen.action, seen.event_id),
                ));
            }
            return Ok((row, Applied::Before));
        }
        if let Some(v) = req.version
            && v != row.version
        {
            return Err(ApiError::conflict(format!(
                "the event changed (version {} now, {v} expected); reload it",
                row.version
            )));
        }
        let category = category_of(conn, &row.category_code)?;
        let facts = facts_of(conn, &row, &category)?;
        let actor = super::actor_for(caller, &row, &facts, ctx.index);
        let mut action = req.action.clone();
        let mut choices = None;
        if let Action::Dispatch { assignees: named, reason } = &req.action
            && !req.departments.is_empty()
        {
            if !named.is_empty() {
                return Err(ApiError::field("departments", "ambiguous", "name assignees or departments, not both"));
            }
            // Check permission before revealing anything about the pools.
            event::may_dispatch(&facts, &actor).map_err(ApiError::refusal)?;
            let picked = dispatch::departments(conn, ctx.index, &row, &req.departments)?;
            action = Action::Dispatch {
                assignees: picked.iter().map(|c| c.user_id.clone()).collect(),
                reason: reason.clone(),
            };
            choices = Some(picked);
        }
        if let Action::Dispatch { assignees: named, .. } = &action
            && choices.is_none()
        {
            check_assignees(conn, ctx.index, caller, &row, &category, named)?;
        }
        let merge_target = match &action {
            Action::Merge { into, .. } => Some(merge_target(conn, caller, ctx.index, &row, into)?),
            _ => None,
        };
        let is_assignee = facts.assignees.contains(&caller.user.id);
        let who = Who { user_id: caller.user.id.clone(), role: acting_role(&actor.roles, &action, is_assignee) };
        if let Action::Resolve { evidence } = &action {
            crate::evidence::cite(conn, &row, evidence)?;
        }
        let updated = apply(conn, ctx, &row, &category, &actor, &who, &action, choices.as_deref(), req.at)?;
        if let Some(target) = merge_target {
            merge_into(conn, &row, &target, &who)?;
        }
        if let Some(key) = &req.idempotency_key {
            let remembered = ActionKeyRow {
                user_id: caller.user.id.clone(),
                key: key.clone(),
                event_id: row.id.clone(),
                action: req.action.name().to_owned(),
                created_at: now(),
            };
            queries::events::remember_action_key(conn, &remembered).map_err(|e| match e {
                // The same key in flight twice: the other one applied it; the resend replays.
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                    ApiError::conflict("the same action is being applied; send it again")
                }
                e => e.into(),
            })?;
        }
        Ok((updated, Applied::Now))
    })
}

/// Who may be named in a dispatch: an active user holding a handler role — a grid worker, a
/// department handler, or a volunteer for a volunteer-eligible event — whose scope covers the
/// event's area or lies inside an area the dispatcher operates (a neighbouring grid of the same
/// street). Residents, administrators and handlers of other districts are refused, so a
/// dispatch never shows an event to someone outside its reach.
fn check_assignees(
    conn: &mut DbConn,
    index: &AreaIndex,
    caller: &Caller,
    row: &EventRow,
    category: &Category,
    named: &[String],
) -> ApiResult<()> {
    let area = row.area_code().and_then(|a| AreaCode::parse(a).ok());
    let ops_scopes = caller.scopes_for(&OPS_ROLES);
    let eligible = |role: Role| match role {
        Role::GridWorker | Role::DeptHandler => true,
        Role::Volunteer => category.handler_kind == HandlerKind::Volunteer,
        _ => false,
    };
    for (i, id) in named.iter().enumerate() {
        let field = format!("assignees[{i}]");
        let known = queries::users::by_ids(conn, std::slice::from_ref(id))?;
        if !known.iter().any(|u| u.is_active) {
            return Err(ApiError::field(&field, "unknown_user", format!("no active user {id}")));
        }
        let grants = crate::accounts::roles_of(conn, id)?;
        let fits = grants.iter().filter(|g| eligible(g.role)).any(|g| match (&g.scope, &area) {
            (Scope::Everywhere, _) => true,
            (Scope::Area(own), Some(event_area)) => {
                g.scope.covers(event_area, index) || ops_scopes.iter().any(|s| s.covers(own, index))
            }
            (Scope::Area(_), None) => false,
        });
        if !fits {
            return Err(ApiError::field(
                &field,
                "not_a_handler_here",
                format!("{id} holds no handler role for this event's area"),
            ));
        }
    }
    Ok(())
}

fn merge_target(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    row: &EventRow,
    into: &str,
) -> ApiResult<EventRow> {
    let into = into.trim();
    if into == row.id {
        return Err(ApiError::field("into", "same_event", "an event cannot be merged into itself"));
    }
    let target = visible(conn, caller, into, index)
        .map_err(|_| ApiError::field("into", "unknown_event", format!("no event {into} you can see")))?;
    let state: EventState = target.state.parse().map_err(super::internal)?;
    if state.is_terminal() {
        return Err(ApiError::field("into", "event_closed", "merge into an open event"));
    }
    Ok(target)
}

/// Links the merged event to its target, and its followers follow the target.
fn merge_into(conn: &mut DbConn, row: &EventRow, target: &EventRow, who: &Who) -> ApiResult<()> {
    let at = now();
    queries::events::link(
        conn,
        &EventLinkRow {
            event_id: row.id.clone(),
            other_id: target.id.clone(),
            kind: "merged_into".into(),
            created_at: at,
        },
    )?;
    for user in queries::events::followers(conn, &row.id)? {
        queries::events::follow(conn, &FollowerRow { event_id: target.id.clone(), user_id: user, created_at: at })?;
    }
    timeline::note(conn, target, who, "merge_in", None, json!({"merged": row.id}))?;
    Ok(())
}

/// Decides `action` for `actor` with the shared machine and stores what it says, in the
/// caller's transaction: the event, its tasks, deadline, supervision order, timeline entry and
/// notifications; then hands the event to dispatch when the machine says so. Used for people's
/// actions and the system's alike.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    row: &EventRow,
    category: &Category,
    actor: &Actor,
    who: &Who,
    action: &Action,
    choices: Option<&[Choice]>,
    at_point: Option<(f64, f64)>,
) -> ApiResult<EventRow> {
    let facts = facts_of(conn, row, category)?;
    let out = event::decide(&facts, actor, action).map_err(ApiError::refusal)?;
    let next = &out.facts;
    let at = now();
    // Deadlines from here on follow the grade the machine leaves (a regrade changes it).
    let grade = next.grade;
    let mut up = row.clone();
    up.state = next.state.as_str().to_owned();
    up.grade = grade.as_str().to_owned();
    up.resolved_by = next.resolved_by.clone();
    up.escalation_level = next.escalation_level.map(|l| l.as_str().to_owned());
    up.extension_requested_at = match (facts.extension_requested, next.extension_requested) {
        (false, true) => Some(at),
        (_, false) => None,
        (true, true) => row.extension_requested_at,
    };
    up.version = row.version + 1;
    up.updated_at = at;
    if out.reworked {
        up.rework_count += 1;
    }
    if next.excused_stages > facts.excused_stages {
        let reason = action.reason().unwrap_or_default().trim().to_owned();
        queries::events::excuse(conn, &row.id, &actor.user_id, &reason, at)?;
    }
    // The emergency's share of the time, asked only when a deadline moves.
    let factor = match out.deadline {
        Deadline::Keep => 1.0,
        _ => crate::emergency::factors_for(conn, row)?.map_or(1.0, |f| f.of(grade)),
    };
    match out.deadline {
        Deadline::Keep => {}
        Deadline::Extend(stage) => {
            up.extension_count += 1;
            up.due_at = due(category, grade, stage, row.due_at.map_or(at, |d| d.max(at)), factor);
            up.warned_at = None;
        }
        Deadline::Regrade(stage) => {
            up.due_at = due(category, grade, stage, row.stage_started_at.unwrap_or(row.created_at), factor);
            up.warned_at = None;
        }
        Deadline::Restart(stage) => {
            if row.due_at.is_some_and(|d| at > d) {
                up.late_stages += 1;
            }
            up.due_at = due(category, grade, stage, at, factor);
            up.stage_started_at = Some(at);
            up.warned_at = None;
            up.escalated_at = None;
        }
    }
    if matches!(action, Action::Escalate { .. }) {
        up.escalated_at = Some(at);
    }
    if !queries::events::update_if_version(conn, &up, row.version)? {
        return Err(ApiError::conflict("the event changed meanwhile; reload it"));
    }
    if next.state == EventState::Closed && facts.state != EventState::Closed {
        crate::volunteers::award_on_close(conn, &up, grade)?;
    }
    store_tasks(conn, &up, &out.tasks, actor, choices)?;
    let mut detail = match action {
        Action::Merge { into, .. } => Some(json!({"into": into.trim()})),
        _ => None,
    };
    if let Some(choices) = choices {
        detail = Some(
            json!({"assigned": choices.iter().map(|c| json!({"user": c.user_id, "why": c.why})).collect::<Vec<_>>()}),
        );
    }
    if let Some(level) = out.order {
        let order = SupervisionOrderRow::issue(
            &row.id,
            level.as_str(),
            row.code_at(level).map(str::to_owned),
            who.user_id == super::SYSTEM_USER,
            action.reason().unwrap_or_default(),
            &who.user_id,
            at,
            at + ctx.policy.supervision_reply,
        );
        queries::events::insert_order(conn, &order)?;
        detail = Some(json!({"supervision_order": order.id, "level": order.level}));
    }
    let entry = timeline::append(
        conn,
        &row.id,
        &Step {
            who,
            action: out.step.action,
            from: Some(out.step.from),
            to: out.step.to,
            reason: out.step.reason.as_deref(),
            at: at_point,
            detail,
        },
    )?;
    up.log_head = entry.hash;
    for notice in &out.notices {
        notify::deliver(conn, ctx.index, &up, notice)?;
    }
    match &out.dispatch {
        Some(exclude) => auto_dispatch(conn, ctx, &up, category, exclude),
        None => Ok(up),
    }
}

/// Stores the machine's task changes: new rows (with why each handler was chosen), moved states.
fn store_tasks(
    conn: &mut DbConn,
    event: &EventRow,
    changes: &[TaskChange],
    actor: &Actor,
    choices: Option<&[Choice]>,
) -> ApiResult<()> {
    let at = event.updated_at;
    let tasks = queries::tasks::for_event(conn, &event.id)?;
    for change in changes {
        match change {
            TaskChange::Create { user_id, lead, state, origin } => {
                let choice = choices.and_then(|c| c.iter().find(|c| c.user_id == *user_id));
                let why = match (origin, choice) {
                    (_, Some(c)) => c.why.clone(),
                    (TaskOrigin::PoolClaim, None) => {
                        json!({"rule": crate::volunteers::CLAIM_RULE, "community": event.community_code})
                    }
                    (TaskOrigin::Dispatched, None) => json!({"rule": "manual", "by": actor.user_id}),
                };
                queries::tasks::insert(
                    conn,
                    &TaskRow {
                        id: new_id(),
                        event_id: event.id.clone(),
                        user_id: user_id.clone(),
                        department_id: choice.and_then(|c| c.department_id.clone()),
                        lead: *lead,
                        state: state.as_str().to_owned(),
                        why: why.to_string(),
                        assigned_by: actor.user_id.clone(),
                        created_at: at,
                        updated_at: at,
                    },
                )?;
            }
            TaskChange::Move { user_id, from, to } => {
                if let Some(t) = tasks.iter().find(|t| t.user_id == *user_id && t.state == from.as_str()) {
                    queries::tasks::update(
                        conn,
                        &TaskRow { state: to.as_str().to_owned(), updated_at: at, ..t.clone() },
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Dispatches an accepted (or returned) event by the rules in `dispatch`, as the system.
pub fn auto_dispatch(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    row: &EventRow,
    category: &Category,
    exclude: &[String],
) -> ApiResult<EventRow> {
    let who = Who::system();
    let note = |conn: &mut DbConn, action: &str, detail: Value| -> ApiResult<EventRow> {
        let entry = timeline::note(conn, row, &who, action, None, detail)?;
        let mut out = row.clone();
        out.log_head = entry.hash;
        Ok(out)
    };
    match dispatch::plan(conn, ctx.index, row, category, ctx.policy.max_tasks_per_worker, exclude)? {
        Plan::Assign(choices) => {
            let action = Action::Dispatch {
                assignees: choices.iter().map(|c| c.user_id.clone()).collect(),
                reason: Some("automatic dispatch".into()),
            };
            apply(conn, ctx, row, category, &system_actor(), &who, &action, Some(&choices), None)
        }
        Plan::VolunteerPool { community } => {
            let volunteers = super::holders_over(conn, ctx.index, row, Role::Volunteer, None)?;
            notify::send(conn, &volunteers, row, "pool_open", &json!({}))?;
            note(
                conn,
                "dispatch_pool",
                json!({"rule": "volunteer_pool", "community": community, "volunteers": volunteers.len()}),
            )
        }
        Plan::Nobody { why } => {
            let coordinators = super::holders_over(conn, ctx.index, row, Role::Coordinator, None)?;
            notify::send(conn, &coordinators, row, "dispatch_needed", &why)?;
            note(conn, "dispatch_pending", why)
        }
    }
}
