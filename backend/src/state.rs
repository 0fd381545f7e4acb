use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::areas::{AreaIndex, SharedIndex};
use crate::config::Settings;
use crate::db::Db;
use crate::evidence::PhotoStore;

/// What every handler can reach. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub index: SharedIndex,
    /// Imports run one at a time, so two never race to swap the index.
    pub import_lock: Arc<tokio::sync::Mutex<()>>,
    /// Wakes live streams when this process changed an event (others' changes are polled).
    pub changes: Arc<tokio::sync::Notify>,
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
    pub fn new(db: Db, settings: Settings, index: AreaIndex) -> anyhow::Result<Self> {
        let photos = PhotoStore::open(&settings.evidence.store)?;
        let slots = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
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

    /// Tells live streams to look for changes now.
    pub fn changed(&self) {
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
        let index = tokio::task::spawn_blocking(move || -> anyhow::Result<AreaIndex> {
            let mut conn = db.get().map_err(|e| anyhow::anyhow!(e.message))?;
            crate::areas::store::build_index(&mut conn)
        })
        .await??;
        tracing::info!(areas = index.len(), memory_bytes = index.memory_bytes(), "area index loaded");
        self.index.store(Arc::new(index));
        Ok(())
    }
}
