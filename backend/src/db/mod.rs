//! Storage: one diesel schema over SQLite and PostgreSQL. The database URL picks the backend.

pub mod conn;
pub mod migrate;
pub mod schema;
pub mod tls;

pub use conn::{Backend, Db, DbConn, DbPool, DbUrl, Topic, changed, changed_here, roster, standing, write_tx};
