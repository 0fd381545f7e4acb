//! The event loop's state machine (闭环处置), shared by the server and the phone apps: the only
//! code that decides whether an action on an event is allowed, and by whom. It is pure: callers
//! pass the facts (state, assignees, who resolved it) and the actor's roles over the event's area
//! (scope is resolved by the caller against its area tree), and get the next state or a refusal
//! with a stable code.

use serde::{Deserialize, Serialize};

use super::error::DomainError;
use super::role::Role;

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

/// Where a report came from. Trusted sources skip triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Volunteer,
    Resident,
    GridWorker,
    Hotline,
    Sensor,
    Department,
}

impl Source {
    /// Grid-worker patrols and sensors are accepted (立案) at once; the rest wait for the ops
    /// centre to accept or reject them.
    pub fn initial_state(self) -> EventState {
        match self {
            Source::GridWorker | Source::Sensor => EventState::Accepted,
            _ => EventState::Reported,
        }
    }
}

/// Something a person asks to do to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
            Action::Escalate { .. } => "escalate",
            Action::Supervise { .. } => "supervise",
            Action::Merge { .. } => "merge",
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
            | Action::Escalate { reason }
            | Action::Supervise { reason }
            | Action::Merge { reason, .. } => Some(reason),
            Action::Dispatch { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }
}

/// What the machine needs to know about an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFacts {
    pub state: EventState,
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
}

/// Who acts: a user and the roles they hold over the event's area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: String,
    pub roles: Vec<Role>,
}

impl Actor {
    fn has(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|r| roles.contains(r))
    }
}

/// The operations centres at street, district and city level (and administrators).
pub const OPS_ROLES: [Role; 4] = [Role::Coordinator, Role::DistrictOperator, Role::CityOperator, Role::Admin];
/// Who may check a resolution on site.
pub const VERIFIER_ROLES: [Role; 5] =
    [Role::GridWorker, Role::Coordinator, Role::DistrictOperator, Role::CityOperator, Role::Admin];
/// Who may handle an event given to them.
pub const HANDLER_ROLES: [Role; 3] = [Role::GridWorker, Role::DeptHandler, Role::Volunteer];

/// The result of an allowed action: the facts afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub facts: EventFacts,
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
/// `merge_target_required`.
pub fn decide(facts: &EventFacts, actor: &Actor, action: &Action) -> Result<Outcome, DomainError> {
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
        if actor.has(roles) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(refuse(
                "action",
                "not_permitted",
                format!("{} needs one of [{}] over this area", action.name(), names.join(", ")),
            ))
        }
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
            if !matches!(
                facts.state,
                S::Accepted | S::Dispatched | S::Claimed | S::Returned | S::InProgress | S::Rework
            ) {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
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
        Action::Claim => match facts.state {
            S::Dispatched => {
                need_assignee()?;
                next.state = S::Claimed;
            }
            // Co-handlers of a cross-department event claim their own part after the first.
            S::Claimed | S::InProgress if is_assignee => need_assignee()?,
            // The community pool: volunteers take volunteer-eligible cases themselves.
            S::Accepted | S::Returned if facts.volunteer_eligible && actor.has(&[Role::Volunteer]) => {
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
        Action::Extend { .. } => {
            if !matches!(facts.state, S::Dispatched | S::Claimed | S::InProgress | S::Rework) {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
        }
        Action::RequestExtension { .. } => {
            if !matches!(facts.state, S::Dispatched | S::Claimed | S::InProgress | S::Rework) {
                return Err(wrong_state());
            }
            need_assignee()?;
        }
        Action::Escalate { .. } | Action::Supervise { .. } => {
            if facts.state.is_terminal() {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
        }
        Action::Merge { into, .. } => {
            if facts.state.is_terminal() {
                return Err(wrong_state());
            }
            need(&OPS_ROLES)?;
            if into.trim().is_empty() {
                return Err(refuse("into", "merge_target_required", "merge needs the event to merge into"));
            }
            next.state = S::Closed;
        }
    }
    Ok(Outcome { facts: next })
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
        }
    }

    fn run(mut f: EventFacts, steps: &[(&Actor, Action)]) -> Result<EventFacts, DomainError> {
        for (a, action) in steps {
            f = decide(&f, a, action)?.facts;
        }
        Ok(f)
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
        // Asking changes nothing; only the ops centre's extension moves the deadline.
        let asked = decide(&f, &wang, &Action::RequestExtension { reason: "waiting for parts".into() }).unwrap();
        assert_eq!(asked.facts, f);
        let ask = Action::RequestExtension { reason: "x".into() };
        assert_eq!(decide(&f, &coord, &ask).unwrap_err().code, "not_assignee");
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
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

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
            let mut f = EventFacts { state, assignees: vec!["u1".into()], resolved_by: Some("u1".into()), resolved_parts: vec![], after_photo_required: true, volunteer_eligible: false };
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
