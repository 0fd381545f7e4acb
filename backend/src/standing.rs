//! Standing data: what intake and every state change read and what rarely changes — the category
//! catalog, the active webhook subscriptions, the running emergencies — kept whole in memory, so a
//! report does not ask the database three questions whose answers change a few times a day.
//!
//! Safe the way the session cache is (`auth::cache`): what was read counts only while the epoch it
//! was read at is current, and the epoch moves after every committed change — at once for this
//! process's own (`db::changed(Topic::Standing)`, said by the queries that write these tables),
//! within milliseconds for another replica's or the CLI's (`cluster`: the triggers of migration 28
//! notify `standing`; on SQLite the generation is read four times a second). While a replica cannot
//! hear the others, and inside work that itself changed these tables, the database is asked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use diesel::QueryResult;

use crate::cluster::Hearing;
use crate::db::{DbConn, Topic};
use crate::models::category::CategoryRow;
use crate::models::emergency::EmergencyRow;
use crate::models::webhook::SubscriptionRow;
use crate::queries;

/// However quiet the cluster, what was read is read again after this long (a last line of
/// defence should a change ever go unheard).
const MAX_AGE: Duration = Duration::from_secs(10);

/// The three tables as read at one moment.
#[derive(Debug)]
pub struct StandingData {
    categories: HashMap<String, CategoryRow>,
    subscriptions: Vec<SubscriptionRow>,
    emergencies: Vec<EmergencyRow>,
}

impl StandingData {
    fn read(conn: &mut DbConn) -> QueryResult<Self> {
        Ok(Self {
            categories: queries::categories::all(conn)?.into_iter().map(|c| (c.code.clone(), c)).collect(),
            subscriptions: queries::webhooks::active(conn)?,
            emergencies: queries::emergency::running(conn)?,
        })
    }
}

#[derive(Debug)]
struct Held {
    epoch: u64,
    read_at: Instant,
    data: Arc<StandingData>,
}

/// One per pool (`Db::standing`); `Db::run` lends it to the work it runs.
#[derive(Debug, Default)]
pub struct Standing {
    /// Off until a server switches it on (`--standing-cache`); a CLI process always asks.
    enabled: AtomicBool,
    /// Whether this process hears every change made elsewhere.
    synced: Hearing,
    epoch: AtomicU64,
    held: RwLock<Option<Held>>,
}

impl Standing {
    pub fn new() -> Self {
        Self::default()
    }

    /// A server's choice: keep the standing data (`enabled`), and whether other processes'
    /// changes are heard from the start (SQLite: yes; PostgreSQL: once the listener is up).
    pub fn start(&self, enabled: bool, synced: bool) {
        self.enabled.store(enabled, Ordering::Release);
        self.set_synced(synced);
    }

    fn usable(&self) -> bool {
        self.enabled.load(Ordering::Acquire) && self.synced.now()
    }

    /// Someone somewhere changed the standing data: nothing read so far counts.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        *self.held.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Whether other processes' changes are heard (see `cluster::Hearing`).
    pub fn set_synced(&self, synced: bool) {
        self.synced.set(synced, || self.invalidate());
    }

    /// What is kept, if it is current; else it is read now (and kept, unless a change landed
    /// meanwhile). `None` when the cache may not be used: the caller asks the database itself.
    fn current(&self, conn: &mut DbConn) -> QueryResult<Option<Arc<StandingData>>> {
        if !self.usable() {
            return Ok(None);
        }
        // Read before the tables, so a change that lands meanwhile makes the copy stale at once.
        let epoch = self.epoch.load(Ordering::Acquire);
        {
            let held = self.held.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(h) = held.as_ref().filter(|h| h.epoch == epoch && h.read_at.elapsed() < MAX_AGE) {
                return Ok(Some(h.data.clone()));
            }
        }
        let data = Arc::new(StandingData::read(conn)?);
        let mut held = self.held.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.usable() && epoch == self.epoch.load(Ordering::Acquire) {
            *held = Some(Held { epoch, read_at: Instant::now(), data: data.clone() });
        }
        Ok(Some(data))
    }
}

/// The standing data for work on `conn`, if it may come from memory.
fn kept(conn: &mut DbConn) -> QueryResult<Option<Arc<StandingData>>> {
    match crate::db::standing() {
        // Work that changed the tables itself reads its own (uncommitted) rows.
        Some(s) if !crate::db::changed_here(Topic::Standing) => s.current(conn),
        _ => Ok(None),
    }
}

/// The category of this code, active or not.
pub fn category(conn: &mut DbConn, code: &str) -> QueryResult<Option<CategoryRow>> {
    match kept(conn)? {
        Some(d) => Ok(d.categories.get(code).cloned()),
        None => queries::categories::by_code(conn, code),
    }
}

/// The webhook subscriptions not disabled.
pub fn subscriptions(conn: &mut DbConn) -> QueryResult<Vec<SubscriptionRow>> {
    match kept(conn)? {
        Some(d) => Ok(d.subscriptions.clone()),
        None => queries::webhooks::active(conn),
    }
}

/// Running emergencies declared on one of these areas.
pub fn emergencies_on(conn: &mut DbConn, areas: &[String]) -> QueryResult<Vec<EmergencyRow>> {
    match kept(conn)? {
        Some(d) => Ok(d.emergencies.iter().filter(|e| areas.contains(&e.area_code)).cloned().collect()),
        None => queries::emergency::running_on(conn, areas),
    }
}
