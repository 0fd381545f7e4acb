//! The event loop's state machine (闭环处置), shared by the server and the phone apps: the only
//! code that decides whether an action on an event is allowed, by whom, and everything it causes.
//! It is pure: callers pass the facts (state, assignees, tasks, who resolved it, the escalation
//! level) and the actor's roles over the event's area (scope is resolved by the caller against its
//! area tree), and get an [`Outcome`] — the facts afterwards and every effect to store: task
//! changes, the deadline, escalation and supervision, who is told, the timeline step, whether
//! dispatch follows — or a refusal with a stable code. The server and the phone only store it.

use serde::{Deserialize, Serialize};

use super::area::AreaLevel;
use super::category::{Grade, Stage};
use super::error::DomainError;
use super::role::Role;
use super::task::{self, TaskChange, TaskFacts, TaskOrigin, TaskState};

named_enum!(
    /// What a photo proves: the problem as found, the work done, or the verifier's check.
    EvidenceKind, "kind",
    Before => "before",
    After => "after",
    Verify => "verify",
);

named_enum!(
    /// Where an event stands in the loop.
    EventState, "state",
    Reported => "reported",
    Accepted => "accepted",
    Rejected => "rejected",
    Dispatched => "dispatched",
    Claimed => "claimed",
    Returned => "returned",
    InProgress => "in_progress",
    Resolved => "resolved",
    Rework => "rework",
    Closed => "closed",
    Suspended => "suspended",
);

impl EventState {
    /// The stage whose deadline runs in this state; none while suspended or filed.
    pub fn timed_stage(self) -> Option<super::category::Stage> {
        use super::category::Stage;
        match self {
            EventState::Reported => Some(Stage::Accept),
            EventState::Accepted | EventState::Returned => Some(Stage::Dispatch),
            EventState::Dispatched | EventState::Claimed | EventState::InProgress | EventState::Rework => {
                Some(Stage::Handle)
            }
            EventState::Resolved => Some(Stage::Verify),
            EventState::Suspended | EventState::Closed | EventState::Rejected => None,
        }
    }

    /// Closed and rejected events are filed: nothing changes them any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, EventState::Closed | EventState::Rejected)
    }
}

named_enum!(
    /// Where a report came from. Trusted sources skip triage.
    Source, "source",
    Volunteer => "volunteer",
    Resident => "resident",
    GridWorker => "grid_worker",
    Hotline => "hotline",
    Sensor => "sensor",
    Department => "department"
);

impl Source {
    /// Grid-worker patrols and sensors are accepted (立案) at once; the rest wait for the ops
    /// centre to accept or reject them.
    pub fn initial_state(self) -> EventState {
        match self {
            Source::GridWorker | Source::Sensor => EventState::Accepted,
            _ => EventState::Reported,
        }
    }

    /// What a person's report is filed as when they do not say: a grid worker's is a patrol
    /// finding, a volunteer's counts as their service, anyone else's is a resident's.
    pub fn for_reporter(roles: &[Role]) -> Source {
        if roles.contains(&Role::GridWorker) {
            Source::GridWorker
        } else if roles.contains(&Role::Volunteer) {
            Source::Volunteer
        } else {
            Source::Resident
        }
    }

    /// Whether someone holding `roles` may file as this source: a source is a capacity, never
    /// the client's say-so. Hotline entries are the ops centre's, sensor feeds the city's
    /// integrations', department reports handlers'.
    pub fn permitted_for(self, roles: &[Role]) -> bool {
        let has = |r: &[Role]| roles.iter().any(|x| r.contains(x));
        match self {
            Source::Resident => true,
            Source::Volunteer => has(&[Role::Volunteer]),
            Source::GridWorker => has(&[Role::GridWorker]),
            Source::Hotline => has(&OPS_ROLES),
            Source::Sensor => has(&[Role::Admin, Role::CityOperator]),
            Source::Department => has(&[Role::DeptHandler]),
        }
    }
}

/// Something a person asks to do to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    Accept,
    Reject {
        reason: String,
    },
    /// Give the event to handlers (also reassignment and bulk reassignment).
    Dispatch {
        assignees: Vec<String>,
        /// Required when the event is taken from someone it was given to (reassignment).
        #[serde(default)]
        reason: Option<String>,
    },
    Claim,
    Return {
        reason: String,
    },
    Start,
    Resolve {
        /// Ids of the after-photos (evidence) that prove the work; the server checks they are
        /// after-photos of this event by one of its handlers, each cited once.
        #[serde(default)]
        evidence: Vec<String>,
    },
    Verify,
    Rework {
        reason: String,
    },
    Suspend {
        reason: String,
    },
    Resume,
    /// An approved extension: the ops centre moves the deadline.
    Extend {
        reason: String,
    },
    /// A handler asks for more time; the deadline moves only when the ops centre extends it.
    RequestExtension {
        reason: String,
    },
    /// The ops centre says no to a pending request for more time: the deadline stands.
    RefuseExtension {
        reason: String,
    },
    Escalate {
        reason: String,
    },
    /// A supervision order (督办) issued by hand: the state does not change.
    Supervise {
        reason: String,
    },
    /// The same problem as another open event: this one is filed as closed into it.
    Merge {
        into: String,
        reason: String,
    },
    /// The ops centre sets the grade (a reporter only suggests one); the running stage's
    /// deadline follows the new grade.
    Regrade {
        grade: Grade,
        reason: String,
    },
    /// Excused lateness (容错免责): the ops centre excuses one stage that finished late, with a
    /// reason. It stays in the record and no longer counts against the on-time rate.
    Excuse {
        reason: String,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject { .. } => "reject",
            Action::Dispatch { .. } => "dispatch",
            Action::Claim => "claim",
            Action::Return { .. } => "return",
            Action::Start => "start",
            Action::Resolve { .. } => "resolve",
            Action::Verify => "verify",
            Action::Rework { .. } => "rework",
            Action::Suspend { .. } => "suspend",
            Action::Resume => "resume",
            Action::Extend { .. } => "extend",
            Action::RequestExtension { .. } => "request_extension",
            Action::RefuseExtension { .. } => "refuse_extension",
            Action::Escalate { .. } => "escalate",
            Action::Supervise { .. } => "supervise",
            Action::Merge { .. } => "merge",
            Action::Regrade { .. } => "regrade",
            Action::Excuse { .. } => "excuse",
        }
    }

    /// The reason given, for the actions that require one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Action::Reject { reason }
            | Action::Return { reason }
            | Action::Rework { reason }
            | Action::Suspend { reason }
            | Action::Extend { reason }
            | Action::RequestExtension { reason }
            | Action::RefuseExtension { reason }
            | Action::Escalate { reason }
            | Action::Supervise { reason }
            | Action::Merge { reason, .. }
            | Action::Regrade { reason, .. }
            | Action::Excuse { reason } => Some(reason),
            Action::Dispatch { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }
}

