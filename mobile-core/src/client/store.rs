//! The phone's own database (SQLite, bundled): the send queue, photo bytes waiting to go, the
//! cached events and tasks, the areas the user needs, and settings. Every queue change is a
//! transaction with `synchronous = FULL`, so what the app was told is queued survives a crash
//! or a flat battery.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{ClientError, ClientResult};
use super::queue::Op;
use crate::wire::{AreaDetail, EventView};

/// Schema migrations, applied in order; `PRAGMA user_version` counts the applied ones.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
     CREATE TABLE ops (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         key TEXT NOT NULL UNIQUE,
         kind TEXT NOT NULL,
         body TEXT NOT NULL,
         depends_on TEXT NOT NULL,
         state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done', 'conflict')),
         attempts INTEGER NOT NULL DEFAULT 0,
         next_attempt_at INTEGER NOT NULL DEFAULT 0,
         result TEXT,
         error TEXT,
         created_at INTEGER NOT NULL
     );
     CREATE INDEX ops_state ON ops(state, seq);
     CREATE TABLE photos (op_seq INTEGER PRIMARY KEY NOT NULL REFERENCES ops(seq), jpeg BLOB NOT NULL);
     CREATE TABLE events (
         id TEXT PRIMARY KEY NOT NULL,
         data TEXT NOT NULL,
         task_state TEXT,
         is_task INTEGER NOT NULL,
         local INTEGER NOT NULL,
         updated_at INTEGER NOT NULL
     );
     CREATE TABLE id_map (local_id TEXT PRIMARY KEY NOT NULL, server_id TEXT NOT NULL);
     CREATE TABLE areas (code TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL);",
    // Cached events became the wire's `EventView`: the server's copies are fetched again (the
    // cursor goes), reports not yet sent get the fields a local event starts with.
    "DELETE FROM events WHERE local = 0;
     DELETE FROM meta WHERE key = 'cursor';
     UPDATE events SET data = json_insert(data,
         '$.grade', 'general', '$.areas', json('{}'), '$.assignees', json('[]'),
         '$.resolved_parts', json('[]'), '$.overdue', json('false'), '$.warned', json('false'),
         '$.late_stages', 0, '$.rework_count', 0, '$.version', 0,
         '$.created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
         '$.updated_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));",
    // Lists of events that are not this phone's tasks: the volunteer pool and the verify queue,
    // each in the server's order (and the pool's distances), replaced whole at every sync.
    "CREATE TABLE listed (
         list TEXT NOT NULL,
         event_id TEXT NOT NULL,
         position INTEGER NOT NULL,
         distance_m REAL,
         PRIMARY KEY (list, event_id)
     );",
];

/// A queue entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub seq: i64,
    pub key: String,
    pub op: Op,
    pub depends_on: Vec<i64>,
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub result: Option<Value>,
    pub error: Option<Failure>,
    pub created_at: i64,
}

/// Why an entry is a conflict, or why its last try failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub code: String,
    pub reason: String,
}

impl Failure {
    pub fn new(code: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { code: code.into(), reason: reason.into() }
    }
}

/// A cached event: the server's view (local changes applied), or a report not sent yet.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedEvent {
    pub id: String,
    pub data: EventView,
    pub task_state: Option<String>,
    pub is_task: bool,
    pub local: bool,
}

#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An `ops` row as read, before its JSON is parsed.
type RawEntry = (i64, String, String, String, String, u32, i64, Option<String>, Option<String>, i64);

fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
    ))
}

const ENTRY_COLUMNS: &str = "seq, key, body, depends_on, state, attempts, next_attempt_at, result, error, created_at";

fn parse_entry(
    (seq, key, body, deps, state, attempts, next_attempt_at, result, error, created_at): RawEntry,
) -> ClientResult<Entry> {
    Ok(Entry {
        seq,
        key,
        op: serde_json::from_str(&body)?,
        depends_on: serde_json::from_str(&deps)?,
        state,
        attempts,
        next_attempt_at,
        result: result.map(|r| serde_json::from_str(&r)).transpose()?,
        error: error.map(|e| serde_json::from_str(&e)).transpose()?,
        created_at,
    })
}

