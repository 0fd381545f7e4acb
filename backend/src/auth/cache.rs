//! Signed-in sessions kept in memory, so an authenticated request does not ask the database who
//! is calling. What makes it safe is the epoch: an entry counts only while the epoch it was read
//! at is current, and the epoch moves after every committed change to who may do what — at once
//! for this process's own changes (`db::changed`), within milliseconds for another replica's
//! or the CLI's (`cluster`: PostgreSQL's NOTIFY from the triggers of migration 27; on SQLite the
//! generation read four times a second). While a replica cannot hear the others (its listener is
//! reconnecting) the cache stands aside and every request reads the database, as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::Caller;
use crate::cluster::Hearing;

/// However quiet the cluster, an entry is read again after this long (a last line of defence
/// should a change ever go unheard).
const MAX_AGE: Duration = Duration::from_secs(60);

/// More live sessions than this and the cache starts over rather than grow without bound.
const CAPACITY: usize = 200_000;

#[derive(Debug)]
struct Entry {
    caller: Caller,
    epoch: u64,
    expires_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    read_at: Instant,
}

#[derive(Debug)]
pub struct SessionCache {
    /// Off by setting (`--session-cache false`): every request reads the database.
    enabled: bool,
    epoch: Arc<AtomicU64>,
    /// Whether this replica hears every change made elsewhere; without that, nothing is served
    /// from memory.
    synced: Hearing,
    entries: RwLock<HashMap<String, Entry>>,
}

/// A session as read from the database, to keep.
#[derive(Debug)]
pub struct Fresh {
    pub caller: Caller,
    pub expires_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
}

impl SessionCache {
    /// `epoch` is the pool's (`Db::auth_epoch`); `synced` is whether other processes' changes
    /// are heard from the start (SQLite: yes, one process; PostgreSQL: once the listener is up).
    pub fn new(enabled: bool, epoch: Arc<AtomicU64>, synced: bool) -> Self {
        Self { enabled, epoch, synced: Hearing::new(synced), entries: RwLock::new(HashMap::new()) }
    }

    fn usable(&self) -> bool {
        self.enabled && self.synced.now()
    }

    /// The epoch to stamp on what is about to be read from the database: read it *before* the
    /// read, so a change that lands meanwhile makes the entry stale at once.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// The caller of a token (by its hash) if a current entry says so. `None` sends the request to
    /// the database — also when its `last_used_at` is due to be stamped again (`touch_every`).
    pub fn get(&self, token_hash: &str, now: NaiveDateTime, touch_every: chrono::Duration) -> Option<Caller> {
        if !self.usable() {
            return None;
        }
        let epoch = self.epoch();
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = entries.get(token_hash)?;
        let current = e.epoch == epoch
            && e.expires_at > now
            && now - e.last_used_at < touch_every
            && e.read_at.elapsed() < MAX_AGE;
        current.then(|| e.caller.clone())
    }

    /// Keeps what was read at `epoch` (ignored if the epoch has moved since, or while unsynced).
    pub fn put(&self, token_hash: String, fresh: Fresh, epoch: u64) {
        if !self.usable() || epoch != self.epoch() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            token_hash,
            Entry {
                caller: fresh.caller,
                epoch,
                expires_at: fresh.expires_at,
                last_used_at: fresh.last_used_at,
                read_at: Instant::now(),
            },
        );
    }

    /// Someone somewhere changed who may do what: nothing kept so far counts.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// Whether other processes' changes are heard (see `cluster::Hearing`).
    pub fn set_synced(&self, synced: bool) {
        self.synced.set(synced, || self.invalidate());
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::user::User;

    fn caller(name: &str) -> Caller {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("date");
        Caller {
            user: User {
                id: name.into(),
                username: name.into(),
                display_name: name.into(),
                phone: None,
                password_hash: String::new(),
                is_active: true,
                created_at: t,
                updated_at: t,
                erased_at: None,
            },
            session_id: format!("s-{name}"),
            grants: vec![],
        }
    }

    fn fresh(name: &str, now: NaiveDateTime) -> Fresh {
        Fresh { caller: caller(name), expires_at: now + chrono::Duration::hours(1), last_used_at: now }
    }

    const TOUCH: chrono::Duration = chrono::Duration::seconds(60);

    #[test]
    fn serves_what_was_read_at_the_current_epoch_only() {
        let now = crate::models::now();
        let cache = SessionCache::new(true, Arc::new(AtomicU64::new(0)), true);
        let e = cache.epoch();
        cache.put("a".into(), fresh("a", now), e);
        assert_eq!(cache.get("a", now, TOUCH).map(|c| c.user.id), Some("a".into()));
        assert!(cache.get("b", now, TOUCH).is_none());

        // A change lands while a request is reading: what it read is not kept.
        let before = cache.epoch();
        cache.invalidate();
        cache.put("b".into(), fresh("b", now), before);
        assert!(cache.get("a", now, TOUCH).is_none() && cache.get("b", now, TOUCH).is_none());
    }

    #[test]
    fn a_commit_elsewhere_in_the_process_moves_the_shared_epoch() {
        let now = crate::models::now();
        let epoch = Arc::new(AtomicU64::new(0));
        let cache = SessionCache::new(true, epoch.clone(), true);
        cache.put("a".into(), fresh("a", now), cache.epoch());
        epoch.fetch_add(1, Ordering::AcqRel);
        assert!(cache.get("a", now, TOUCH).is_none());
    }

    #[test]
    fn expiry_touch_and_deafness_send_requests_to_the_database() {
        let now = crate::models::now();
        let cache = SessionCache::new(true, Arc::new(AtomicU64::new(0)), true);
        cache.put("a".into(), fresh("a", now), cache.epoch());
        assert!(cache.get("a", now + chrono::Duration::hours(2), TOUCH).is_none(), "expired");
        assert!(cache.get("a", now + chrono::Duration::seconds(61), TOUCH).is_none(), "due to be stamped");

        cache.set_synced(false);
        assert!(cache.get("a", now, TOUCH).is_none());
        cache.put("a".into(), fresh("a", now), cache.epoch());
        assert!(cache.is_empty(), "nothing kept while deaf");
        cache.set_synced(true);
        cache.put("a".into(), fresh("a", now), cache.epoch());
        assert!(cache.get("a", now, TOUCH).is_some());

        let off = SessionCache::new(false, Arc::new(AtomicU64::new(0)), true);
        off.put("a".into(), fresh("a", now), off.epoch());
        assert!(off.get("a", now, TOUCH).is_none() && off.is_empty());
    }
}
