//! The generations replicas compare (`cluster_generations`) and, on PostgreSQL, the notices they
//! send each other on one channel.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::cluster_generations;

/// The channel every replica listens on.
pub const CHANNEL: &str = "gridwork_cluster";

/// Where the replicas' shared state stands, per topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generations {
    pub auth: i64,
    pub areas: i64,
    pub standing: i64,
}

pub fn generations(conn: &mut DbConn) -> QueryResult<Generations> {
    let rows: Vec<(String, i64)> =
        cluster_generations::table.select((cluster_generations::topic, cluster_generations::generation)).load(conn)?;
    let of = |topic: &str| rows.iter().find(|(t, _)| t == topic).map_or(0, |(_, g)| *g);
    Ok(Generations { auth: of("auth"), areas: of("areas"), standing: of("standing") })
}

/// The map changed: moves its generation and, on PostgreSQL, tells every replica once the
/// caller's transaction commits (a NOTIFY is delivered at commit, and not at all on rollback).
pub fn areas_changed(conn: &mut DbConn) -> QueryResult<()> {
    diesel::update(cluster_generations::table.find("areas"))
        .set(cluster_generations::generation.eq(cluster_generations::generation + 1))
        .execute(conn)?;
    notify(conn, "areas")
}

/// Sends `payload` to every replica's listener (PostgreSQL; SQLite has one process and nobody to
/// tell). Payloads are the module's own words: topic names and a process id of `[a-z0-9:-]`.
pub fn notify(conn: &mut DbConn, payload: &str) -> QueryResult<()> {
    debug_assert!(payload.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b':' || b == b'-'));
    if let DbConn::Postgres(pg) = conn {
        diesel::sql_query(format!("NOTIFY {CHANNEL}, '{payload}'")).execute(pg)?;
    }
    Ok(())
}
