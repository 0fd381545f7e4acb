//! The field client for phone apps: a thin wrapper over `gridwork_mobile_core::client`. Async
//! methods run on tokio; the listener is a foreign trait the app implements.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gridwork_mobile_core::client::{self as core, ClientConfig};
use gridwork_mobile_core::domain::event::{Action, EvidenceKind};
use gridwork_mobile_core::wire::SignUpRequest;

use crate::GridworkError;

#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct GeoPoint {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct QueueSummary {
    pub pending: u32,
    pub sending: u32,
    pub conflicts: u32,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct QueuedOp {
    pub seq: i64,
    pub kind: String,
    pub event_id: Option<String>,
    pub state: String,
    pub attempts: u32,
    pub error_code: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct FieldTask {
    pub event_id: String,
    pub task_state: Option<String>,
    pub event_state: String,
    pub category: String,
    pub description: String,
    pub location: GeoPoint,
    pub due_at: Option<String>,
    pub local_only: bool,
    pub pending_ops: u32,
    /// Pool events: metres from where the phone last was when it synced.
    pub distance_m: Option<f64>,
}

impl From<core::TaskView> for FieldTask {
    fn from(t: core::TaskView) -> Self {
        Self {
            event_id: t.event_id,
            task_state: t.task_state,
            event_state: t.event_state,
            category: t.category,
            description: t.description,
            location: GeoPoint { lat: t.lat, lng: t.lng },
            due_at: t.due_at,
            local_only: t.local_only,
            pending_ops: t.pending_ops,
            distance_m: t.distance_m,
        }
    }
}

/// An event as the phone holds it (the server's view with local changes applied). States,
/// grades and sources are the glossary's identifiers (`dispatched`, `serious`, `grid_worker`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct FieldEvent {
    pub id: String,
    pub category: String,
    pub grade: String,
    pub state: String,
    pub source: String,
    pub description: String,
    pub address: Option<String>,
    pub location: GeoPoint,
    /// The codes of the areas it lies in, city first (the deeper ones may be missing).
    pub area_chain: Vec<String>,
    /// The handlers it is given to, the lead first.
    pub assignees: Vec<String>,
    pub resolved_parts: Vec<String>,
    /// RFC 3339.
    pub due_at: Option<String>,
    pub overdue: bool,
    pub escalation_level: Option<String>,
    /// This phone's handler asked for more time; the ops centre has not answered yet.
    pub extension_requested: bool,
    pub version: i32,
}

impl From<gridwork_mobile_core::wire::EventView> for FieldEvent {
    fn from(e: gridwork_mobile_core::wire::EventView) -> Self {
        let a = e.areas;
        Self {
            id: e.id,
            category: e.category,
            grade: e.grade.as_str().to_owned(),
            state: e.state.as_str().to_owned(),
            source: e.source.as_str().to_owned(),
            description: e.description,
            address: e.address,
            location: GeoPoint { lat: e.location.lat, lng: e.location.lng },
            area_chain: [a.city, a.district, a.street, a.community, a.grid, a.compound, a.building]
                .into_iter()
                .flatten()
                .collect(),
            assignees: e.assignees,
            resolved_parts: e.resolved_parts,
            due_at: e.due_at.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            overdue: e.overdue,
            escalation_level: e.escalation_level.map(|l| l.as_str().to_owned()),
            extension_requested: e.extension_requested,
            version: e.version,
        }
    }
}

/// A volunteer sign-up: `pending`, `approved` or `declined` (with the coordinator's reason).
#[derive(Debug, Clone, uniffi::Record)]
pub struct VolunteerApplication {
    pub id: String,
    pub state: String,
    pub community_code: String,
    pub community_name: Option<String>,
    pub reason: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<gridwork_mobile_core::wire::ApplicationView> for VolunteerApplication {
    fn from(a: gridwork_mobile_core::wire::ApplicationView) -> Self {
        Self {
            id: a.id,
            state: a.state.as_str().to_owned(),
            community_code: a.community_code,
            community_name: a.community_name,
            reason: a.reason,
            created_at: a.created_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        }
    }
}

/// A volunteer's points (积分) and service hours from verified, closed tasks.
#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct VolunteerService {
    pub points: i64,
    pub hours: f64,
    pub tasks: i64,
}

#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct FlushReport {
    pub sent: u32,
    pub conflicts: u32,
    pub remaining: u32,
    pub interrupted: bool,
}

#[derive(Debug, Clone, Copy, uniffi::Record)]
pub struct SyncReport {
    pub changed_tasks: u32,
    pub open_tasks: u32,
    /// Events in the volunteer pool (volunteers) and the verify queue (verifiers).
    pub pool: u32,
    pub to_verify: u32,
}