/// What the machine needs to know about an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFacts {
    pub state: EventState,
    /// The grade the ops centre set (the category's default until then).
    pub grade: Grade,
    /// Stages that finished after their deadline, and how many of them the ops centre excused.
    #[serde(default)]
    pub late_stages: u32,
    #[serde(default)]
    pub excused_stages: u32,
    /// Users the event is dispatched to (a lead and co-handlers are each assignees).
    pub assignees: Vec<String>,
    /// Who reported it resolved; that person may not verify it.
    pub resolved_by: Option<String>,
    /// Assignees who have resolved their part; the event is resolved when all have. None of
    /// them may verify it.
    #[serde(default)]
    pub resolved_parts: Vec<String>,
    /// The category demands an after-photo before the event can be resolved.
    pub after_photo_required: bool,
    /// Volunteers of the community may claim it from the pool.
    pub volunteer_eligible: bool,
    /// The handlers' tasks (the server knows every one; a phone knows its own).
    #[serde(default)]
    pub tasks: Vec<TaskFacts>,
    /// The ops-centre level it is escalated to; `None` while the street handles it.
    #[serde(default)]
    pub escalation_level: Option<AreaLevel>,
    /// A handler asked for more time for the running stage and the ops centre has not answered.
    #[serde(default)]
    pub extension_requested: bool,
    /// The event lies in an area under emergency mode (急时): escalation goes straight to the
    /// city centre.
    #[serde(default)]
    pub emergency: bool,
}

impl EventFacts {
    /// In the community's volunteer pool: volunteers see it and may claim it themselves.
    pub fn in_volunteer_pool(&self) -> bool {
        self.volunteer_eligible && matches!(self.state, EventState::Accepted | EventState::Returned)
    }
}

/// Who acts: a user and the roles they hold over the event's area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: String,
    pub roles: Vec<Role>,
}

impl Actor {
    pub fn has(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }

    /// The actor for an event: the roles held over its area, plus — for someone the event is given
    /// to — the handler roles they hold elsewhere (a task given to a worker of a neighbouring grid
    /// lets them handle it there).
    pub fn for_event(user_id: &str, roles_over_area: Vec<Role>, all_roles: &[Role], facts: &EventFacts) -> Self {
        let mut roles = roles_over_area;
        if facts.assignees.iter().any(|a| a == user_id) {
            roles.extend(all_roles.iter().copied().filter(|r| HANDLER_ROLES.contains(r)));
        }
        Actor { user_id: user_id.to_owned(), roles }
    }
}

/// The operations centres at street, district and city level (and administrators).
pub const OPS_ROLES: [Role; 4] = [Role::Coordinator, Role::DistrictOperator, Role::CityOperator, Role::Admin];
/// Who may check a resolution on site.
pub const VERIFIER_ROLES: [Role; 5] =
    [Role::GridWorker, Role::Coordinator, Role::DistrictOperator, Role::CityOperator, Role::Admin];
/// Who may handle an event given to them.
pub const HANDLER_ROLES: [Role; 3] = [Role::GridWorker, Role::DeptHandler, Role::Volunteer];

/// What happens to the running stage's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    Keep,
    /// A new stage, a new handler or a rework: the clock starts afresh for this stage (none while
    /// suspended or filed).
    Restart(Option<Stage>),
    /// An approved extension: the stage's time is added to the deadline (or to now, if past).
    Extend(Option<Stage>),
    /// A new grade: the running stage is due its start plus the new grade's time.
    Regrade(Option<Stage>),
}

/// Who is told: named users, the event's followers, or the holders of a role over its area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    Users(Vec<String>),
    Followers,
    Holders(Role),
}

/// What a notice says beyond its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeDetail {
    None,
    Reason(Option<String>),
    Supervision { level: AreaLevel, reason: String },
}

/// One notification to send after the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: &'static str,
    pub to: Vec<Recipients>,
    pub detail: NoticeDetail,
}

/// What the hash-chained timeline records of the action (the caller adds who, where, when).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineStep {
    pub action: &'static str,
    pub from: EventState,
    pub to: EventState,
    pub reason: Option<String>,
}

/// The result of an allowed action: the facts afterwards and every effect to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub facts: EventFacts,
    /// Changes to the handlers' tasks (already applied to `facts.tasks`).
    pub tasks: Vec<TaskChange>,
    pub deadline: Deadline,
    /// A rework: the event's rework count goes up.
    pub reworked: bool,
    /// A supervision order (督办) at this level: issued by an escalation or by hand.
    pub order: Option<AreaLevel>,
    pub notices: Vec<Notice>,
    pub step: TimelineStep,
    /// The event goes to automatic dispatch, never to these users.
    pub dispatch: Option<Vec<String>>,
}

/// The ops role of each management level.
pub fn ops_role(level: AreaLevel) -> Role {
    match level {
        AreaLevel::City => Role::CityOperator,
        AreaLevel::District => Role::DistrictOperator,
        _ => Role::Coordinator,
    }
}

/// The management level above `current` (`None`: the street ops centre handles it).
pub fn next_escalation_level(current: Option<AreaLevel>) -> AreaLevel {
    match current {
        None | Some(AreaLevel::Street) => AreaLevel::District,
        _ => AreaLevel::City,
    }
}

/// The level a person's supervision order is issued at: the highest ops centre they act for.
fn supervision_level(actor: &Actor) -> AreaLevel {
    if actor.has(&[Role::CityOperator, Role::Admin]) {
        AreaLevel::City
    } else if actor.has(&[Role::DistrictOperator]) {
        AreaLevel::District
    } else {
        AreaLevel::Street
    }
}

/// The longest reason an action may carry (they are shown on timelines and in pushes).
pub const REASON_MAX_CHARS: usize = 500;
/// The most handlers one event can be given to at once (a cross-department event).
pub const MAX_ASSIGNEES: usize = 20;

fn refuse(field: &'static str, code: &'static str, message: impl Into<String>) -> DomainError {
    DomainError::new(field, code, message)
}

