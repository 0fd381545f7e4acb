use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};

use crate::error::ApiError;

/// Either backend behind one connection type; queries written once against `schema.rs` run on both.
// diesel's connections have no `Debug`.
#[allow(missing_debug_implementations)]
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<Manager>;
pub type PooledDbConn = PooledConnection<Manager>;

/// Opens connections of the backend the URL names. (diesel's own manager for a
/// `MultiConnection` tries each backend in turn and reports only the last failure, so a refused
/// certificate would read "invalid connection url".)
#[derive(Debug)]
pub struct Manager {
    url: DbUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        let raw = self.url.expose();
        match self.url.backend() {
            Backend::Postgres => diesel::PgConnection::establish(raw).map(DbConn::Postgres),
            Backend::Sqlite => diesel::SqliteConnection::establish(raw).map(DbConn::Sqlite),
        }
        .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL whose backend is known. `Debug`/`Display` hide any password in it.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    raw: String,
    backend: Backend,
    /// Set by `with_tls` for PostgreSQL.
    protection: Option<super::tls::Protection>,
}

impl DbUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let backend = if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Backend::Postgres
        } else if raw.starts_with("sqlite://") || raw.starts_with("file:") || !raw.contains("://") {
            Backend::Sqlite
        } else {
            return Err(format!(
                "unsupported database URL scheme in {}: use postgres://… or a SQLite file path",
                redact(raw)
            ));
        };
        let raw = raw.strip_prefix("sqlite://").unwrap_or(raw).to_owned();
        Ok(Self { raw, backend, protection: None })
    }

    pub fn sqlite_file(path: &Path) -> Self {
        Self { raw: path.to_string_lossy().into_owned(), backend: Backend::Sqlite, protection: None }
    }

    /// PostgreSQL with Gridwork's TLS defaults (`db::tls`); a SQLite file is local and takes no
    /// CA file.
    pub fn with_tls(self, ca_file: Option<&Path>) -> Result<Self, String> {
        match self.backend {
            Backend::Sqlite if ca_file.is_some() => {
                Err("database_ca_file is for PostgreSQL; this database is a SQLite file".to_owned())
            }
            Backend::Sqlite => Ok(self),
            Backend::Postgres => {
                let (raw, protection) = super::tls::secure(&self.raw, ca_file)?;
                Ok(Self { raw, backend: self.backend, protection: Some(protection) })
            }
        }
    }

    /// How a PostgreSQL connection is protected (after `with_tls`).
    pub fn protection(&self) -> Option<super::tls::Protection> {
        self.protection
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn expose(&self) -> &str {
        &self.raw
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
pub fn redact(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else { return raw.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return raw.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => raw.to_owned(),
    }
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbUrl({})", redact(&self.raw))
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

/// SQLite needs per-connection settings: WAL lets readers run beside the writer, busy_timeout
/// makes writers queue instead of failing with SQLITE_BUSY, and foreign keys are off by default.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            c.batch_execute(
                // busy_timeout first: switching to WAL takes a lock, and must wait for it too.
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// The pool plus what handlers need to use it without blocking the async executor.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    backend: Backend,
    auth_epoch: Arc<AtomicU64>,
    standing: Arc<crate::standing::Standing>,
    roster: Arc<crate::roster::Roster>,
}

/// What a change can make stale in memory; each has its own epoch (`Db::auth_epoch`, the
/// standing data's) and its own cluster generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Who may do what: sessions, accounts, grants (`auth::cache`).
    Auth,
    /// What intake reads for every report and rarely changes: the catalog, webhook subscriptions,
    /// running emergencies (`standing`).
    Standing,
}

impl Topic {
    const fn bit(self) -> u8 {
        match self {
            Self::Auth => 1,
            Self::Standing => 2,
        }
    }
}

thread_local! {
    /// The topics the work running on this thread (inside `Db::run`) changed so far.
    static CHANGED: Cell<u8> = const { Cell::new(0) };
    /// The standing data of the pool whose work runs on this thread (inside `Db::run`).
    static STANDING: std::cell::RefCell<Option<Arc<crate::standing::Standing>>> = const { std::cell::RefCell::new(None) };
    /// The duty roster of that pool.
    static ROSTER: std::cell::RefCell<Option<Arc<crate::roster::Roster>>> = const { std::cell::RefCell::new(None) };
}

/// The pool's standing data and duty roster lent to the work running on this thread, and a
/// fresh slate of changes; all taken back when the work ends, however it ends.
struct Lent;

impl Lent {
    fn new(standing: Arc<crate::standing::Standing>, roster: Arc<crate::roster::Roster>) -> Self {
        CHANGED.set(0);
        crate::roster::forget_touched();
        STANDING.set(Some(standing));
        ROSTER.set(Some(roster));
        Self
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        CHANGED.set(0);
        crate::roster::forget_touched();
        STANDING.set(None);
        ROSTER.set(None);
    }
}

/// Said by every query that changes what a topic covers. The topic's epoch moves when the work
/// that said it is done, i.e. after its transaction committed: moving it earlier would let a
/// request read the old rows after the move and keep them as current.
pub fn changed(topic: Topic) {
    CHANGED.set(CHANGED.get() | topic.bit());
}

/// Whether the work on this thread changed `topic` (not yet committed, perhaps): it must read
/// the database, not what was kept from before.
pub fn changed_here(topic: Topic) -> bool {
    CHANGED.get() & topic.bit() != 0
}

/// The standing data of the pool the current `Db::run` belongs to (none outside one: the caller
/// reads the database).
pub fn standing() -> Option<Arc<crate::standing::Standing>> {
    STANDING.with_borrow(Clone::clone)
}

/// The duty roster of the pool the current `Db::run` belongs to (none outside one).
pub fn roster() -> Option<Arc<crate::roster::Roster>> {
    ROSTER.with_borrow(Clone::clone)
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).field("state", &self.pool.state()).finish()
    }
}

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a free connection before it is refused with 503: the
    /// backpressure that keeps a slow database from piling up unbounded work.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { max_size: 10, acquire_timeout: Duration::from_secs(5) }
    }
}