/// What the UI hears: queue state, task list changes, sync progress.
#[uniffi::export(with_foreign)]
pub trait FieldListener: Send + Sync {
    fn queue_changed(&self, summary: QueueSummary);
    fn tasks_changed(&self);
    fn sync_progress(&self, received: u32, more: bool);
}

struct Bridge(Arc<dyn FieldListener>);

impl core::FieldListener for Bridge {
    fn queue_changed(&self, s: core::QueueSummary) {
        self.0.queue_changed(QueueSummary { pending: s.pending, sending: s.sending, conflicts: s.conflicts });
    }
    fn tasks_changed(&self) {
        self.0.tasks_changed();
    }
    fn sync_progress(&self, received: u32, more: bool) {
        self.0.sync_progress(received, more);
    }
}

#[derive(uniffi::Object)]
pub struct FieldClient {
    inner: Arc<core::FieldClient>,
    sender: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for FieldClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

fn point(p: Option<GeoPoint>) -> Option<(f64, f64)> {
    p.map(|p| (p.lat, p.lng))
}

impl FieldClient {
    fn act(
        &self,
        event_id: &str,
        action: &Action,
        photos: &[Vec<u8>],
        at: Option<GeoPoint>,
    ) -> Result<(), GridworkError> {
        Ok(self.inner.act(event_id, action, photos, point(at))?)
    }
}

// UniFFI hands strings and byte arrays over by value.
#[allow(clippy::needless_pass_by_value)]
#[uniffi::export(async_runtime = "tokio")]
impl FieldClient {
    /// Opens the client's database at `database_path` (created if missing); queued work left by
    /// an earlier run is picked up.
    #[uniffi::constructor]
    pub fn new(server_url: String, database_path: String, timeout_ms: u64) -> Result<Arc<Self>, GridworkError> {
        let config = ClientConfig {
            server_url,
            database_path: database_path.into(),
            timeout: Duration::from_millis(timeout_ms.max(100)),
        };
        Ok(Arc::new(Self { inner: Arc::new(core::FieldClient::open(&config)?), sender: Mutex::new(None) }))
    }

    pub fn set_listener(&self, listener: Option<Arc<dyn FieldListener>>) {
        self.inner.set_listener(listener.map(|l| Arc::new(Bridge(l)) as Arc<dyn core::FieldListener>));
    }

    pub async fn sign_in(&self, username: String, password: String) -> Result<String, GridworkError> {
        Ok(self.inner.sign_in(&username, &password).await?)
    }

    pub async fn register_device(
        &self,
        fcm_token: String,
        platform: String,
        app_version: String,
    ) -> Result<(), GridworkError> {
        Ok(self.inner.register_device(&fcm_token, &platform, &app_version).await?)
    }

    pub async fn sync(&self) -> Result<SyncReport, GridworkError> {
        let r = self.inner.sync().await?;
        Ok(SyncReport {
            changed_tasks: r.changed_tasks,
            open_tasks: r.open_tasks,
            pool: r.pool,
            to_verify: r.to_verify,
        })
    }

    /// Signs up as a volunteer of `community` (a community's code): a new account that may sign
    /// in at once and holds no role until the street's coordinator approves.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_up(
        &self,
        username: String,
        password: String,
        display_name: String,
        phone: String,
        community: String,
        note: String,
    ) -> Result<VolunteerApplication, GridworkError> {
        let request = SignUpRequest { username, password, display_name, phone, community, note };
        Ok(self.inner.sign_up(&request).await?.into())
    }

    /// The signed-in user's sign-ups, newest first.
    pub async fn volunteer_applications(&self) -> Result<Vec<VolunteerApplication>, GridworkError> {
        Ok(self.inner.volunteer_applications().await?.into_iter().map(VolunteerApplication::from).collect())
    }

    /// The signed-in volunteer's points and hours.
    pub async fn service(&self) -> Result<VolunteerService, GridworkError> {
        let s = self.inner.service().await?;
        Ok(VolunteerService { points: s.points, hours: s.hours, tasks: s.tasks })
    }

    /// Pulls the volunteer pool again (nearest first from the last recorded position).
    pub async fn sync_pool(&self) -> Result<u32, GridworkError> {
        Ok(self.inner.sync_pool().await?)
    }

    /// Sends what is queued now, ignoring backoff (the user pulled to refresh).
    pub async fn flush(&self) -> Result<FlushReport, GridworkError> {
        let r = self.inner.flush(false).await?;
        Ok(FlushReport { sent: r.sent, conflicts: r.conflicts, remaining: r.remaining, interrupted: r.interrupted })
    }