/// Decides an action. `Ok` carries the facts after it; `Err` says why not, with a stable code:
/// `invalid_transition`, `not_permitted`, `not_assignee`, `reason_required`, `too_long`,
/// `too_many`, `duplicate`,
/// `evidence_required`, `verifier_is_resolver`, `assignees_required`, `part_resolved`,
/// `merge_target_required`, `extension_pending`, `no_extension_requested`.
pub fn decide(facts: &EventFacts, actor: &Actor, action: &Action) -> Result<Outcome, DomainError> {
    let mut next = next_facts(facts, actor, action)?;
    let changes = task_changes(facts, &next, actor, action);
    next.tasks = task::apply(&facts.tasks, &changes);
    let stage = next.state.timed_stage();
    let restarts =
        stage != facts.state.timed_stage() || matches!(action, Action::Dispatch { .. } | Action::Rework { .. });
    // A request for more time is about the running stage: a new stage or handler answers it too.
    if restarts {
        next.extension_requested = false;
    }
    let deadline = match action {
        Action::Extend { .. } => Deadline::Extend(stage),
        Action::Regrade { .. } => Deadline::Regrade(stage),
        _ if restarts => Deadline::Restart(stage),
        _ => Deadline::Keep,
    };
    let order = match action {
        Action::Escalate { .. } => {
            let level = if facts.emergency { AreaLevel::City } else { next_escalation_level(facts.escalation_level) };
            next.escalation_level = Some(level);
            Some(level)
        }
        Action::Supervise { .. } => Some(supervision_level(actor)),
        _ => None,
    };
    // Acceptance or resumption hands the event to dispatch; so does a handler's own return, never
    // back to them.
    let handler_returned = matches!(action, Action::Return { .. }) && facts.assignees.contains(&actor.user_id);
    let dispatch = if handler_returned {
        Some(vec![actor.user_id.clone()])
    } else if next.state == EventState::Accepted && facts.state != EventState::Accepted {
        Some(vec![])
    } else {
        None
    };
    Ok(Outcome {
        notices: notices(facts, &next, action, order),
        step: TimelineStep {
            action: action.name(),
            from: facts.state,
            to: next.state,
            reason: action.reason().map(str::to_owned),
        },
        tasks: changes,
        deadline,
        reworked: matches!(action, Action::Rework { .. }),
        order,
        dispatch,
        facts: next,
    })
}

/// Whether `actor` may dispatch the event now (asked before anything is revealed about the
/// departments' pools).
pub fn may_dispatch(facts: &EventFacts, actor: &Actor) -> Result<(), DomainError> {
    use EventState as S;
    if !matches!(facts.state, S::Accepted | S::Dispatched | S::Claimed | S::Returned | S::InProgress | S::Rework) {
        return Err(refuse(
            "action",
            "invalid_transition",
            format!("cannot dispatch an event that is {}", facts.state),
        ));
    }
    if !actor.has(&OPS_ROLES) {
        return Err(not_permitted("dispatch", &OPS_ROLES));
    }
    Ok(())
}

/// Whether `actor` may split the event into new ones, and the state those start in (accepted:
/// the ops centre that split it has accepted each part).
pub fn may_split(facts: &EventFacts, actor: &Actor) -> Result<EventState, DomainError> {
    if facts.state.is_terminal() {
        return Err(refuse("action", "invalid_transition", format!("cannot split an event that is {}", facts.state)));
    }
    if !actor.has(&OPS_ROLES) {
        return Err(not_permitted("split", &OPS_ROLES));
    }
    Ok(EventState::Accepted)
}

/// Whether `actor` (who can see the event) may add a photo of `kind`: before-photos anyone,
/// after-photos the event's handlers, verify-photos verifiers over the area who are not its
/// handlers; a filed event takes none.
pub fn may_add_evidence(facts: &EventFacts, actor: &Actor, kind: EvidenceKind) -> Result<(), DomainError> {
    if facts.state.is_terminal() {
        return Err(refuse("event_id", "event_finished", format!("the event is {}", facts.state)));
    }
    let handler = facts.assignees.contains(&actor.user_id);
    match kind {
        EvidenceKind::Before => Ok(()),
        EvidenceKind::After if handler => Ok(()),
        EvidenceKind::After => Err(refuse("kind", "not_permitted", "only the event's handlers add after-photos")),
        EvidenceKind::Verify if !handler && actor.has(&VERIFIER_ROLES) => Ok(()),
        EvidenceKind::Verify => Err(refuse(
            "kind",
            "not_permitted",
            "only verifiers over the event's area, not its handlers, add verify-photos",
        )),
    }
}

fn not_permitted(action: &str, roles: &[Role]) -> DomainError {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    refuse("action", "not_permitted", format!("{action} needs one of [{}] over this area", names.join(", ")))
}

/// Keeps one task per handler in step with the event.
fn task_changes(before: &EventFacts, after: &EventFacts, actor: &Actor, action: &Action) -> Vec<TaskChange> {
    let moved = |t: &TaskFacts, to: TaskState| TaskChange::Move { user_id: t.user_id.clone(), from: t.state, to };
    let current = || before.tasks.iter().filter(|t| t.state.is_current());
    let mine = task::current(&before.tasks, &actor.user_id);
    let mut out = Vec::new();
    match action {
        Action::Dispatch { .. } => {
            for t in current() {
                if !after.assignees.contains(&t.user_id) {
                    out.push(moved(t, TaskState::Withdrawn));
                }
            }
            for (i, user) in after.assignees.iter().enumerate() {
                match task::current(&before.tasks, user) {
                    // Dispatched again after resolving their part: the part is open again.
                    Some(t) if t.state == TaskState::Resolved => out.push(moved(t, TaskState::Assigned)),
                    Some(_) => {}
                    None => out.push(TaskChange::Create {
                        user_id: user.clone(),
                        lead: i == 0,
                        state: TaskState::Assigned,
                        origin: TaskOrigin::Dispatched,
                    }),
                }
            }
        }
        Action::Claim if mine.is_none() && before.in_volunteer_pool() => out.push(TaskChange::Create {
            user_id: actor.user_id.clone(),
            lead: true,
            state: TaskState::Claimed,
            origin: TaskOrigin::PoolClaim,
        }),
        Action::Claim | Action::Start | Action::Resolve { .. } => {
            let to = match action {
                Action::Claim => TaskState::Claimed,
                Action::Start => TaskState::InProgress,
                _ => TaskState::Resolved,
            };
            if let Some(t) = mine.filter(|t| t.state != to) {
                out.push(moved(t, to));
            }
        }
        Action::Rework { .. } => {
            out.extend(
                before.tasks.iter().filter(|t| t.state == TaskState::Resolved).map(|t| moved(t, TaskState::Claimed)),
            );
        }
        Action::Return { .. } | Action::Resume => {
            for t in current() {
                out.push(moved(t, if t.user_id == actor.user_id { TaskState::Returned } else { TaskState::Withdrawn }));
            }
        }
        Action::Merge { .. } => out.extend(current().map(|t| moved(t, TaskState::Withdrawn))),
        _ if after.state.is_terminal() => out.extend(current().map(|t| moved(t, TaskState::Closed))),
        _ => {}
    }
    out
}

