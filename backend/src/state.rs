use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arc_swap::ArcSwap;

use crate::areas::{AreaIndex, SharedIndex};
use crate::auth::cache::SessionCache;
use crate::config::Settings;
use crate::db::{Backend, Db};
use crate::evidence::PhotoStore;

/// What every handler can reach. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub index: SharedIndex,
    /// Imports run one at a time, so two never race to swap the index.
    pub import_lock: Arc<tokio::sync::Mutex<()>>,
    /// Wakes this process's live streams: an event changed here or on another replica, or a
    /// session ended.
    pub changes: Arc<tokio::sync::Notify>,
    /// Wakes `cluster`'s publisher: tell the other replicas that events changed here.
    pub publish: Arc<tokio::sync::Notify>,
    /// This process among the replicas (its own notices need no answer).
    pub origin: Arc<str>,
    /// The map generation (`cluster_generations`) the served index was built from.
    pub areas_generation: Arc<AtomicI64>,
    /// The cluster listener's thread (PostgreSQL), joined when the server stops.
    pub listener: Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
    /// Signed-in sessions in memory; see `auth::cache`.
    pub sessions: Arc<SessionCache>,
    /// Phones' reports filed together (`events::group_commit`).
    pub group_commit: crate::events::group_commit::GroupCommit,
    /// Where photos are stored.
    pub photos: PhotoStore,
    /// Photos decoded at once: each holds tens of MB while it is processed, so memory stays
    /// bounded however many arrive together.
    pub photo_slots: Arc<tokio::sync::Semaphore>,
    /// Turns true when the server begins to stop: long-lived responses (event streams) end, so
    /// that a graceful stop does not wait out its timeout on them.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// Per-client request counts for the limited endpoints.
    pub limiter: Arc<crate::http::hardening::Limiter>,
    /// Prometheus counters, shared by the HTTP middleware and the background loops.
    pub metrics: crate::http::metrics::Metrics,
}

impl AppState {
    /// `index` as built from the map at `areas_generation`.
    pub fn new(db: Db, settings: Settings, index: AreaIndex, areas_generation: i64) -> anyhow::Result<Self> {
        let photos = PhotoStore::open(&settings.evidence.store)?;
        let slots = std::thread::available_parallelism().map_or(2, usize::from);
        // One SQLite process hears all its own changes; a PostgreSQL replica trusts its cache only
        // once its listener is up.
        let synced = db.backend() == Backend::Sqlite;
        db.standing().start(settings.standing_cache, synced);
        db.roster().start(settings.duty_roster);
        Ok(Self {
            sessions: Arc::new(SessionCache::new(settings.session_cache, db.auth_epoch().clone(), synced)),
            publish: Arc::new(tokio::sync::Notify::new()),
            listener: Arc::default(),
            group_commit: crate::events::group_commit::GroupCommit::default(),
            origin: uuid::Uuid::now_v7().simple().to_string().into(),
            areas_generation: Arc::new(AtomicI64::new(areas_generation)),
            photos,
            photo_slots: Arc::new(tokio::sync::Semaphore::new(slots)),
            db,
            settings: Arc::new(settings),
            index: Arc::new(ArcSwap::from_pointee(index)),
            import_lock: Arc::new(tokio::sync::Mutex::new(())),
            changes: Arc::new(tokio::sync::Notify::new()),
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
            limiter: Arc::new(crate::http::hardening::Limiter::default()),
            metrics: crate::http::metrics::Metrics::new()?,
        })
    }

    /// Ends long-lived responses: the server is stopping.
    pub fn stop_streams(&self) {
        self.stopping.send_replace(true);
    }

    /// Events changed here: this process's live streams look now, and the other replicas are
    /// told.
    pub fn changed(&self) {
        self.wake_streams();
        self.publish.notify_one();
    }

    /// Tells this process's live streams to look now (a change heard from elsewhere).
    pub fn wake_streams(&self) {
        self.changes.notify_waiters();
    }

    /// The current area map: the tree scope checks resolve against and the lookup index. A
    /// snapshot: an import that lands meanwhile does not change it under the caller.
    pub fn areas(&self) -> Arc<AreaIndex> {
        self.index.load_full()
    }

    /// Rebuilds the index from the database and swaps it in atomically.
    pub async fn reload_areas(&self) -> anyhow::Result<()> {
        let db = self.db.clone();
        let (generation, index) = tokio::task::spawn_blocking(move || {
            let mut conn = db.get().map_err(|e| anyhow::anyhow!(e.message))?;
            crate::areas::store::load_index(&mut conn)
        })
        .await??;
        tracing::info!(areas = index.len(), memory_bytes = index.memory_bytes(), generation, "area index loaded");
        self.index.store(Arc::new(index));
        self.areas_generation.fetch_max(generation, Ordering::AcqRel);
        Ok(())
    }
}
