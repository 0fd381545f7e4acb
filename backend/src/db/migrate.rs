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
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
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