/// Who hears of the action.
fn notices(before: &EventFacts, after: &EventFacts, action: &Action, order: Option<AreaLevel>) -> Vec<Notice> {
    let users = |v: Vec<String>| vec![Recipients::Users(v)];
    let reason = || NoticeDetail::Reason(action.reason().map(str::to_owned));
    let mut out = Vec::new();
    match action {
        Action::Dispatch { .. } => {
            let new: Vec<String> = after.assignees.iter().filter(|u| !before.assignees.contains(u)).cloned().collect();
            out.push(Notice { kind: "task_assigned", to: users(new), detail: NoticeDetail::None });
            let gone: Vec<String> = before.assignees.iter().filter(|u| !after.assignees.contains(u)).cloned().collect();
            out.push(Notice { kind: "task_withdrawn", to: users(gone), detail: NoticeDetail::None });
        }
        Action::Accept | Action::Reject { .. } | Action::Verify | Action::Merge { .. } => {
            let kind = match action {
                Action::Accept => "report_accepted",
                Action::Reject { .. } => "report_rejected",
                _ => "report_closed",
            };
            out.push(Notice { kind, to: vec![Recipients::Followers], detail: reason() });
            if matches!(action, Action::Verify) {
                out.push(Notice { kind: "verified", to: users(before.assignees.clone()), detail: NoticeDetail::None });
            }
        }
        Action::Rework { .. } => {
            out.push(Notice { kind: "rework", to: users(after.assignees.clone()), detail: reason() });
        }
        Action::RequestExtension { .. } => {
            out.push(Notice {
                kind: "extension_requested",
                to: vec![Recipients::Holders(Role::Coordinator)],
                detail: reason(),
            });
        }
        Action::Extend { .. } | Action::RefuseExtension { .. } => {
            let kind = if matches!(action, Action::Extend { .. }) { "extension_granted" } else { "extension_refused" };
            out.push(Notice { kind, to: users(after.assignees.clone()), detail: reason() });
        }
        Action::Regrade { .. } => {
            out.push(Notice {
                kind: "regraded",
                to: vec![Recipients::Users(after.assignees.clone()), Recipients::Followers],
                detail: reason(),
            });
        }
        Action::Escalate { reason } | Action::Supervise { reason } => {
            let level = order.unwrap_or(AreaLevel::Street);
            out.push(Notice {
                kind: "supervision",
                to: vec![
                    Recipients::Holders(ops_role(level)),
                    Recipients::Holders(Role::Coordinator),
                    Recipients::Users(after.assignees.clone()),
                ],
                detail: NoticeDetail::Supervision { level, reason: reason.clone() },
            });
        }
        _ => {}
    }
    out
}

