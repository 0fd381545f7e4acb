use diesel::Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::conn::DbConn;

/// Both folders carry the same migration names (a test checks it); each backend gets its own SQL.
pub const SQLITE: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

type MigrationResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Applies every pending migration; returns the names of those applied.
pub fn run_pending(conn: &mut DbConn) -> MigrationResult<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE)?,
        DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES)?,
    };
    let applied: Vec<String> = applied.into_iter().map(|v| v.to_string()).collect();
    // Timeline entries without a personal commitment (written before the chain or the commitment
    // existed, or left by a start that stopped half-way) are sealed here, in one transaction; an
    // index on them makes this a single look-up when there are none.
    let sealed = conn.transaction(crate::events::timeline::seal_legacy).map_err(|e| e.message)?;
    if sealed > 0 {
        tracing::info!(events = sealed, "sealed the timelines of earlier events");
    }
    Ok(applied)
}

/// Applies only the next pending migration (tests that stage data between migrations).
pub fn run_next(conn: &mut DbConn) -> MigrationResult<String> {
    let v = match conn {
        DbConn::Sqlite(c) => c.run_next_migration(SQLITE)?,
        DbConn::Postgres(c) => c.run_next_migration(POSTGRES)?,
    };
    Ok(v.to_string())
}

pub fn has_pending(conn: &mut DbConn) -> MigrationResult<bool> {
    Ok(match conn {
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE)?,
        DbConn::Postgres(c) => c.has_pending_migration(POSTGRES)?,
    })
}

/// Reverts every applied migration, newest first (used by the up/down/up test and `migrate --reset`).
pub fn revert_all(conn: &mut DbConn) -> MigrationResult<Vec<String>> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE)?,
        DbConn::Postgres(c) => c.revert_all_migrations(POSTGRES)?,
    };
    Ok(reverted.into_iter().map(|v| v.to_string()).collect())
}
