//! The field client (feature `client`): what a grid worker's phone runs. Every user action is
//! written to the local queue first and applied to the local copy at once (after the shared state
//! machine allowed it), then sent in order, each with an idempotency key made here, so a resend
//! after a lost answer never duplicates anything. Photos are uploaded before the resolve or
//! report that cites them, and the server's ids are filled into the waiting entries. A refusal
//! stops only its entry (kept as a conflict with the server's reason); network trouble stops the
//! pass and it resumes with backoff — also after a crash, since the queue lives in SQLite.

pub mod error;
pub mod queue;
pub mod store;
mod transport;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rusqlite::OptionalExtension;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use error::{ClientError, ClientResult};
use queue::{LOCAL_PREFIX, Op, Verdict};
use store::{CachedEvent, Entry, Failure, Store, now_ms, write};
use transport::{Body, Transport};

use crate::domain::event::{self, Action, Actor, EventFacts, EventState, EvidenceKind, Source};
use crate::domain::role::Role;
use crate::domain::task::{TaskFacts, TaskState};
use crate::photo::{self, Limits};
use crate::wire::{
    ActionAnswer, ActionRequest, ApplicationList, ApplicationView, AreaDetail, Category, CategoryList, DeviceRequest,
    DutyRequest, ErrorBody, EventAreas, EventDetail, EventPage, EventView, EvidenceView, Grant, LatLng, LocationBatch,
    LoginAnswer, LoginRequest, Me, Ping, Point, PoolPage, ReportAnswer, ReportRequest, ServiceSummary, SignUpRequest,
    TaskFeed,
};

/// How the app sees the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueSummary {
    pub pending: u32,
    pub sending: u32,
    pub conflicts: u32,
}

/// One queue entry as the app shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedOp {
    pub seq: i64,
    pub kind: String,
    pub event_id: Option<String>,
    /// `pending`, `sending` or `conflict`.
    pub state: String,
    pub attempts: u32,
    /// For a conflict: the server's reason; for a pending entry: why the last try failed.
    pub error_code: Option<String>,
    pub error: Option<String>,
}

/// A task or a report of this phone, from the local copy.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    pub event_id: String,
    /// The handler's task state (`assigned`, `claimed`, `in_progress` …); `None` for own reports.
    pub task_state: Option<String>,
    pub event_state: String,
    pub category: String,
    pub description: String,
    pub lat: f64,
    pub lng: f64,
    pub due_at: Option<String>,
    /// Not on the server yet.
    pub local_only: bool,
    /// Queue entries about it still to send.
    pub pending_ops: u32,
    /// For the volunteer pool: metres from where the phone last was when it synced.
    pub distance_m: Option<f64>,
}

impl TaskView {
    fn of(e: &CachedEvent, pending_ops: u32, distance_m: Option<f64>) -> Self {
        Self {
            event_id: e.id.clone(),
            task_state: e.task_state.clone(),
            event_state: e.data.state.as_str().to_owned(),
            category: e.data.category.clone(),
            description: e.data.description.clone(),
            lat: e.data.location.lat,
            lng: e.data.location.lng,
            due_at: e.data.due_at.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            local_only: e.local,
            pending_ops,
            distance_m,
        }
    }
}

/// The result of a pass over the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushReport {
    pub sent: u32,
    pub conflicts: u32,
    pub remaining: u32,
    /// The pass stopped on network trouble or overload; it resumes later.
    pub interrupted: bool,
}

/// The result of a sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub changed_tasks: u32,
    pub open_tasks: u32,
    /// Events in the volunteer pool (volunteers) and in the verify queue (verifiers).
    pub pool: u32,
    pub to_verify: u32,
}

/// The lists a phone keeps besides its tasks, by the roles it holds.
const POOL: &str = "pool";
const VERIFY: &str = "verify";
/// The most events a list holds on the phone (pages of 200).
const LIST_MAX_PAGES: usize = 5;

/// Callbacks for the UI (called from the client's threads; keep them short).
pub trait FieldListener: Send + Sync {
    fn queue_changed(&self, summary: QueueSummary);
    fn tasks_changed(&self);
    fn sync_progress(&self, received: u32, more: bool);
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://gridwork.example.gov.cn`
    pub server_url: String,
    /// The client's SQLite file.
    pub database_path: PathBuf,
    /// Per-request timeout.
    pub timeout: Duration,
}

pub struct FieldClient {
    store: Mutex<Store>,
    transport: Transport,
    listener: RwLock<Option<Arc<dyn FieldListener>>>,
    /// One pass over the queue at a time, so entries go in order.
    sending: tokio::sync::Mutex<()>,
    /// Wakes the background sender when something is queued.
    wake: tokio::sync::Notify,
}

impl std::fmt::Debug for FieldClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldClient").field("server", &self.transport.base).finish_non_exhaustive()
    }
}

/// A server answer as the wire type it must be: one that does not fit is an error here, not
/// silently empty fields.
fn parse<T: DeserializeOwned>(answer: Value, what: &str) -> ClientResult<T> {
    serde_json::from_value(answer).map_err(|e| ClientError::Other(format!("unexpected {what}: {e}")))
}

