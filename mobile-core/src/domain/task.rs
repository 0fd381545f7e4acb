//! A handler's task on an event (one per handler), its states, and the changes the event
//! machine makes to them. The tasks table on the server and the phone's copy of its own task
//! follow these changes and nothing else.

use serde::{Deserialize, Serialize};

use super::event::EventState;

named_enum!(
    /// Where one handler's part of an event stands.
    TaskState, "task_state",
    Assigned => "assigned",
    // Assigned, but neither acknowledged nor claimed within the accept time.
    Unacknowledged => "unacknowledged",
    Claimed => "claimed",
    InProgress => "in_progress",
    // The handler's part is done (the event itself is resolved once every part is).
    Resolved => "resolved",
    // The handler gave it back.
    Returned => "returned",
    // Taken from the handler (reassigned, returned by a co-handler, resumed afresh).
    Withdrawn => "withdrawn",
    Closed => "closed",
);

impl TaskState {
    /// Still asks something of the handler: counts as their load.
    pub fn is_open(self) -> bool {
        matches!(self, TaskState::Assigned | TaskState::Unacknowledged | TaskState::Claimed | TaskState::InProgress)
    }

    /// The handler is on the event (open, or their part resolved).
    pub fn is_current(self) -> bool {
        self.is_open() || self == TaskState::Resolved
    }

    /// The handler is off the event: they hear that the task is gone, not how the event goes on.
    pub fn is_gone(self) -> bool {
        matches!(self, TaskState::Returned | TaskState::Withdrawn)
    }

    /// The states whose tasks are open, as stored.
    pub fn open_names() -> Vec<&'static str> {
        TaskState::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect()
    }
}

/// Who is on an event, as its tasks say: the handlers, and those of them whose part is resolved,
/// in the order of `tasks` (the store passes the lead first). A filed event keeps the handlers who
/// saw it through to verification (their tasks closed); while it runs, the current tasks count.
pub fn on_event(event: EventState, tasks: &[TaskFacts]) -> (Vec<String>, Vec<String>) {
    let users = |keep: &dyn Fn(TaskState) -> bool| -> Vec<String> {
        tasks.iter().filter(|t| keep(t.state)).map(|t| t.user_id.clone()).collect()
    };
    if event.is_terminal() {
        let closed = users(&|s| s == TaskState::Closed);
        (closed.clone(), closed)
    } else {
        (users(&TaskState::is_current), users(&|s| s == TaskState::Resolved))
    }
}

/// What the machine knows of one task: whose it is and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFacts {
    pub user_id: String,
    pub state: TaskState,
}

/// Why a task was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOrigin {
    /// Named in a dispatch (by a person, or chosen by the dispatch rules).
    Dispatched,
    /// A volunteer took the event from the community pool.
    PoolClaim,
}

/// A change to the tasks of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum TaskChange {
    Create { user_id: String, lead: bool, state: TaskState, origin: TaskOrigin },
    Move { user_id: String, from: TaskState, to: TaskState },
}

/// The tasks after `changes`: what the server's table and the phone's copy become. A move
/// applies to the user's current task in its `from` state.
pub fn apply(tasks: &[TaskFacts], changes: &[TaskChange]) -> Vec<TaskFacts> {
    let mut out = tasks.to_vec();
    for c in changes {
        match c {
            TaskChange::Create { user_id, state, .. } => {
                out.push(TaskFacts { user_id: user_id.clone(), state: *state });
            }
            TaskChange::Move { user_id, from, to } => {
                if let Some(t) = out.iter_mut().find(|t| t.user_id == *user_id && t.state == *from) {
                    t.state = *to;
                }
            }
        }
    }
    out
}

/// The current task of `user`, if they are on the event.
pub fn current<'a>(tasks: &'a [TaskFacts], user: &str) -> Option<&'a TaskFacts> {
    tasks.iter().find(|t| t.user_id == user && t.state.is_current())
}