impl Db {
    /// Builds the pool without requiring the database to be up: a server can start, report
    /// itself not ready, and recover when the database comes back.
    pub fn connect(url: &DbUrl, opts: &PoolOptions) -> anyhow::Result<Self> {
        if url.backend() == Backend::Sqlite
            && let Some(dir) = Path::new(url.expose()).parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create database directory {}: {e}", dir.display()))?;
        }
        let manager = Manager { url: url.clone() };
        let pool = Pool::builder()
            .max_size(opts.max_size)
            .min_idle(Some(0))
            .connection_timeout(opts.acquire_timeout)
            .connection_customizer(Box::new(SqlitePragmas))
            .build_unchecked(manager);
        Ok(Self {
            pool,
            backend: url.backend(),
            auth_epoch: Arc::new(AtomicU64::new(0)),
            standing: Arc::new(crate::standing::Standing::new()),
            roster: Arc::new(crate::roster::Roster::new()),
        })
    }

    /// Moves whenever this process changed who may do what (see [`changed`]); the session
    /// cache keeps only what it read at the current epoch. Other processes' changes move it
    /// through `cluster`.
    pub fn auth_epoch(&self) -> &Arc<AtomicU64> {
        &self.auth_epoch
    }

    /// The catalog, webhook subscriptions and running emergencies as last read (`standing`).
    pub fn standing(&self) -> &Arc<crate::standing::Standing> {
        &self.standing
    }

    /// The on-duty grid workers as last read (`roster`).
    pub fn roster(&self) -> &Arc<crate::roster::Roster> {
        &self.roster
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// A connection for blocking code (CLI, start-up, inside `run`).
    pub fn get(&self) -> Result<PooledDbConn, ApiError> {
        self.pool.get().map_err(|e| ApiError::unavailable(format!("database unavailable: {e}")))
    }

    /// Runs `f` with a pooled connection on the blocking thread pool, so diesel's synchronous
    /// calls never stall the async workers.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let epoch = self.auth_epoch.clone();
        let standing = self.standing.clone();
        let roster = self.roster.clone();
        actix_web::web::block(move || {
            let _lent = Lent::new(standing.clone(), roster.clone());
            let out = pool.get().map_err(|e| ApiError::unavailable(format!("database unavailable: {e}"))).and_then(
                |mut conn| {
                    let out = f(&mut conn);
                    // After `f` committed: what it changed about workers on duty.
                    roster.settle(&mut conn, out.is_ok());
                    out
                },
            );
            // After `f`, so after any transaction it ran committed (or rolled back: then the move
            // only costs a re-read).
            let changed = CHANGED.replace(0);
            if changed & Topic::Auth.bit() != 0 {
                epoch.fetch_add(1, Ordering::AcqRel);
            }
            if changed & Topic::Standing.bit() != 0 {
                standing.invalidate();
            }
            out
        })
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
    }

    /// Runs `f` inside one write transaction (`write_tx`).
    pub async fn tx<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| write_tx(conn, f)).await
    }
}

/// One SQLite write transaction at a time per process (SQLite allows one writer anyway).
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A write transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`): a
/// transaction that reads and then writes would otherwise fail with "database is locked" when
/// another connection wrote in between, instead of waiting its turn under `busy_timeout`.
/// Nested calls become savepoints, as with `Connection::transaction`.
pub fn write_tx<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::Connection;
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let outermost_sqlite = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?.is_none(),
        DbConn::Postgres(_) => false,
    };
    if !outermost_sqlite {
        return conn.transaction(f);
    }
    // Writers of this process queue here rather than in SQLite's busy handler, which polls with
    // growing sleeps and turns contention into long tails.
    let _turn = SQLITE_WRITER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let DbConn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    match f(conn) {
        Ok(value) => match <DbConn as Connection>::TransactionManager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            // The caller's error is what matters; a failed rollback leaves a broken connection
            // that the pool discards.
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}