/// The message of an error answer, or its status where the answer is not Gridwork's.
fn message_of(status: u16, answer: &Value) -> String {
    serde_json::from_value::<ErrorBody>(answer.clone()).map_or_else(|_| format!("HTTP {status}"), |e| e.message)
}

impl FieldClient {
    /// Opens (or creates) the local database. Work left from before — a crash, a flat battery —
    /// is pending again and goes with its original keys.
    pub fn open(config: &ClientConfig) -> ClientResult<Self> {
        let store = Store::open(&config.database_path)?;
        let transport = Transport::new(&config.server_url, config.timeout)?;
        let client = Self {
            store: Mutex::new(store),
            transport,
            listener: RwLock::new(None),
            sending: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
        };
        if let Some(token) = client.with_store(|s| s.meta("token"))? {
            client.transport.set_token(Some(token));
        }
        Ok(client)
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> ClientResult<T>) -> ClientResult<T> {
        let mut guard =
            self.store.lock().map_err(|_| ClientError::Storage("the local store lock is poisoned".into()))?;
        f(&mut guard)
    }

    pub fn set_listener(&self, listener: Option<Arc<dyn FieldListener>>) {
        if let Ok(mut l) = self.listener.write() {
            *l = listener;
        }
    }

    fn listener(&self) -> Option<Arc<dyn FieldListener>> {
        self.listener.read().ok().and_then(|l| l.clone())
    }

    fn queue_changed(&self) {
        if let (Some(l), Ok(s)) = (self.listener(), self.summary()) {
            l.queue_changed(s);
        }
    }

    fn tasks_changed(&self) {
        if let Some(l) = self.listener() {
            l.tasks_changed();
        }
    }

    // ----- session -----

    /// Signs in and keeps the token; loads the user's roles and the category catalog, which the
    /// local state machine needs.
    pub async fn sign_in(&self, username: &str, password: &str) -> ClientResult<String> {
        let body = serde_json::to_value(LoginRequest { username: username.to_owned(), password: password.to_owned() })?;
        let (status, answer, _) = self.transport.call("POST", "/api/v1/auth/login", Body::Json(&body), None).await?;
        if status != 200 {
            return Err(match status {
                401 | 429 => ClientError::Unauthorized(message_of(status, &answer)),
                _ => ClientError::Other(message_of(status, &answer)),
            });
        }
        let LoginAnswer { token, user, .. } = parse(answer, "sign-in answer")?;
        let user_id = user.id;
        self.transport.set_token(Some(token.clone()));
        let me: Me = self.get("/api/v1/me").await?;
        let categories: CategoryList = self.get("/api/v1/categories").await?;
        self.with_store(|s| {
            s.set_meta("token", &token)?;
            s.set_meta("user_id", &user_id)?;
            s.set_meta("roles", &serde_json::to_string(&me.roles)?)?;
            s.set_meta("categories", &serde_json::to_string(&categories)?)?;
            s.delete_meta("cursor")
        })?;
        self.wake.notify_one();
        Ok(user_id)
    }

    pub fn signed_in_user(&self) -> ClientResult<Option<String>> {
        self.with_store(|s| s.meta("user_id"))
    }

    /// Registers this phone's FCM token for push.
    pub async fn register_device(&self, fcm_token: &str, platform: &str, app_version: &str) -> ClientResult<()> {
        let body = serde_json::to_value(DeviceRequest {
            fcm_token: fcm_token.to_owned(),
            platform: platform.to_owned(),
            app_version: app_version.to_owned(),
            locale: None,
        })?;
        let (status, answer, _) = self.transport.call("POST", "/api/v1/devices", Body::Json(&body), None).await?;
        Self::expect_ok(status, &answer).map(drop)
    }