/// The facts after an allowed action (the state machine proper).
fn next_facts(facts: &EventFacts, actor: &Actor, action: &Action) -> Result<EventFacts, DomainError> {
    use EventState as S;
    if action.reason().is_some_and(|r| r.trim().is_empty()) {
        return Err(refuse("reason", "reason_required", format!("{} needs a reason", action.name())));
    }
    if action.reason().is_some_and(|r| r.chars().count() > REASON_MAX_CHARS) {
        return Err(refuse("reason", "too_long", format!("a reason is at most {REASON_MAX_CHARS} characters")));
    }
    let wrong_state =
        || refuse("action", "invalid_transition", format!("cannot {} an event that is {}", action.name(), facts.state));
    let need = |roles: &[Role]| -> Result<(), DomainError> {
        if actor.has(roles) { Ok(()) } else { Err(not_permitted(action.name(), roles)) }
    };
    let is_assignee = facts.assignees.contains(&actor.user_id);
    let need_assignee = || -> Result<(), DomainError> {
        if is_assignee && actor.has(&HANDLER_ROLES) {
            Ok(())
        } else {
            Err(refuse(
                "action",
                "not_assignee",
                format!("only a handler the event is given to may {} it", action.name()),
            ))
        }
    };
    let mut next = facts.clone();
    match action {
        Action::Accept | Action::Reject { .. } => {
            if facts.state != S::Reported {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
            next.state = if matches!(action, Action::Accept) { S::Accepted } else { S::Rejected };
        }
        Action::Dispatch { assignees, reason } => {
            may_dispatch(facts, actor)?;
            let list: Vec<String> = assignees.iter().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
            if list.is_empty() {
                return Err(refuse("assignees", "assignees_required", "dispatch needs at least one assignee"));
            }
            if list.len() > MAX_ASSIGNEES {
                return Err(refuse("assignees", "too_many", format!("at most {MAX_ASSIGNEES} assignees")));
            }
            // One task per handler: a repeated name is a mistake to point out, not to store twice.
            if list.iter().enumerate().any(|(i, a)| list[..i].contains(a)) {
                return Err(refuse("assignees", "duplicate", "each assignee may be named once"));
            }
            let taken_from_someone = facts.assignees.iter().any(|a| !list.contains(a));
            if taken_from_someone && reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(refuse("reason", "reason_required", "reassigning needs a reason"));
            }
            next.assignees = list;
            next.resolved_parts.clear();
            next.state = S::Dispatched;
        }
        // A co-handler whose part is resolved has nothing left to claim or start (the verifier
        // sends it back with `rework` if it is not done).
        Action::Claim | Action::Start if facts.resolved_parts.contains(&actor.user_id) => {
            return Err(refuse("action", "part_resolved", "you have resolved your part already"));
        }
        Action::Claim => match facts.state {
            S::Dispatched => {
                need_assignee()?;
                next.state = S::Claimed;
            }
            // Co-handlers of a cross-department event claim their own part after the first.
            S::Claimed | S::InProgress if is_assignee => need_assignee()?,
            // The community pool: volunteers take volunteer-eligible cases themselves.
            S::Accepted | S::Returned if facts.in_volunteer_pool() && actor.has(&[Role::Volunteer]) => {
                next.assignees = vec![actor.user_id.clone()];
                next.state = S::Claimed;
            }
            S::Accepted | S::Returned => {
                return Err(refuse(
                    "action",
                    "not_permitted",
                    "only volunteers may claim, and only volunteer-eligible events, from the pool",
                ));
            }
            _ => return Err(wrong_state()),
        },
        Action::Return { .. } => {
            if !matches!(facts.state, S::Dispatched | S::Claimed | S::InProgress | S::Rework) {
                return Err(wrong_state());
            }
            // The handler hands it back, or the ops centre takes it back to the pool.
            if !actor.has(&OPS_ROLES) {
                need_assignee()?;
            }
            next.assignees.clear();
            next.resolved_parts.clear();
            next.state = S::Returned;
        }
        Action::Start => {
            // Co-handlers start their own part while the event is already in progress.
            let startable =
                matches!(facts.state, S::Claimed | S::Rework) || (facts.state == S::InProgress && is_assignee);
            if !startable {
                return Err(wrong_state());
            }
            need_assignee()?;
            next.state = S::InProgress;
        }
        Action::Resolve { evidence } => {
            if facts.state != S::InProgress {
                return Err(wrong_state());
            }
            need_assignee()?;
            if facts.after_photo_required && evidence.is_empty() {
                return Err(refuse("evidence", "evidence_required", "this category needs an after-photo to resolve"));
            }
            if facts.resolved_parts.contains(&actor.user_id) {
                return Err(refuse("action", "part_resolved", "you have resolved your part already"));
            }
            next.resolved_parts.push(actor.user_id.clone());
            // A cross-department event is resolved when every handler has resolved their part.
            if facts.assignees.iter().all(|a| next.resolved_parts.contains(a)) {
                next.resolved_by = Some(actor.user_id.clone());
                next.state = S::Resolved;
            }
        }
        Action::Verify | Action::Rework { .. } => {
            if facts.state != S::Resolved {
                return Err(wrong_state());
            }
            need(&VERIFIER_ROLES)?;
            if facts.resolved_by.as_deref() == Some(actor.user_id.as_str())
                || facts.resolved_parts.contains(&actor.user_id)
            {
                return Err(refuse(
                    "action",
                    "verifier_is_resolver",
                    "the person who resolved an event cannot verify it",
                ));
            }
            next.state = if matches!(action, Action::Verify) { S::Closed } else { S::Rework };
            if next.state == S::Rework {
                next.resolved_parts.clear();
            }
        }
        Action::Suspend { .. } => {
            if !matches!(
                facts.state,
                S::Accepted | S::Dispatched | S::Claimed | S::Returned | S::InProgress | S::Rework
            ) {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
            next.state = S::Suspended;
        }
        Action::Resume => {
            if facts.state != S::Suspended {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
            // Back to the ops centre's queue: it is dispatched afresh.
            next.assignees.clear();
            next.state = S::Accepted;
        }
        // The ops centre may extend unasked; it refuses only what was asked.
        Action::Extend { .. } => {
            if !matches!(facts.state, S::Dispatched | S::Claimed | S::InProgress | S::Rework) {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
            next.extension_requested = false;
        }
        Action::RefuseExtension { .. } => {
            need(&OPS_ROLES)?;
            if !facts.extension_requested {
                return Err(refuse("action", "no_extension_requested", "nobody has asked for more time on this stage"));
            }
            next.extension_requested = false;
        }
        Action::RequestExtension { .. } => {
            if !matches!(facts.state, S::Dispatched | S::Claimed | S::InProgress | S::Rework) {
                return Err(wrong_state());
            }
            need_assignee()?;
            if facts.extension_requested {
                return Err(refuse(
                    "action",
                    "extension_pending",
                    "more time was asked for already: wait for the answer",
                ));
            }
            next.extension_requested = true;
        }
        Action::Escalate { .. } | Action::Supervise { .. } => {
            if facts.state.is_terminal() {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
        }
        Action::Excuse { .. } => {
            need(&OPS_ROLES)?;
            if facts.excused_stages >= facts.late_stages {
                return Err(refuse("action", "nothing_to_excuse", "no late stage is left to excuse"));
            }
            next.excused_stages += 1;
        }
        Action::Regrade { grade, .. } => {
            if facts.state.is_terminal() {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
            if *grade == facts.grade {
                return Err(refuse("grade", "same_grade", format!("the event is {grade} already")));
            }
            next.grade = *grade;
        }
        Action::Merge { into, .. } => {
            if facts.state.is_terminal() {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
            if into.trim().is_empty() {
                return Err(refuse("into", "merge_target_required", "merge needs the event to merge into"));
            }
            // The work goes on under the event it is merged into: nobody is on this one any more.
            next.assignees.clear();
            next.resolved_parts.clear();
            next.state = S::Closed;
        }
    }
    Ok(next)
}

/// `n` made-up evidence ids, for tests.
#[cfg(test)]
fn photos(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("photo-{i}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(id: &str, roles: &[Role]) -> Actor {
        Actor { user_id: id.into(), roles: roles.to_vec() }
    }

    fn facts(state: EventState) -> EventFacts {
        EventFacts {
            state,
            assignees: vec![],
            resolved_by: None,
            resolved_parts: vec![],
            after_photo_required: true,
            volunteer_eligible: false,
            tasks: vec![],
            escalation_level: None,
            extension_requested: false,
            emergency: false,
            grade: Grade::General,
            late_stages: 0,
            excused_stages: 0,
        }
    }

    fn run(mut f: EventFacts, steps: &[(&Actor, Action)]) -> Result<EventFacts, DomainError> {
        for (a, action) in steps {
            f = decide(&f, a, action)?.facts;
        }
        Ok(f)
    }

    #[test]
    fn only_the_ops_centre_regrades_and_the_running_stage_follows() {
        let coord = actor("coord", &[Role::Coordinator]);
        let wang = actor("wang", &[Role::GridWorker]);
        let mut f = facts(EventState::InProgress);
        f.assignees = vec!["wang".into()];
        let to_serious = Action::Regrade { grade: Grade::Serious, reason: "路面塌陷扩大".into() };
        let out = decide(&f, &coord, &to_serious).unwrap();
        assert_eq!((out.facts.grade, out.facts.state), (Grade::Serious, EventState::InProgress));
        assert_eq!(out.deadline, Deadline::Regrade(EventState::InProgress.timed_stage()));
        assert_eq!(out.step.action, "regrade");
        assert!(out.tasks.is_empty(), "nobody's task changes");
        assert!(
            out.notices.iter().any(|n| n.kind == "regraded" && n.to.contains(&Recipients::Users(vec!["wang".into()])))
        );
        let code = |f: &EventFacts, a: &Actor, action: &Action| decide(f, a, action).unwrap_err().code;
        assert_eq!(code(&f, &wang, &to_serious), "not_permitted");
        assert_eq!(code(&out.facts, &coord, &to_serious), "same_grade");
        assert_eq!(
            code(&f, &coord, &Action::Regrade { grade: Grade::Critical, reason: " ".into() }),
            "reason_required"
        );
        assert_eq!(code(&facts(EventState::Closed), &coord, &to_serious), "invalid_transition");
    }

    #[test]
    fn the_ops_centre_excuses_late_stages_one_by_one_even_after_closing() {
        let coord = actor("coord", &[Role::Coordinator]);
        let wang = actor("wang", &[Role::GridWorker]);
        let mut f = facts(EventState::Closed);
        f.late_stages = 2;
        let excuse = Action::Excuse { reason: "暴雨停工，经批准".into() };
        let once = decide(&f, &coord, &excuse).unwrap();
        assert_eq!((once.facts.excused_stages, once.facts.state), (1, EventState::Closed));
        assert_eq!((once.deadline, once.step.action), (Deadline::Keep, "excuse"));
        let twice = decide(&once.facts, &coord, &excuse).unwrap();
        assert_eq!(decide(&twice.facts, &coord, &excuse).unwrap_err().code, "nothing_to_excuse");
        assert_eq!(decide(&f, &wang, &excuse).unwrap_err().code, "not_permitted");
        assert_eq!(decide(&f, &coord, &Action::Excuse { reason: String::new() }).unwrap_err().code, "reason_required");
        assert_eq!(decide(&facts(EventState::InProgress), &coord, &excuse).unwrap_err().code, "nothing_to_excuse");
    }

    #[test]
    fn the_happy_path_closes_the_loop() {
        let coord = actor("coord", &[Role::Coordinator]);
        let wang = actor("wang", &[Role::GridWorker]);
        let li = actor("li", &[Role::GridWorker]);
        let end = run(
            facts(EventState::Reported),
            &[
                (&coord, Action::Accept),
                (&coord, Action::Dispatch { assignees: vec!["wang".into()], reason: None }),
                (&wang, Action::Claim),
                (&wang, Action::Start),
                (&wang, Action::Resolve { evidence: photos(1) }),
                (&li, Action::Rework { reason: "still leaking".into() }),
                (&wang, Action::Start),
                (&wang, Action::Resolve { evidence: photos(2) }),
                (&li, Action::Verify),
            ],
        )
        .unwrap();
        assert_eq!(end.state, EventState::Closed);
        assert_eq!(end.resolved_by.as_deref(), Some("wang"));
    }

    #[test]
    fn refusals_carry_stable_codes() {
        let coord = actor("coord", &[Role::Coordinator]);
        let wang = actor("wang", &[Role::GridWorker]);
        let vol = actor("zhao", &[Role::Volunteer]);
        let code = |f: &EventFacts, a: &Actor, act: Action| decide(f, a, &act).err().map(|e| e.code);
        assert_eq!(
            code(&facts(EventState::Reported), &coord, Action::Reject { reason: " ".into() }),
            Some("reason_required")
        );
        assert_eq!(code(&facts(EventState::Reported), &wang, Action::Accept), Some("not_permitted"));
        assert_eq!(code(&facts(EventState::Closed), &coord, Action::Accept), Some("invalid_transition"));
        let mut inprog = facts(EventState::InProgress);
        inprog.assignees = vec!["wang".into()];
        assert_eq!(code(&inprog, &wang, Action::Resolve { evidence: vec![] }), Some("evidence_required"));
        assert_eq!(
            code(&inprog, &actor("li", &[Role::GridWorker]), Action::Resolve { evidence: photos(1) }),
            Some("not_assignee")
        );
        let mut resolved = facts(EventState::Resolved);
        resolved.resolved_by = Some("wang".into());
        assert_eq!(code(&resolved, &wang, Action::Verify), Some("verifier_is_resolver"));
        assert_eq!(code(&resolved, &vol, Action::Verify), Some("not_permitted"));
        assert_eq!(
            code(&facts(EventState::Accepted), &coord, Action::Dispatch { assignees: vec![], reason: None }),
            Some("assignees_required")
        );
        assert_eq!(code(&facts(EventState::Accepted), &vol, Action::Claim), Some("not_permitted"));
    }

    #[test]
    fn volunteers_claim_eligible_events_from_the_pool() {
        let vol = actor("zhao", &[Role::Volunteer]);
        let mut f = facts(EventState::Accepted);
        f.volunteer_eligible = true;
        let after = decide(&f, &vol, &Action::Claim).unwrap().facts;
        assert_eq!(after.state, EventState::Claimed);
        assert_eq!(after.assignees, ["zhao"]);
    }

    #[test]
    fn a_cross_department_event_resolves_when_every_part_is_resolved() {
        let coord = actor("coord", &[Role::Coordinator]);
        let water = actor("water", &[Role::DeptHandler, Role::GridWorker]);
        let roads = actor("roads", &[Role::DeptHandler]);
        let f = run(
            facts(EventState::Accepted),
            &[
                (&coord, Action::Dispatch { assignees: vec!["water".into(), "roads".into()], reason: None }),
                (&water, Action::Claim),
                (&roads, Action::Claim),
                (&water, Action::Start),
                (&roads, Action::Start),
                (&water, Action::Resolve { evidence: photos(1) }),
            ],
        )
        .unwrap();
        assert_eq!(f.state, EventState::InProgress);
        assert_eq!(f.resolved_parts, ["water"]);
        let again = decide(&f, &water, &Action::Resolve { evidence: photos(1) }).unwrap_err();
        assert_eq!(again.code, "part_resolved");
        let f = decide(&f, &roads, &Action::Resolve { evidence: photos(1) }).unwrap().facts;
        assert_eq!(f.state, EventState::Resolved);
        // Neither handler may verify the other's work.
        assert_eq!(decide(&f, &water, &Action::Verify).unwrap_err().code, "verifier_is_resolver");
        assert_eq!(decide(&f, &coord, &Action::Verify).unwrap().facts.state, EventState::Closed);
    }

    #[test]
    fn the_ops_centre_takes_an_event_back_to_the_pool_and_merges() {
        let coord = actor("coord", &[Role::Coordinator]);
        let mut f = facts(EventState::Claimed);
        f.assignees = vec!["wang".into()];
        let back = decide(&f, &coord, &Action::Return { reason: "wang is ill".into() }).unwrap().facts;
        assert_eq!((back.state, back.assignees.len()), (EventState::Returned, 0));
        let merged = decide(&f, &coord, &Action::Merge { into: "e2".into(), reason: "same pipe".into() });
        assert_eq!(merged.unwrap().facts.state, EventState::Closed);
        let wang = actor("wang", &[Role::GridWorker]);
        let refused = decide(&f, &wang, &Action::Merge { into: "e2".into(), reason: "same".into() });
        assert_eq!(refused.unwrap_err().code, "not_permitted");
    }

    #[test]
    fn reassigning_needs_a_reason_and_extensions_wait_for_approval() {
        let coord = actor("coord", &[Role::Coordinator]);
        let wang = actor("wang", &[Role::GridWorker]);
        let mut f = facts(EventState::Claimed);
        f.assignees = vec!["wang".into()];
        let to_li =
            |reason: Option<&str>| Action::Dispatch { assignees: vec!["li".into()], reason: reason.map(str::to_owned) };
        assert_eq!(decide(&f, &coord, &to_li(None)).unwrap_err().code, "reason_required");
        assert_eq!(decide(&f, &coord, &to_li(Some(" "))).unwrap_err().code, "reason_required");
        assert_eq!(decide(&f, &coord, &to_li(Some("wang is ill"))).unwrap().facts.assignees, ["li"]);
        // Asking marks the request and keeps the deadline; only the ops centre's extension moves it.
        let ask = Action::RequestExtension { reason: "waiting for parts".into() };
        let asked = decide(&f, &wang, &ask).unwrap();
        assert!(asked.facts.extension_requested);
        assert_eq!(asked.deadline, Deadline::Keep);
        assert_eq!(asked.facts.state, f.state);
        assert_eq!(decide(&f, &coord, &ask).unwrap_err().code, "not_assignee");
        assert_eq!(decide(&asked.facts, &wang, &ask).unwrap_err().code, "extension_pending");
        // The ops centre grants it (the deadline moves) or refuses it with a reason (it stands).
        let grant = decide(&asked.facts, &coord, &Action::Extend { reason: "parts on order".into() }).unwrap();
        assert!(!grant.facts.extension_requested);
        assert!(matches!(grant.deadline, Deadline::Extend(_)));
        assert_eq!(grant.notices[0].kind, "extension_granted");
        let no = Action::RefuseExtension { reason: "the parts are in stock".into() };
        let refused = decide(&asked.facts, &coord, &no).unwrap();
        assert!(!refused.facts.extension_requested);
        assert_eq!(refused.deadline, Deadline::Keep);
        assert_eq!(refused.notices[0].kind, "extension_refused");
        assert_eq!(decide(&asked.facts, &wang, &no).unwrap_err().code, "not_permitted");
        assert_eq!(decide(&f, &coord, &no).unwrap_err().code, "no_extension_requested");
        // A new handler is a new stage: the old request is answered by the reassignment.
        let moved = decide(&asked.facts, &coord, &to_li(Some("wang is ill"))).unwrap();
        assert!(!moved.facts.extension_requested);
    }

    #[test]
    fn a_source_is_a_capacity_the_reporter_holds() {
        assert_eq!(Source::for_reporter(&[Role::Volunteer]), Source::Volunteer);
        assert_eq!(Source::for_reporter(&[Role::Volunteer, Role::GridWorker]), Source::GridWorker);
        assert_eq!(Source::for_reporter(&[]), Source::Resident);
        assert_eq!(Source::for_reporter(&[Role::Coordinator]), Source::Resident);
        assert!(!Source::Volunteer.permitted_for(&[Role::Resident]));
        assert!(Source::Volunteer.permitted_for(&[Role::Volunteer]));
        assert!(Source::Resident.permitted_for(&[]));
        assert!(Source::Hotline.permitted_for(&[Role::Coordinator]));
        assert!(!Source::Hotline.permitted_for(&[Role::GridWorker]));
        assert!(!Source::Sensor.permitted_for(&[Role::Coordinator]));
    }

    #[test]
    fn trusted_sources_skip_triage() {
        assert_eq!(Source::Sensor.initial_state(), EventState::Accepted);
        assert_eq!(Source::GridWorker.initial_state(), EventState::Accepted);
        assert_eq!(Source::Volunteer.initial_state(), EventState::Reported);
        assert_eq!(Source::Hotline.initial_state(), EventState::Reported);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const USERS: [&str; 4] = ["u1", "u2", "u3", "u4"];

    fn any_role() -> impl Strategy<Value = Role> {
        proptest::sample::select(Role::ALL.to_vec())
    }

    fn any_actor() -> impl Strategy<Value = Actor> {
        (proptest::sample::select(USERS.to_vec()), proptest::collection::vec(any_role(), 0..3))
            .prop_map(|(u, roles)| Actor { user_id: u.to_owned(), roles })
    }

    fn any_reason() -> impl Strategy<Value = String> {
        prop_oneof![Just(String::new()), Just("  ".to_owned()), Just("blocked by a parked car".to_owned())]
    }

    fn any_action() -> impl Strategy<Value = Action> {
        prop_oneof![
            Just(Action::Accept),
            any_reason().prop_map(|reason| Action::Reject { reason }),
            proptest::collection::vec(proptest::sample::select(USERS.to_vec()), 0..3).prop_map(|a| Action::Dispatch {
                assignees: a.into_iter().map(str::to_owned).collect(),
                reason: Some("rebalancing".into())
            }),
            any_reason().prop_map(|reason| Action::RequestExtension { reason }),
            any_reason().prop_map(|reason| Action::RefuseExtension { reason }),
            Just(Action::Claim),
            any_reason().prop_map(|reason| Action::Return { reason }),
            Just(Action::Start),
            (0usize..2).prop_map(|n| Action::Resolve { evidence: photos(n) }),
            Just(Action::Verify),
            any_reason().prop_map(|reason| Action::Rework { reason }),
            any_reason().prop_map(|reason| Action::Suspend { reason }),
            Just(Action::Resume),
            any_reason().prop_map(|reason| Action::Extend { reason }),
            any_reason().prop_map(|reason| Action::Escalate { reason }),
            any_reason().prop_map(|reason| Action::Supervise { reason }),
            any_reason().prop_map(|reason| Action::Merge { into: "other".into(), reason }),
            (proptest::sample::select(Grade::ALL.to_vec()), any_reason())
                .prop_map(|(grade, reason)| Action::Regrade { grade, reason }),
            any_reason().prop_map(|reason| Action::Excuse { reason }),
        ]
    }

    /// One current task per handler and none for anyone else; a task is resolved exactly when its
    /// handler's part is, so the event is resolved exactly when every handler's task is.
    fn tasks_agree(f: &EventFacts) -> Result<(), TestCaseError> {
        let current: Vec<&TaskFacts> = f.tasks.iter().filter(|t| t.state.is_current()).collect();
        // The stored record is the task rows: who is on the event must follow from them alone.
        let (mut on, mut done) = task::on_event(f.state, &f.tasks);
        let (mut assignees, mut parts) = (f.assignees.clone(), f.resolved_parts.clone());
        for list in [&mut on, &mut done, &mut assignees, &mut parts] {
            list.sort();
        }
        prop_assert_eq!((on, done), (assignees, parts), "the task rows disagree: {:?}", f);
        if f.state.is_terminal() {
            prop_assert!(current.is_empty(), "current tasks on a filed event: {:?}", f);
            return Ok(());
        }
        for a in &f.assignees {
            prop_assert_eq!(current.iter().filter(|t| t.user_id == *a).count(), 1, "{} has not one task: {:?}", a, f);
        }
        prop_assert!(current.iter().all(|t| f.assignees.contains(&t.user_id)), "a task without a handler: {:?}", f);
        for t in &current {
            prop_assert_eq!(t.state == TaskState::Resolved, f.resolved_parts.contains(&t.user_id), "{:?}", f);
        }
        let all_resolved = !f.assignees.is_empty() && current.iter().all(|t| t.state == TaskState::Resolved);
        prop_assert_eq!(f.state == EventState::Resolved, all_resolved, "{:?}", f);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The phone knows only its own task; for its own actions it reaches the server's state.
        #[test]
        fn the_phone_and_the_server_agree(
            steps in proptest::collection::vec((any_actor(), any_action()), 1..60),
        ) {
            let mut server = EventFacts {
                state: EventState::Accepted,
                assignees: vec![],
                resolved_by: None,
                resolved_parts: vec![],
                after_photo_required: false,
                volunteer_eligible: true,
                tasks: vec![],
                escalation_level: None,
                extension_requested: false,
                emergency: false,
                grade: Grade::General,
            late_stages: 0,
            excused_stages: 0,
            };
            for (actor, action) in steps {
                let mut phone = server.clone();
                phone.tasks.retain(|t| t.user_id == actor.user_id);
                let (s, p) = (decide(&server, &actor, &action), decide(&phone, &actor, &action));
                match (s, p) {
                    (Ok(s), Ok(p)) => {
                        prop_assert_eq!(s.facts.state, p.facts.state);
                        prop_assert_eq!(&s.facts.assignees, &p.facts.assignees);
                        let own = |f: &EventFacts| f.tasks.iter().filter(|t| t.user_id == actor.user_id).cloned().collect::<Vec<_>>();
                        prop_assert_eq!(own(&s.facts), own(&p.facts));
                        server = s.facts;
                    }
                    (Err(s), Err(p)) => prop_assert_eq!(s.code, p.code),
                    (s, p) => prop_assert!(false, "server {:?} phone {:?}", s.map(|o| o.facts.state), p.map(|o| o.facts.state)),
                }
            }
        }

        /// Random walks of random actors doing random things never break the loop's rules.
        #[test]
        fn random_walks_keep_the_invariants(
            start in proptest::sample::select(vec![Source::Volunteer, Source::Sensor, Source::Hotline, Source::GridWorker]),
            photo in any::<bool>(),
            eligible in any::<bool>(),
            steps in proptest::collection::vec((any_actor(), any_action()), 1..60),
        ) {
            let mut f = EventFacts {
                state: start.initial_state(),
                assignees: vec![],
                resolved_by: None,
                resolved_parts: vec![],
                after_photo_required: photo,
                volunteer_eligible: eligible,
                tasks: vec![],
                escalation_level: None,
                extension_requested: false,
                emergency: false,
                grade: Grade::General,
            late_stages: 0,
            excused_stages: 0,
            };
            for (actor, action) in steps {
                let before = f.clone();
                match decide(&f, &actor, &action) {
                    Err(_) => {}
                    Ok(out) => {
                        let after = out.facts;
                        // Filed events never change.
                        prop_assert!(!before.state.is_terminal());
                        // Reasons were given wherever they are required.
                        if let Some(r) = action.reason() { prop_assert!(!r.trim().is_empty()); }
                        // Closing is a verification by someone other than the resolver, never a volunteer's alone.
                        if after.state == EventState::Closed && !matches!(action, Action::Merge { .. }) {
                            prop_assert_eq!(&action, &Action::Verify);
                            prop_assert_eq!(before.state, EventState::Resolved);
                            prop_assert_ne!(before.resolved_by.as_deref(), Some(actor.user_id.as_str()));
                            prop_assert!(!before.resolved_parts.contains(&actor.user_id));
                            prop_assert!(actor.roles.iter().any(|r| VERIFIER_ROLES.contains(r)));
                        }
                        // Only an assignee resolves, with evidence when the category demands it.
                        if after.state == EventState::Resolved && before.state != EventState::Resolved {
                            prop_assert!(before.assignees.contains(&actor.user_id));
                            prop_assert_eq!(after.resolved_by.as_deref(), Some(actor.user_id.as_str()));
                            // Every handler resolved their part.
                            prop_assert!(after.assignees.iter().all(|a| after.resolved_parts.contains(a)));
                            if let Action::Resolve { evidence } = &action {
                                prop_assert!(!before.after_photo_required || !evidence.is_empty());
                            }
                        }
                        // Work happens only in the hands of someone it was given to.
                        if matches!(after.state, EventState::Claimed | EventState::InProgress | EventState::Dispatched) {
                            prop_assert!(!after.assignees.is_empty());
                        }
                        // Merges are the ops centre's and name a target.
                        if let Action::Merge { into, .. } = &action {
                            prop_assert!(actor.roles.iter().any(|r| OPS_ROLES.contains(r)));
                            prop_assert!(!into.trim().is_empty());
                        }
                        // Parts are resolved only by their handlers.
                        prop_assert!(after.resolved_parts.iter().all(|p| after.assignees.contains(p)));
                        // Triage is the ops centre's.
                        if before.state == EventState::Reported {
                            prop_assert!(actor.roles.iter().any(|r| OPS_ROLES.contains(r)));
                        }
                        // The effects are the facts' own: tasks as applied, the timeline's step.
                        prop_assert_eq!(&after.tasks, &task::apply(&before.tasks, &out.tasks));
                        prop_assert_eq!((out.step.from, out.step.to), (before.state, after.state));
                        tasks_agree(&after)?;
                        f = after;
                    }
                }
            }
        }

        /// From any state but the filed ones, some sequence of permitted actions still closes the loop.
        #[test]
        fn every_open_state_can_still_be_closed(state in proptest::sample::select(EventState::ALL.to_vec())) {
            prop_assume!(!state.is_terminal());
            let ops = Actor { user_id: "ops".into(), roles: vec![Role::Coordinator] };
            let worker = Actor { user_id: "u1".into(), roles: vec![Role::GridWorker] };
            let checker = Actor { user_id: "u2".into(), roles: vec![Role::GridWorker] };
            let mut f = EventFacts { state, assignees: vec!["u1".into()], resolved_by: Some("u1".into()), resolved_parts: vec![], after_photo_required: true, volunteer_eligible: false, tasks: vec![], escalation_level: None, extension_requested: false, emergency: false, grade: Grade::General, late_stages: 0, excused_stages: 0 };
            let plan = [
                (&ops, Action::Accept),
                (&ops, Action::Resume),
                (&ops, Action::Dispatch { assignees: vec!["u1".into()], reason: Some("back to u1".into()) }),
                (&worker, Action::Claim),
                (&worker, Action::Start),
                (&worker, Action::Resolve { evidence: photos(1) }),
                (&checker, Action::Verify),
            ];
            for _ in 0..3 {
                for (a, action) in &plan {
                    if let Ok(out) = decide(&f, a, action) {
                        f = out.facts;
                    }
                }
            }
            prop_assert_eq!(f.state, EventState::Closed, "stuck from {:?}", state);
        }
    }
}
