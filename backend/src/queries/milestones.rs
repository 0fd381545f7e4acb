//! Each event's milestones (`event_milestones`), kept in step with its timeline: the one place
//! that says which timeline entry is which milestone, for the writes here and for `rebuild`.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::event_milestones as m;
use crate::models::event::EventLogRow;

/// Which milestone a timeline entry is, if any.
enum Milestone {
    Accepted,
    FirstDispatch,
    Resolved,
    Closed,
    Returned,
}

fn milestone(e: &EventLogRow) -> Option<Milestone> {
    match e.action.as_str() {
        "accept" => Some(Milestone::Accepted),
        "dispatch" => Some(Milestone::FirstDispatch),
        "resolve" => Some(Milestone::Resolved),
        "return" => Some(Milestone::Returned),
        // Closing, not a merge into another event; later entries on a closed event are not.
        "merge" => None,
        _ if e.to_state == "closed" && e.from_state.as_deref() != Some("closed") => Some(Milestone::Closed),
        _ => None,
    }
}

/// Records what a timeline entry just written means for its event's milestones (the first
/// entry of an event starts its row).
pub fn record(conn: &mut DbConn, e: &EventLogRow) -> QueryResult<()> {
    if e.seq == 1 {
        diesel::insert_into(m::table).values((m::event_id.eq(&e.event_id), m::returns.eq(0))).execute(conn)?;
    }
    apply(conn, e)
}

/// `record` for many entries: the rows of the first entries in one statement.
pub fn record_many(conn: &mut DbConn, entries: &[EventLogRow]) -> QueryResult<()> {
    let starts: Vec<_> =
        entries.iter().filter(|e| e.seq == 1).map(|e| (m::event_id.eq(&e.event_id), m::returns.eq(0))).collect();
    insert_rows!(conn, m::table, starts, 64);
    entries.iter().try_for_each(|e| apply(conn, e))
}

/// What the entry means for its event's row.
fn apply(conn: &mut DbConn, e: &EventLogRow) -> QueryResult<()> {
    let row = m::table.find(&e.event_id);
    let at = e.created_at;
    match milestone(e) {
        None => 0,
        Some(Milestone::Accepted) => {
            diesel::update(row.filter(m::accepted_at.is_null())).set(m::accepted_at.eq(at)).execute(conn)?
        }
        Some(Milestone::FirstDispatch) => {
            diesel::update(row.filter(m::dispatched_at.is_null())).set(m::dispatched_at.eq(at)).execute(conn)?
        }
        Some(Milestone::Resolved) => diesel::update(row).set(m::resolved_at.eq(at)).execute(conn)?,
        Some(Milestone::Closed) => {
            diesel::update(row.filter(m::closed_at.is_null())).set(m::closed_at.eq(at)).execute(conn)?
        }
        Some(Milestone::Returned) => diesel::update(row).set(m::returns.eq(m::returns + 1)).execute(conn)?,
    };
    Ok(())
}

/// Recomputes an event's milestones from its whole timeline (after a repair of the timeline).
pub fn rebuild(conn: &mut DbConn, event_id: &str) -> QueryResult<()> {
    use crate::db::schema::event_log as l;
    let entries: Vec<EventLogRow> =
        l::table.filter(l::event_id.eq(event_id)).order(l::seq.asc()).select(EventLogRow::as_select()).load(conn)?;
    diesel::delete(m::table.find(event_id)).execute(conn)?;
    for e in &entries {
        record(conn, e)?;
    }
    Ok(())
}
