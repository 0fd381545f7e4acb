//! What the replicas of one deployment tell each other, so that several `gridwork serve` processes
//! on one PostgreSQL behave as one: a change to who may do what drops every replica's cached
//! sessions and ends streams whose session ended; a change to the catalog, webhook subscriptions
//! or emergencies drops every replica's standing data; an area import (through any replica or the
//! CLI) makes every replica load the new map; an event changed on one replica wakes the live
//! streams of all.
//!
//! PostgreSQL: triggers (migrations 27 and 28) and `queries::cluster` send NOTIFYs on `gridwork_cluster`,
//! delivered at commit to each replica's listener (`listen.rs`); every few seconds each replica
//! also compares the stored generations, so nothing is lost while a listener reconnects.
//! SQLite is one process: its own changes act at once, and the generations are read four times a
//! second to see what the CLI changed beside it.

mod listen;

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::db::Backend;
use crate::queries;
use crate::queries::cluster::Generations;
use crate::state::AppState;

pub use listen::Heard;

/// Whether this process hears every change made elsewhere, for a cache of it: while not, the
/// cache is bypassed, and when hearing resumes it starts empty (what was missed is unknown).
#[derive(Debug, Default)]
pub struct Hearing(std::sync::atomic::AtomicBool);

impl Hearing {
    pub fn new(heard: bool) -> Self {
        Self(std::sync::atomic::AtomicBool::new(heard))
    }

    pub fn now(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Sets whether changes are heard; `forget` empties the cache. Emptied before serving
    /// resumes, and after serving stops: never an entry from the gap.
    pub fn set(&self, heard: bool, forget: impl Fn()) {
        if heard {
            forget();
            self.0.store(true, Ordering::Release);
        } else {
            self.0.store(false, Ordering::Release);
            forget();
        }
    }
}

/// Starts listening (PostgreSQL), publishing this process's event changes (PostgreSQL) and the
/// generation check (both).
pub fn spawn(state: &AppState) {
    let every = match state.db.backend() {
        Backend::Postgres => {
            let (tx, rx) = mpsc::unbounded_channel();
            let url = state.settings.database.url.expose().to_owned();
            let stopping = state.stopping.subscribe();
            let thread = std::thread::Builder::new()
                .name("gridwork-cluster".into())
                .spawn(move || listen::run(&url, &tx, &stopping))
                .map_err(|e| tracing::error!(error = %e, "cannot start the cluster listener"))
                .ok();
            *state.listener.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = thread;
            tokio::spawn(hear(state.clone(), rx));
            tokio::spawn(publish(state.clone()));
            Duration::from_secs(5)
        }
        Backend::Sqlite => Duration::from_millis(250),
    };
    tokio::spawn(check_generations(state.clone(), every));
}

/// Waits (briefly) for the listener to close its connection once the server stopped: a process
/// that exits while another thread still speaks TLS to the database can crash in the TLS
/// library's clean-up.
pub fn finish(state: &AppState) {
    state.stop_streams();
    let taken = state.listener.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    let Some(thread) = taken else { return };
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !thread.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if thread.is_finished() {
        let _ = thread.join();
    }
}

/// What a notice from any replica (this one included) does here.
async fn hear(state: AppState, mut rx: mpsc::UnboundedReceiver<Heard>) {
    while let Some(heard) = rx.recv().await {
        match heard {
            Heard::Connected => {
                hearing(&state, true);
                // Whatever happened while nobody listened: sessions start over, the map is
                // compared, streams look again.
                catch_up_areas(&state).await;
                state.wake_streams();
            }
            Heard::Lost => hearing(&state, false),
            Heard::Notice(payload) => match payload.split_once(':') {
                None if payload == "auth" => auth_changed(&state),
                None if payload == "areas" => catch_up_areas(&state).await,
                None if payload == "standing" => state.db.standing().invalidate(),
                Some(("events", origin)) if origin != &*state.origin => state.wake_streams(),
                Some(("events", _)) => {}
                _ => tracing::warn!(%payload, "unknown cluster notice"),
            },
        }
    }
}

/// Whether this replica hears the others: the caches of what they may change follow it.
fn hearing(state: &AppState, heard: bool) {
    state.sessions.set_synced(heard);
    state.db.standing().set_synced(heard);
}

fn auth_changed(state: &AppState) {
    state.sessions.invalidate();
    // Streams re-check their session at every poll: one that just ended stops now.
    state.wake_streams();
}

/// Tells the other replicas that this one changed events (`AppState::changed`), at most once per
/// `COALESCE`: the notice only wakes streams, which then read what changed.
async fn publish(state: AppState) {
    const COALESCE: Duration = Duration::from_millis(10);
    let payload = format!("events:{}", state.origin);
    loop {
        state.publish.notified().await;
        tokio::time::sleep(COALESCE).await;
        let payload = payload.clone();
        if let Err(e) = state.db.run(move |conn| Ok(queries::cluster::notify(conn, &payload)?)).await {
            tracing::warn!(error = %e.message, "cannot tell the other replicas about a change");
        }
    }
}

/// Compares the stored generations with what this process last saw: the only channel on SQLite
/// (the CLI is another process; every 250 ms) and the safety net on PostgreSQL (every 5 s).
async fn check_generations(state: AppState, every: Duration) {
    let mut seen_auth: Option<i64> = None;
    let mut seen_standing: Option<i64> = None;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let read = state.db.run(|conn| Ok(queries::cluster::generations(conn)?)).await;
        let Generations { auth, areas, standing } = match read {
            Ok(g) => g,
            Err(e) => {
                tracing::debug!(error = %e.message, "cannot read the cluster generations");
                continue;
            }
        };
        if seen_auth.is_some_and(|seen| seen != auth) {
            auth_changed(&state);
        }
        seen_auth = Some(auth);
        if seen_standing.is_some_and(|seen| seen != standing) {
            state.db.standing().invalidate();
        }
        seen_standing = Some(standing);
        if areas > state.areas_generation.load(Ordering::Acquire) {
            catch_up_areas(&state).await;
        }
    }
}

/// Loads the map again if the stored one is newer than the one served (one load at a time: the
/// replica that imported has loaded it already, and hears its own notice).
async fn catch_up_areas(state: &AppState) {
    let _one = state.import_lock.lock().await;
    let stored = match state.db.run(|conn| Ok(queries::cluster::generations(conn)?.areas)).await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e.message, "cannot read the map's generation");
            return;
        }
    };
    if stored > state.areas_generation.load(Ordering::Acquire) {
        tracing::info!(generation = stored, "the map changed elsewhere; loading it");
        if let Err(e) = state.reload_areas().await {
            tracing::warn!(error = %e, "cannot load the changed map");
        }
    }
}