impl Store {
    pub fn open(path: &Path) -> ClientResult<Self> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| ClientError::Storage(format!("{}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(ClientError::Storage(format!(
                "the local database is from a newer app (schema {version}, this one knows {})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        // Whatever was being sent when the process died goes again, with the same key.
        conn.execute("UPDATE ops SET state = 'pending' WHERE state = 'sending'", [])?;
        Ok(Self { conn })
    }

    pub fn tx<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> ClientResult<T>) -> ClientResult<T> {
        let tx = self.conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    pub fn meta(&self, key: &str) -> ClientResult<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> ClientResult<()> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn delete_meta(&self, key: &str) -> ClientResult<()> {
        self.conn.execute("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    pub fn entry(&self, seq: i64) -> ClientResult<Option<Entry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM ops WHERE seq = ?1");
        self.conn.query_row(&sql, [seq], entry).optional()?.map(parse_entry).transpose()
    }

    /// The oldest entry still to send.
    pub fn head(&self) -> ClientResult<Option<Entry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM ops WHERE state = 'pending' ORDER BY seq LIMIT 1");
        self.conn.query_row(&sql, [], entry).optional()?.map(parse_entry).transpose()
    }

    /// Entries not done (pending, sending, conflicts), oldest first.
    pub fn open_entries(&self) -> ClientResult<Vec<Entry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM ops WHERE state != 'done' ORDER BY seq");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], entry)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(parse_entry).collect()
    }

    pub fn photo(&self, seq: i64) -> ClientResult<Option<Vec<u8>>> {
        Ok(self.conn.query_row("SELECT jpeg FROM photos WHERE op_seq = ?1", [seq], |r| r.get(0)).optional()?)
    }

    pub fn set_state(&self, seq: i64, state: &str) -> ClientResult<()> {
        self.conn.execute("UPDATE ops SET state = ?2 WHERE seq = ?1", params![seq, state])?;
        Ok(())
    }

    /// Done: the server's answer is kept (later entries read ids from it); the photo bytes go.
    pub fn done(&mut self, seq: i64, result: &Value) -> ClientResult<()> {
        self.tx(|tx| {
            tx.execute(
                "UPDATE ops SET state = 'done', result = ?2, error = NULL WHERE seq = ?1",
                params![seq, result.to_string()],
            )?;
            tx.execute("DELETE FROM photos WHERE op_seq = ?1", [seq])?;
            Ok(())
        })
    }

    pub fn conflict(&self, seq: i64, error: &Failure) -> ClientResult<()> {
        self.conn.execute(
            "UPDATE ops SET state = 'conflict', error = ?2 WHERE seq = ?1",
            params![seq, serde_json::to_string(error)?],
        )?;
        Ok(())
    }

    pub fn retry_later(&self, seq: i64, at_ms: i64, error: &Failure) -> ClientResult<()> {
        self.conn.execute(
            "UPDATE ops SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?2, error = ?3 WHERE seq = ?1",
            params![seq, at_ms, serde_json::to_string(error)?],
        )?;
        Ok(())
    }

    /// Drops a conflict the user has seen.
    pub fn dismiss(&mut self, seq: i64) -> ClientResult<bool> {
        self.tx(|tx| {
            tx.execute("DELETE FROM photos WHERE op_seq = ?1", [seq])?;
            Ok(tx.execute("DELETE FROM ops WHERE seq = ?1 AND state = 'conflict'", [seq])? == 1)
        })
    }

    /// (pending, sending, conflict, done) counts.
    pub fn counts(&self) -> ClientResult<(u32, u32, u32, u32)> {
        let mut stmt = self.conn.prepare("SELECT state, COUNT(*) FROM ops GROUP BY state")?;
        let mut out = (0, 0, 0, 0);
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))? {
            let (state, n) = row?;
            match state.as_str() {
                "pending" => out.0 = n,
                "sending" => out.1 = n,
                "conflict" => out.2 = n,
                _ => out.3 = n,
            }
        }
        Ok(out)
    }

    /// Forgets sent entries older than `before_ms`: their answers are no longer needed.
    pub fn prune(&self, before_ms: i64) -> ClientResult<usize> {
        Ok(self.conn.execute(
            "DELETE FROM ops WHERE state = 'done' AND created_at < ?1
             AND seq NOT IN (SELECT value FROM ops o2, json_each(o2.depends_on) WHERE o2.state != 'done')",
            [before_ms],
        )?)
    }

    pub fn server_id(&self, local_id: &str) -> ClientResult<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT server_id FROM id_map WHERE local_id = ?1", [local_id], |r| r.get(0))
            .optional()?)
    }

    pub fn event(&self, id: &str) -> ClientResult<Option<CachedEvent>> {
        let row = self
            .conn
            .query_row("SELECT id, data, task_state, is_task, local FROM events WHERE id = ?1", [id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        row.map(|(id, data, task_state, is_task, local)| {
            Ok(CachedEvent { id, data: serde_json::from_str(&data)?, task_state, is_task, local })
        })
        .transpose()
    }

    /// Tasks (open, and finished ones still cached) and this phone's own reports, newest first.
    pub fn tasks(&self) -> ClientResult<Vec<CachedEvent>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, data, task_state, is_task, local FROM events WHERE task_state IS NOT NULL OR local = 1 ORDER BY updated_at DESC",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, data, task_state, is_task, local)| {
                Ok(CachedEvent { id, data: serde_json::from_str(&data)?, task_state, is_task, local })
            })
            .collect()
    }

    /// Entries still to send (not conflicts), counted per event they are about.
    pub fn pending_by_event(&self) -> ClientResult<std::collections::HashMap<String, u32>> {
        let mut counts = std::collections::HashMap::new();
        for e in self.open_entries()? {
            if let (true, Some(event)) = (e.state != "conflict", e.op.event()) {
                *counts.entry(event.to_owned()).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    /// Entries still to send about `event`.
    pub fn pending_for(&self, event: &str) -> ClientResult<u32> {
        Ok(self.pending_by_event()?.get(event).copied().unwrap_or(0))
    }

    /// The events of a list (`pool`, `verify`) in the server's order, with their distances.
    pub fn listed(&self, list: &str) -> ClientResult<Vec<(CachedEvent, Option<f64>)>> {
        let mut stmt = self.conn.prepare(
            "SELECT e.id, e.data, e.task_state, e.is_task, e.local, l.distance_m
             FROM listed l JOIN events e ON e.id = l.event_id WHERE l.list = ?1 ORDER BY l.position",
        )?;
        let rows = stmt
            .query_map([list], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, data, task_state, is_task, local, distance)| {
                Ok((CachedEvent { id, data: serde_json::from_str(&data)?, task_state, is_task, local }, distance))
            })
            .collect()
    }

    pub fn areas(&self) -> ClientResult<Vec<AreaDetail>> {
        let mut stmt = self.conn.prepare("SELECT data FROM areas ORDER BY code")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
    }

    pub fn put_area(&self, area: &AreaDetail) -> ClientResult<()> {
        self.conn.execute(
            "INSERT INTO areas (code, data) VALUES (?1, ?2) ON CONFLICT(code) DO UPDATE SET data = excluded.data",
            params![area.code, serde_json::to_string(area)?],
        )?;
        Ok(())
    }
}

/// Writes inside a transaction.
pub mod write {
    use super::*;

    pub fn enqueue(tx: &Transaction<'_>, op: &Op, depends_on: &[i64], photo: Option<&[u8]>) -> ClientResult<i64> {
        tx.execute(
            "INSERT INTO ops (key, kind, body, depends_on, state, created_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
            params![
                uuid::Uuid::new_v4().to_string(),
                op.kind(),
                serde_json::to_string(op)?,
                serde_json::to_string(depends_on)?,
                now_ms()
            ],
        )?;
        let seq = tx.last_insert_rowid();
        if let Some(jpeg) = photo {
            tx.execute("INSERT INTO photos (op_seq, jpeg) VALUES (?1, ?2)", params![seq, jpeg])?;
        }
        Ok(seq)
    }

    /// Replaces a pending entry's operation (location pings are appended to the waiting batch).
    pub fn replace(tx: &Transaction<'_>, seq: i64, op: &Op) -> ClientResult<bool> {
        Ok(tx.execute(
            "UPDATE ops SET body = ?2 WHERE seq = ?1 AND state = 'pending' AND attempts = 0",
            params![seq, serde_json::to_string(op)?],
        )? == 1)
    }

    /// The newest entry if it is a pending location batch never tried.
    pub fn open_location_batch(tx: &Transaction<'_>) -> ClientResult<Option<(i64, Op)>> {
        let row: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, body FROM ops WHERE seq = (SELECT MAX(seq) FROM ops) AND kind = 'location' AND state = 'pending' AND attempts = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(seq, body)| Ok((seq, serde_json::from_str(&body)?))).transpose()
    }

    pub fn put_event(tx: &Transaction<'_>, e: &CachedEvent) -> ClientResult<()> {
        tx.execute(
            "INSERT INTO events (id, data, task_state, is_task, local, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET data = excluded.data, task_state = excluded.task_state,
                 is_task = excluded.is_task, local = excluded.local, updated_at = excluded.updated_at",
            params![e.id, serde_json::to_string(&e.data)?, e.task_state, e.is_task, e.local, now_ms()],
        )?;
        Ok(())
    }

    /// Replaces a list with the server's (`events` in order). An event's cached copy is
    /// refreshed unless `keep` holds it (queued work waits on the local copy); its task state, if
    /// it is also one of this phone's tasks, stays.
    pub fn replace_list(
        tx: &Transaction<'_>,
        list: &str,
        events: &[(EventView, Option<f64>)],
        keep: &std::collections::HashSet<String>,
    ) -> ClientResult<()> {
        tx.execute("DELETE FROM listed WHERE list = ?1", params![list])?;
        for (position, (event, distance)) in events.iter().enumerate() {
            if !keep.contains(&event.id) {
                tx.execute(
                    "INSERT INTO events (id, data, task_state, is_task, local, updated_at) VALUES (?1, ?2, NULL, 0, 0, ?3)
                     ON CONFLICT(id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                    params![event.id, serde_json::to_string(event)?, now_ms()],
                )?;
            }
            tx.execute(
                "INSERT INTO listed (list, event_id, position, distance_m) VALUES (?1, ?2, ?3, ?4)",
                params![list, event.id, i64::try_from(position).unwrap_or(i64::MAX), distance],
            )?;
        }
        Ok(())
    }

    /// Forgets a task the server took away (withdrawn or returned): its event is no longer ours.
    pub fn drop_task(tx: &Transaction<'_>, id: &str) -> ClientResult<()> {
        tx.execute("DELETE FROM events WHERE id = ?1 AND is_task = 1 AND local = 0", params![id])?;
        Ok(())
    }

    /// The server's id for a reported event: the mapping for waiting entries, and the cached
    /// copy under its new id.
    pub fn map_id(tx: &Transaction<'_>, local_id: &str, server_id: &str) -> ClientResult<()> {
        tx.execute(
            "INSERT OR REPLACE INTO id_map (local_id, server_id) VALUES (?1, ?2)",
            params![local_id, server_id],
        )?;
        tx.execute(
            "DELETE FROM events WHERE id = ?1 AND EXISTS (SELECT 1 FROM events WHERE id = ?2)",
            params![local_id, server_id],
        )?;
        tx.execute("UPDATE events SET id = ?2, local = 0 WHERE id = ?1", params![local_id, server_id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A phone updated with a report still unsent keeps it: the first schema's local event gains
    /// what the wire's `EventView` needs, the server's copies go (sync fetches them again).
    #[test]
    fn the_typed_cache_migration_keeps_unsent_reports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phone.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            let local = r#"{"id":"local-1","category":"E-01-02","state":"accepted","source":"grid_worker",
                "description":"楼道堆物","address":null,"location":{"lat":30.59,"lng":114.3},
                "assignees":[],"resolved_parts":[]}"#;
            conn.execute("INSERT INTO events VALUES ('local-1', ?1, NULL, 0, 1, 1)", [local]).unwrap();
            conn.execute("INSERT INTO events VALUES ('e-1', '{\"id\":\"e-1\"}', 'assigned', 1, 0, 1)", []).unwrap();
            conn.execute("INSERT INTO meta VALUES ('cursor', 'c1')", []).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let kept = store.event("local-1").unwrap().unwrap();
        assert_eq!((kept.data.description.as_str(), kept.data.version, kept.local), ("楼道堆物", 0, true));
        assert_eq!(store.event("e-1").unwrap(), None);
        assert_eq!(store.meta("cursor").unwrap(), None);
    }
}