    /// Starts the background sender (idempotent): it sends whenever something is queued and
    /// retries with backoff.
    pub async fn start_sending(&self) {
        if let Ok(mut s) = self.sender.lock()
            && s.is_none()
        {
            *s = Some(self.inner.start());
        }
    }

    pub async fn stop_sending(&self) {
        if let Ok(mut s) = self.sender.lock()
            && let Some(h) = s.take()
        {
            h.abort();
        }
    }

    pub fn tasks(&self) -> Result<Vec<FieldTask>, GridworkError> {
        Ok(self.inner.tasks()?.into_iter().map(FieldTask::from).collect())
    }

    /// The volunteer pool as last synced (offline too), nearest first; claim with `claim`.
    pub fn pool(&self) -> Result<Vec<FieldTask>, GridworkError> {
        Ok(self.inner.pool()?.into_iter().map(FieldTask::from).collect())
    }

    /// Resolved events waiting for this verifier, as last synced (offline too), due soonest
    /// first; check with `verify` or `rework`.
    pub fn verify_queue(&self) -> Result<Vec<FieldTask>, GridworkError> {
        Ok(self.inner.verify_queue()?.into_iter().map(FieldTask::from).collect())
    }

    /// The cached event (the server's view, local changes applied).
    pub fn event(&self, event_id: String) -> Result<Option<FieldEvent>, GridworkError> {
        Ok(self.inner.event(&event_id)?.map(FieldEvent::from))
    }

    pub fn claim(&self, event_id: String) -> Result<(), GridworkError> {
        self.act(&event_id, &Action::Claim, &[], None)
    }

    pub fn start_work(&self, event_id: String) -> Result<(), GridworkError> {
        self.act(&event_id, &Action::Start, &[], None)
    }

    pub fn return_task(&self, event_id: String, reason: String) -> Result<(), GridworkError> {
        self.act(&event_id, &Action::Return { reason }, &[], None)
    }

    /// Resolves with after-photos as taken (they go through the photo pipeline here).
    pub fn resolve(&self, event_id: String, photos: Vec<Vec<u8>>, at: Option<GeoPoint>) -> Result<(), GridworkError> {
        self.act(&event_id, &Action::Resolve { evidence: vec![] }, &photos, at)
    }

    pub fn verify(&self, event_id: String, photos: Vec<Vec<u8>>, at: Option<GeoPoint>) -> Result<(), GridworkError> {
        self.act(&event_id, &Action::Verify, &photos, at)
    }

    /// Sends the work back, with verify-photos of what is still wrong.
    pub fn rework(
        &self,
        event_id: String,
        reason: String,
        photos: Vec<Vec<u8>>,
        at: Option<GeoPoint>,
    ) -> Result<(), GridworkError> {
        self.act(&event_id, &Action::Rework { reason }, &photos, at)
    }

    /// A photo of an event on its own: `kind` is `before`, `after` or `verify`.
    pub fn add_photo(
        &self,
        event_id: String,
        kind: String,
        photo: Vec<u8>,
        at: Option<GeoPoint>,
    ) -> Result<(), GridworkError> {
        let kind: EvidenceKind = kind.parse()?;
        Ok(self.inner.add_photo(&event_id, kind, &photo, point(at))?)
    }

    /// Reports a problem; returns the local id it has until the server's is known.
    pub fn report(
        &self,
        category: String,
        at: GeoPoint,
        description: String,
        address: Option<String>,
        photos: Vec<Vec<u8>>,
    ) -> Result<String, GridworkError> {
        Ok(self.inner.report(&category, (at.lat, at.lng), &description, address.as_deref(), &photos)?)
    }

    pub fn set_duty(&self, on_duty: bool) -> Result<(), GridworkError> {
        Ok(self.inner.set_duty(on_duty)?)
    }

    pub fn record_location(&self, at: GeoPoint, accuracy_m: Option<f64>) -> Result<(), GridworkError> {
        Ok(self.inner.record_location(at.lat, at.lng, accuracy_m)?)
    }

    pub fn summary(&self) -> Result<QueueSummary, GridworkError> {
        let s = self.inner.summary()?;
        Ok(QueueSummary { pending: s.pending, sending: s.sending, conflicts: s.conflicts })
    }

    pub fn queue(&self) -> Result<Vec<QueuedOp>, GridworkError> {
        Ok(self
            .inner
            .queue()?
            .into_iter()
            .map(|o| QueuedOp {
                seq: o.seq,
                kind: o.kind,
                event_id: o.event_id,
                state: o.state,
                attempts: o.attempts,
                error_code: o.error_code,
                error: o.error,
            })
            .collect())
    }

    pub fn dismiss_conflict(&self, seq: i64) -> Result<bool, GridworkError> {
        Ok(self.inner.dismiss_conflict(seq)?)
    }
}