    fn expect_ok(status: u16, answer: &Value) -> ClientResult<&Value> {
        match queue::judge(status, answer.clone(), None) {
            Verdict::Done(_) => Ok(answer),
            Verdict::Unauthorized => Err(ClientError::Unauthorized(message_of(status, answer))),
            Verdict::Retry { reason, .. } => Err(ClientError::Network(reason)),
            Verdict::Refused { code, reason } if status == 409 => {
                Err(ClientError::Conflict(format!("{code}: {reason}")))
            }
            Verdict::Refused { code, reason } => {
                let field = serde_json::from_value::<ErrorBody>(answer.clone())
                    .ok()
                    .and_then(|e| e.fields.into_keys().next())
                    .unwrap_or_default();
                Err(ClientError::Validation { field, code, message: reason })
            }
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> ClientResult<T> {
        let (status, answer, _) = self.transport.call("GET", path, Body::None, None).await?;
        Self::expect_ok(status, &answer)?;
        parse(answer, path)
    }

    // ----- volunteers -----

    /// Signs up as a volunteer of a community: a new account (no sign-in needed) that may sign in
    /// at once; the street's coordinator approves or declines.
    pub async fn sign_up(&self, request: &SignUpRequest) -> ClientResult<ApplicationView> {
        let body = serde_json::to_value(request)?;
        let (status, answer, _) =
            self.transport.call("POST", "/api/v1/volunteers/sign-up", Body::Json(&body), None).await?;
        Self::expect_ok(status, &answer)?;
        parse(answer, "sign-up answer")
    }

    /// The signed-in user's sign-ups, newest first, with the decision and its reason.
    pub async fn volunteer_applications(&self) -> ClientResult<Vec<ApplicationView>> {
        let list: ApplicationList = self.get("/api/v1/me/volunteer-applications").await?;
        Ok(list.applications)
    }

    /// The signed-in volunteer's points, hours and service records.
    pub async fn service(&self) -> ClientResult<ServiceSummary> {
        self.get("/api/v1/me/service").await
    }

    // ----- sync -----

    /// Pulls the task changes since the last sync (all open tasks the first time) and the areas
    /// of the user's grants. Events with queued work keep their local copy until it is sent.
    pub async fn sync(&self) -> ClientResult<SyncReport> {
        let mut report = SyncReport::default();
        // Grants change (a sign-up approved, a role revoked): what the phone decides by follows.
        let me: Me = self.get("/api/v1/me").await?;
        self.with_store(|s| s.set_meta("roles", &serde_json::to_string(&me.roles)?))?;
        loop {
            let cursor = self.with_store(|s| s.meta("cursor"))?;
            let path = match &cursor {
                Some(c) => format!("/api/v1/tasks/mine?limit=500&since={c}"),
                None => "/api/v1/tasks/mine?limit=500".to_owned(),
            };
            let page: TaskFeed = self.get(&path).await?;
            let TaskFeed { tasks, cursor: next, more } = page;
            self.with_store(|s| {
                let mut busy = std::collections::HashSet::new();
                for e in s.open_entries()? {
                    if let Some(ev) = e.op.event() {
                        busy.insert(ev.to_owned());
                    }
                }
                s.tx(|tx| {
                    for t in &tasks {
                        if busy.contains(&t.event_id) {
                            continue;
                        }
                        let Some(event) = &t.event else {
                            write::drop_task(tx, &t.event_id)?;
                            continue;
                        };
                        write::put_event(
                            tx,
                            &CachedEvent {
                                id: t.event_id.clone(),
                                data: event.clone(),
                                task_state: Some(t.state.as_str().to_owned()),
                                is_task: t.open,
                                local: false,
                            },
                        )?;
                    }
                    Ok(())
                })?;
                s.set_meta("cursor", &next)?;
                Ok(())
            })?;
            report.changed_tasks += u32::try_from(tasks.len()).unwrap_or(u32::MAX);
            if let Some(l) = self.listener() {
                l.sync_progress(report.changed_tasks, more);
            }
            // A cursor that did not move means "the rest is too fresh; come back later".
            if !more || cursor.as_deref() == Some(next.as_str()) {
                break;
            }
        }
        self.sync_areas().await?;
        let roles: Vec<Role> = self.grants()?.into_iter().map(|g| g.role).collect();
        if roles.contains(&Role::Volunteer) {
            report.pool = self.sync_pool().await?;
        }
        if roles.iter().any(|r| event::VERIFIER_ROLES.contains(r)) {
            report.to_verify = self.sync_list(VERIFY, "/api/v1/verify-queue?limit=200").await?;
        }
        report.open_tasks = u32::try_from(self.tasks()?.iter().filter(|t| t.task_state.is_some()).count()).unwrap_or(0);
        self.tasks_changed();
        Ok(report)
    }

    /// Pulls the community's volunteer pool, nearest first from where the phone last recorded
    /// its position. Kept on the phone, so it can be read and claimed from offline.
    pub async fn sync_pool(&self) -> ClientResult<u32> {
        let near = match self.with_store(|s| s.meta("last_position"))? {
            Some(text) => serde_json::from_str::<LatLng>(&text).ok(),
            None => None,
        };
        let path = match near {
            Some(p) => format!("/api/v1/pool?limit=200&lat={}&lng={}", p.lat, p.lng),
            None => "/api/v1/pool?limit=200".to_owned(),
        };
        self.sync_list(POOL, &path).await
    }

    /// Pulls a list page by page (the server's order) and replaces the phone's copy of it.
    async fn sync_list(&self, list: &str, first: &str) -> ClientResult<u32> {
        let mut items: Vec<(EventView, Option<f64>)> = vec![];
        let mut path = first.to_owned();
        for _ in 0..LIST_MAX_PAGES {
            let next = if list == POOL {
                let page: PoolPage = self.get(&path).await?;
                items.extend(page.events.into_iter().map(|i| (i.event, i.distance_m)));
                page.next
            } else {
                let page: EventPage = self.get(&path).await?;
                items.extend(page.events.into_iter().map(|e| (e, None)));
                page.next
            };
            match next {
                Some(cursor) => path = format!("{first}&cursor={cursor}"),
                None => break,
            }
        }
        self.with_store(|s| {
            let busy: std::collections::HashSet<String> =
                s.open_entries()?.iter().filter_map(|e| e.op.event().map(str::to_owned)).collect();
            s.tx(|tx| write::replace_list(tx, list, &items, &busy))
        })?;
        Ok(u32::try_from(items.len()).unwrap_or(u32::MAX))
    }

    /// The areas of the user's grants (names, levels, outlines), for maps offline.
    async fn sync_areas(&self) -> ClientResult<()> {
        let mut codes: Vec<String> =
            self.grants()?.iter().filter_map(|g| g.scope.area_code().map(|c| c.as_str().to_owned())).collect();
        codes.sort();
        codes.dedup();
        for code in codes {
            let area: AreaDetail = self.get(&format!("/api/v1/areas/{code}")).await?;
            self.with_store(|s| s.put_area(&area))?;
        }
        Ok(())
    }

    pub fn areas(&self) -> ClientResult<Vec<AreaDetail>> {
        self.with_store(|s| s.areas())
    }

    // ----- the local copy -----

    pub fn tasks(&self) -> ClientResult<Vec<TaskView>> {
        self.with_store(|s| {
            let pending = s.pending_by_event()?;
            Ok(s.tasks()?
                .into_iter()
                .map(|e| TaskView::of(&e, pending.get(&e.id).copied().unwrap_or(0), None))
                .collect())
        })
    }

    /// The volunteer pool as last synced, without the events claimed since (here or, as far as
    /// the phone knows, elsewhere): readable offline.
    pub fn pool(&self) -> ClientResult<Vec<TaskView>> {
        self.listed(POOL, |facts, event| event.assignees.is_empty() && facts.is_some_and(EventFacts::in_volunteer_pool))
    }

    /// Resolved events waiting for this verifier, as last synced, without those checked since.
    pub fn verify_queue(&self) -> ClientResult<Vec<TaskView>> {
        self.listed(VERIFY, |_, event| event.state == EventState::Resolved)
    }

    fn listed(
        &self,
        list: &str,
        keep: impl Fn(Option<&EventFacts>, &EventView) -> bool,
    ) -> ClientResult<Vec<TaskView>> {
        let me = self.with_store(|s| s.meta("user_id"))?.unwrap_or_default();
        let (rows, pending) = self.with_store(|s| Ok((s.listed(list)?, s.pending_by_event()?)))?;
        let mut out = vec![];
        for (e, distance_m) in rows {
            let facts = self.facts(&e, &me).ok();
            if !keep(facts.as_ref(), &e.data) {
                continue;
            }
            out.push(TaskView::of(&e, pending.get(&e.id).copied().unwrap_or(0), distance_m));
        }
        Ok(out)
    }

    /// The cached event as the server shows it (with local changes applied).
    pub fn event(&self, id: &str) -> ClientResult<Option<EventView>> {
        self.with_store(|s| Ok(s.event(id)?.map(|e| e.data)))
    }

    fn category(&self, code: &str) -> ClientResult<Category> {
        let catalog: CategoryList = match self.with_store(|s| s.meta("categories"))? {
            Some(text) => serde_json::from_str(&text)?,
            None => CategoryList { categories: vec![] },
        };
        catalog.categories.into_iter().find(|c| c.code == code).ok_or_else(|| ClientError::Validation {
            field: "category".into(),
            code: "unknown_category".into(),
            message: format!("no category {code} (sync to refresh the catalog)"),
        })
    }

    /// The signed-in user's grants, as the server gave them at sign-in.
    fn grants(&self) -> ClientResult<Vec<Grant>> {
        match self.with_store(|s| s.meta("roles"))? {
            Some(text) => Ok(serde_json::from_str(&text)?),
            None => Ok(vec![]),
        }
    }

    fn actor(&self) -> ClientResult<Actor> {
        let user = self.with_store(|s| s.meta("user_id"))?;
        let user_id = user.ok_or_else(|| ClientError::Unauthorized("sign in first".into()))?;
        let roles = self.grants()?.into_iter().map(|g| g.role).collect();
        // The server checks each role's scope over the event's area; locally every granted role
        // counts, so the phone never refuses what the server would allow.
        Ok(Actor { user_id, roles })
    }

    /// The machine's facts from the cached event: the phone knows its own task only.
    fn facts(&self, event: &CachedEvent, me: &str) -> ClientResult<EventFacts> {
        let data = &event.data;
        let category = self.category(&data.category)?;
        let own = event.task_state.as_deref().map(str::parse::<TaskState>).transpose()?;
        Ok(EventFacts {
            state: data.state,
            assignees: data.assignees.clone(),
            resolved_by: data.resolved_by.clone(),
            resolved_parts: data.resolved_parts.clone(),
            after_photo_required: category.after_photo_required,
            volunteer_eligible: category.volunteer_eligible(),
            tasks: own.map(|state| TaskFacts { user_id: me.to_owned(), state }).into_iter().collect(),
            escalation_level: data.escalation_level,
            extension_requested: data.extension_requested,
            emergency: false,
            grade: data.grade,
            late_stages: u32::try_from(data.late_stages).unwrap_or(0),
            // Excusing is the ops centre's, on the server: the phone never needs the count.
            excused_stages: 0,
        })
    }

    // ----- user actions: queued, applied locally at once -----

    /// Reports a problem; `photos` (as taken) go through the photo pipeline here and are
    /// uploaded first. Returns the local id of the new event (`local-…`).
    pub fn report(
        &self,
        category: &str,
        at: (f64, f64),
        description: &str,
        address: Option<&str>,
        photos: &[Vec<u8>],
    ) -> ClientResult<String> {
        let actor = self.actor()?;
        let grade = self.category(category)?.default_grade;
        if description.trim().is_empty() {
            return Err(ClientError::Validation {
                field: "description".into(),
                code: "required".into(),
                message: "describe the problem".into(),
            });
        }
        let source = Source::for_reporter(&actor.roles);
        let processed = photos
            .iter()
            .map(|bytes| photo_entry(bytes, None, EvidenceKind::Before, Some(at)))
            .collect::<ClientResult<Vec<_>>>()?;
        let local_id = format!("{LOCAL_PREFIX}{}", uuid::Uuid::new_v4());
        self.with_store(|s| {
            s.tx(|tx| {
                let mut seqs = vec![];
                for (op, jpeg) in &processed {
                    seqs.push(write::enqueue(tx, op, &[], Some(jpeg))?);
                }
                let op = Op::Report {
                    local_id: local_id.clone(),
                    category: category.to_owned(),
                    lat: at.0,
                    lng: at.1,
                    description: description.to_owned(),
                    address: address.map(str::to_owned),
                    source,
                    photos: seqs.clone(),
                };
                write::enqueue(tx, &op, &seqs, None)?;
                let now = chrono::Utc::now();
                // What the phone knows of its report until the server answers for it.
                let data = EventView {
                    id: local_id.clone(),
                    category: category.to_owned(),
                    grade,
                    state: source.initial_state(),
                    source,
                    description: description.to_owned(),
                    address: address.map(str::to_owned),
                    location: LatLng { lat: at.0, lng: at.1 },
                    areas: EventAreas::default(),
                    assignees: vec![],
                    resolved_by: None,
                    resolved_parts: vec![],
                    due_at: None,
                    overdue: false,
                    warned: false,
                    escalation_level: None,
                    extension_requested: false,
                    suggested_grade: None,
                    late_stages: 0,
                    rework_count: 0,
                    version: 0,
                    created_at: now,
                    updated_at: now,
                };
                write::put_event(
                    tx,
                    &CachedEvent { id: local_id.clone(), data, task_state: None, is_task: false, local: true },
                )
            })
        })?;
        self.after_enqueue();
        Ok(local_id)
    }

    /// Any action on an event, checked by the shared state machine against the local copy and
    /// applied to it at once. A resolve takes its after-photos (as taken) along.
    pub fn act(&self, event_id: &str, action: &Action, photos: &[Vec<u8>], at: Option<(f64, f64)>) -> ClientResult<()> {
        let actor = self.actor()?;
        let cached = self.with_store(|s| s.event(event_id))?.ok_or_else(|| ClientError::Validation {
            field: "event_id".into(),
            code: "unknown_event".into(),
            message: format!("no event {event_id} on this phone (sync first)"),
        })?;
        let facts = self.facts(&cached, &actor.user_id)?;
        let kind = match action {
            Action::Resolve { .. } => EvidenceKind::After,
            Action::Verify | Action::Rework { .. } => EvidenceKind::Verify,
            _ => EvidenceKind::Before,
        };
        let event_at = (cached.data.location.lat, cached.data.location.lng);
        let processed = photos
            .iter()
            .map(|bytes| photo_entry(bytes, Some(event_id), kind, at.or(Some(event_at))))
            .collect::<ClientResult<Vec<_>>>()?;
        // The state machine sees the photos as evidence already; the server gets their ids.
        let local_action = match action {
            Action::Resolve { evidence } if evidence.is_empty() => {
                Action::Resolve { evidence: (0..processed.len()).map(|i| format!("queued-photo-{i}")).collect() }
            }
            other => other.clone(),
        };
        let outcome = event::decide(&facts, &actor, &local_action)?;
        let mut data = cached.data.clone();
        data.state = outcome.facts.state;
        data.assignees.clone_from(&outcome.facts.assignees);
        data.resolved_by.clone_from(&outcome.facts.resolved_by);
        data.resolved_parts.clone_from(&outcome.facts.resolved_parts);
        data.escalation_level = outcome.facts.escalation_level;
        data.extension_requested = outcome.facts.extension_requested;
        // The machine's own answer for this phone's task (the same change the server stores).
        let task_state = outcome
            .facts
            .tasks
            .iter()
            .find(|t| t.user_id == actor.user_id)
            .map(|t| t.state.as_str().to_owned())
            .or_else(|| cached.task_state.clone());
        let wire = ActionRequest {
            action: action.clone(),
            version: None,
            location: at.map(|(lat, lng)| Point { lat, lng, crs: None }),
            departments: vec![],
        };
        self.with_store(|s| {
            s.tx(|tx| {
                let mut seqs = vec![];
                for (op, jpeg) in &processed {
                    seqs.push(write::enqueue(tx, op, &[], Some(jpeg))?);
                }
                let mut deps = seqs.clone();
                deps.extend(report_of(tx, event_id)?);
                write::enqueue(
                    tx,
                    &Op::Action { event: event_id.to_owned(), action: wire.clone(), photos: seqs },
                    &deps,
                    None,
                )?;
                write::put_event(
                    tx,
                    &CachedEvent {
                        id: cached.id.clone(),
                        data: data.clone(),
                        task_state: task_state.clone(),
                        // A claim from the pool makes the event one of this phone's tasks.
                        is_task: task_state.as_deref().is_some_and(is_open_task),
                        local: cached.local,
                    },
                )
            })
        })?;
        self.after_enqueue();
        Ok(())
    }

    /// A photo on its own (a before-photo of an existing event, a verify-photo).
    pub fn add_photo(
        &self,
        event_id: &str,
        kind: EvidenceKind,
        bytes: &[u8],
        at: Option<(f64, f64)>,
    ) -> ClientResult<()> {
        self.actor()?;
        let (op, jpeg) = photo_entry(bytes, Some(event_id), kind, at)?;
        self.with_store(|s| {
            s.tx(|tx| {
                let deps = report_of(tx, event_id)?;
                write::enqueue(tx, &op, &deps, Some(&jpeg)).map(drop)
            })
        })?;
        self.after_enqueue();
        Ok(())
    }

    /// Goes on or off duty (check-in / check-out).
    pub fn set_duty(&self, on_duty: bool) -> ClientResult<()> {
        self.actor()?;
        self.with_store(|s| {
            s.tx(|tx| write::enqueue(tx, &Op::Duty { on_duty, at: Some(chrono::Utc::now()) }, &[], None).map(drop))
        })?;
        self.after_enqueue();
        Ok(())
    }

    /// Records where the phone is; pings wait in batches of up to 100.
    pub fn record_location(&self, lat: f64, lng: f64, accuracy_m: Option<f64>) -> ClientResult<()> {
        self.actor()?;
        let ping = Ping { lat, lng, crs: None, accuracy_m, recorded_at: chrono::Utc::now() };
        self.with_store(|s| {
            // Where the pool is ordered from at the next sync.
            s.set_meta("last_position", &serde_json::to_string(&LatLng { lat, lng })?)?;
            s.tx(|tx| {
                if let Some((seq, Op::Location { mut pings })) = write::open_location_batch(tx)?
                    && pings.len() < 100
                {
                    pings.push(ping.clone());
                    if write::replace(tx, seq, &Op::Location { pings })? {
                        return Ok(());
                    }
                }
                write::enqueue(tx, &Op::Location { pings: vec![ping.clone()] }, &[], None).map(drop)
            })
        })?;
        self.after_enqueue();
        Ok(())
    }

    fn after_enqueue(&self) {
        self.queue_changed();
        self.tasks_changed();
        self.wake.notify_one();
    }

    // ----- the queue -----

    pub fn summary(&self) -> ClientResult<QueueSummary> {
        let (pending, sending, conflicts, _) = self.with_store(|s| s.counts())?;
        Ok(QueueSummary { pending, sending, conflicts })
    }

    pub fn queue(&self) -> ClientResult<Vec<QueuedOp>> {
        self.with_store(|s| {
            Ok(s.open_entries()?
                .into_iter()
                .map(|e| QueuedOp {
                    seq: e.seq,
                    kind: e.op.kind().to_owned(),
                    event_id: e.op.event().map(str::to_owned),
                    state: e.state.clone(),
                    attempts: e.attempts,
                    error_code: e.error.as_ref().map(|f| f.code.clone()),
                    error: e.error.as_ref().map(|f| f.reason.clone()),
                })
                .collect())
        })
    }

    /// Removes a conflict the user has seen.
    pub fn dismiss_conflict(&self, seq: i64) -> ClientResult<bool> {
        let gone = self.with_store(|s| s.dismiss(seq))?;
        self.queue_changed();
        Ok(gone)
    }

    /// Sends what is queued, in order, until the queue is empty or the network fails. With
    /// `respect_backoff`, stops at an entry whose retry time has not come.
    pub async fn flush(&self, respect_backoff: bool) -> ClientResult<FlushReport> {
        let _one_pass = self.sending.lock().await;
        let mut report = FlushReport::default();
        while let Some(entry) = self.with_store(|s| s.head())? {
            if respect_backoff && entry.next_attempt_at > now_ms() {
                report.interrupted = true;
                break;
            }
            if let Some(reason) = self.failed_dependency(&entry)? {
                self.with_store(|s| s.conflict(entry.seq, &Failure::new("dependency_failed", reason)))?;
                report.conflicts += 1;
                self.queue_changed();
                continue;
            }
            self.with_store(|s| s.set_state(entry.seq, "sending"))?;
            self.queue_changed();
            let verdict = match self.send(&entry).await {
                Ok(v) => v,
                Err(ClientError::Network(reason)) => Verdict::Retry { after: None, reason },
                Err(ClientError::Unauthorized(_)) => Verdict::Unauthorized,
                // An entry that cannot even be built (its photo bytes lost …) would block the
                // queue for ever: it becomes a conflict like a refusal.
                Err(e) => Verdict::Refused { code: "local_error".into(), reason: e.to_string() },
            };
            match verdict {
                Verdict::Done(answer) => {
                    self.settle(&entry, &answer)?;
                    report.sent += 1;
                }
                Verdict::Refused { code, reason } => {
                    self.with_store(|s| s.conflict(entry.seq, &Failure::new(code, reason)))?;
                    report.conflicts += 1;
                    // The local copy was optimistic: take the server's again.
                    if let Some(ev) = entry.op.event() {
                        self.refresh_event(ev).await;
                    }
                }
                Verdict::Retry { after, reason } => {
                    let wait = after.unwrap_or_else(|| queue::backoff(entry.attempts, rand::random::<f64>()));
                    let at = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                    self.with_store(|s| s.retry_later(entry.seq, at, &Failure::new("retry", reason)))?;
                    report.interrupted = true;
                    self.queue_changed();
                    break;
                }
                Verdict::Unauthorized => {
                    self.with_store(|s| s.set_state(entry.seq, "pending"))?;
                    self.queue_changed();
                    return Err(ClientError::Unauthorized("the session ended; sign in again".into()));
                }
            }
            self.queue_changed();
        }
        report.remaining = self.summary()?.pending;
        self.with_store(|s| s.prune(now_ms() - 24 * 3600 * 1000))?;
        Ok(report)
    }

    /// A dependency that ended in a conflict makes its dependants fail too.
    fn failed_dependency(&self, entry: &Entry) -> ClientResult<Option<String>> {
        for dep in &entry.depends_on {
            if let Some(d) = self.with_store(|s| s.entry(*dep))?
                && d.state == "conflict"
            {
                return Ok(Some(format!("queued {} #{} was refused", d.op.kind(), d.seq)));
            }
        }
        Ok(None)
    }

    /// The server's id for an event reference (waits on its report being sent).
    fn resolve_event(&self, event: &str) -> ClientResult<String> {
        if !event.starts_with(LOCAL_PREFIX) {
            return Ok(event.to_owned());
        }
        self.with_store(|s| s.server_id(event))?
            .ok_or_else(|| ClientError::Other(format!("the report of {event} has not been sent")))
    }

    fn evidence_ids(&self, photos: &[i64]) -> ClientResult<Vec<String>> {
        photos
            .iter()
            .map(|seq| {
                let e = self.with_store(|s| s.entry(*seq))?;
                e.and_then(|e| e.result)
                    .and_then(|r| serde_json::from_value::<EvidenceView>(r).ok())
                    .map(|v| v.id)
                    .ok_or_else(|| ClientError::Other(format!("photo #{seq} has not been uploaded")))
            })
            .collect()
    }

    async fn send(&self, entry: &Entry) -> ClientResult<Verdict> {
        let key = entry.key.as_str();
        let (status, answer, retry_after) = match &entry.op {
            Op::Report { category, lat, lng, description, address, source, photos, .. } => {
                let body = serde_json::to_value(ReportRequest {
                    category: category.clone(),
                    source: Some(*source),
                    lat: *lat,
                    lng: *lng,
                    crs: None,
                    description: description.clone(),
                    address: address.clone(),
                    grade: None,
                    reporter_location: None,
                    evidence: self.evidence_ids(photos)?,
                })?;
                self.transport.call("POST", "/api/v1/events", Body::Json(&body), Some(key)).await?
            }
            Op::Photo { event, kind, taken_at, at, sha256 } => {
                let jpeg = self
                    .with_store(|s| s.photo(entry.seq))?
                    .ok_or_else(|| ClientError::Storage(format!("the bytes of photo #{} are gone", entry.seq)))?;
                let mut fields = vec![("kind", kind.clone()), ("sha256", sha256.clone())];
                if let Some(ev) = event {
                    fields.push(("event_id", self.resolve_event(ev)?));
                }
                if let Some(t) = taken_at {
                    fields.push(("taken_at", t.clone()));
                }
                if let Some((lat, lng)) = at {
                    fields.push(("lat", lat.to_string()));
                    fields.push(("lng", lng.to_string()));
                }
                self.transport.call("POST", "/api/v1/evidence", Body::Photo { fields, jpeg }, None).await?
            }
            Op::Action { event, action, photos } => {
                let id = self.resolve_event(event)?;
                let mut body = action.clone();
                if let Action::Resolve { evidence } = &mut body.action {
                    *evidence = self.evidence_ids(photos)?;
                }
                let body = serde_json::to_value(&body)?;
                self.transport
                    .call("POST", &format!("/api/v1/events/{id}/actions"), Body::Json(&body), Some(key))
                    .await?
            }
            Op::Location { pings } => {
                let body = serde_json::to_value(LocationBatch { pings: pings.clone() })?;
                self.transport.call("POST", "/api/v1/me/location", Body::Json(&body), None).await?
            }
            Op::Duty { on_duty, at } => {
                let body = serde_json::to_value(DutyRequest { on_duty: *on_duty, at: *at })?;
                self.transport.call("PUT", "/api/v1/me/duty", Body::Json(&body), None).await?
            }
        };
        Ok(queue::judge(status, answer, retry_after))
    }

    /// Records a sent entry and what it taught: the server's id of a report, the event as it now
    /// is (when nothing else about it waits).
    fn settle(&self, entry: &Entry, answer: &Value) -> ClientResult<()> {
        self.with_store(|s| {
            s.done(entry.seq, answer)?;
            match &entry.op {
                Op::Report { local_id, .. } => {
                    let filed: ReportAnswer = parse(answer.clone(), "report answer")?;
                    s.tx(|tx| write::map_id(tx, local_id, &filed.event.id))?;
                    if s.pending_for(local_id)? == 0 {
                        refresh_cached(s, &filed.event)?;
                    }
                }
                Op::Action { event, .. } => {
                    let acted: ActionAnswer = parse(answer.clone(), "action answer")?;
                    if s.pending_for(event)? == 0 {
                        refresh_cached(s, &acted.event)?;
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        self.tasks_changed();
        Ok(())
    }

    async fn refresh_event(&self, event: &str) {
        let Ok(id) = self.resolve_event(event) else { return };
        if let Ok(fresh) = self.get::<EventDetail>(&format!("/api/v1/events/{id}")).await {
            let _ = self.with_store(|s| refresh_cached(s, &fresh.event));
            self.tasks_changed();
        }
    }

    /// Runs the sender in the background: on every new entry, and when the next retry is due.
    /// Call once after `open` (it picks up what an earlier run left).
    pub fn start(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let wait = match me.flush(true).await {
                    Ok(r) if r.remaining == 0 => Duration::from_secs(60),
                    Ok(_) => me.next_due().unwrap_or(Duration::from_secs(1)),
                    Err(ClientError::Unauthorized(_)) => Duration::from_secs(300),
                    Err(_) => Duration::from_secs(5),
                };
                let _ = tokio::time::timeout(wait, me.wake.notified()).await;
            }
        })
    }

    fn next_due(&self) -> Option<Duration> {
        let head = self.with_store(|s| s.head()).ok().flatten()?;
        let ms = (head.next_attempt_at - now_ms()).max(50);
        Some(Duration::from_millis(u64::try_from(ms).unwrap_or(50)))
    }
}

/// A photo as taken, through the evidence pipeline, as a queue entry: taken now, where its GPS
/// says or else at `at`.
fn photo_entry(
    bytes: &[u8],
    event: Option<&str>,
    kind: EvidenceKind,
    at: Option<(f64, f64)>,
) -> ClientResult<(Op, Vec<u8>)> {
    let p = photo::process(bytes, &Limits::default())?;
    let op = Op::Photo {
        event: event.map(str::to_owned),
        kind: kind.as_str().to_owned(),
        taken_at: Some(chrono::Utc::now().to_rfc3339()),
        at: p.capture.gps.or(at),
        sha256: p.sha256,
    };
    Ok((op, p.jpeg))
}

/// Replaces the cached copy with the server's view, keeping whether it is a task.
fn refresh_cached(s: &mut Store, view: &EventView) -> ClientResult<()> {
    let old = s.event(&view.id)?;
    let me = s.meta("user_id")?.unwrap_or_default();
    let mine = view.assignees.contains(&me);
    let task_state = old.as_ref().and_then(|o| o.task_state.clone());
    let is_task = mine && !view.state.is_terminal() && task_state.as_deref().is_none_or(is_open_task);
    s.tx(|tx| {
        write::put_event(
            tx,
            &CachedEvent {
                id: view.id.clone(),
                data: view.clone(),
                task_state: task_state.clone(),
                is_task,
                local: false,
            },
        )
    })
}

/// The report entry that creates a local event, which later entries about it wait for.
fn report_of(tx: &rusqlite::Transaction<'_>, event_id: &str) -> ClientResult<Vec<i64>> {
    if !event_id.starts_with(LOCAL_PREFIX) {
        return Ok(vec![]);
    }
    let seq: Option<i64> = tx
        .query_row(
            "SELECT seq FROM ops WHERE kind = 'report' AND json_extract(body, '$.local_id') = ?1",
            [event_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(seq.into_iter().collect())
}

fn is_open_task(state: &str) -> bool {
    state.parse::<TaskState>().is_ok_and(TaskState::is_open)
}
