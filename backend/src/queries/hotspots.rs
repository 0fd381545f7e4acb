use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{events, hotspot_events, hotspots};
use crate::models::hotspot::HotspotRow;

/// What hotspot detection needs of an event: id, category, point, when, street and district.
pub type Sighting = (String, String, f64, f64, chrono::NaiveDateTime, Option<String>, Option<String>);

/// Events reported since `since`, except rejected ones.
pub fn sightings(conn: &mut DbConn, since: chrono::NaiveDateTime) -> QueryResult<Vec<Sighting>> {
    events::table
        .filter(events::created_at.ge(since))
        .filter(events::state.ne("rejected"))
        .select((
            events::id,
            events::category_code,
            events::lat,
            events::lng,
            events::created_at,
            events::street_code,
            events::district_code,
        ))
        .load(conn)
}

pub fn active(conn: &mut DbConn) -> QueryResult<Vec<HotspotRow>> {
    hotspots::table.filter(hotspots::state.eq("active")).select(HotspotRow::as_select()).load(conn)
}

pub fn insert(conn: &mut DbConn, row: &HotspotRow) -> QueryResult<()> {
    diesel::insert_into(hotspots::table).values(row).execute(conn).map(drop)
}

pub fn update(conn: &mut DbConn, row: &HotspotRow) -> QueryResult<()> {
    diesel::update(hotspots::table.find(&row.id)).set(row).execute(conn).map(drop)
}

/// Links events to a hotspot (those linked already stay as they are).
pub fn link(conn: &mut DbConn, hotspot: &str, events: &[String]) -> QueryResult<()> {
    let known: Vec<String> = hotspot_events::table
        .filter(hotspot_events::hotspot_id.eq(hotspot))
        .select(hotspot_events::event_id)
        .load(conn)?;
    for e in events.iter().filter(|e| !known.contains(e)) {
        diesel::insert_into(hotspot_events::table)
            .values((hotspot_events::hotspot_id.eq(hotspot), hotspot_events::event_id.eq(e)))
            .execute(conn)?;
    }
    Ok(())
}

/// Hotspots in `state`, newest event first, with their event ids.
pub fn in_state(conn: &mut DbConn, state: &str, limit: i64) -> QueryResult<Vec<(HotspotRow, Vec<String>)>> {
    let rows: Vec<HotspotRow> = hotspots::table
        .filter(hotspots::state.eq(state))
        .order(hotspots::last_event_at.desc())
        .limit(limit)
        .select(HotspotRow::as_select())
        .load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut links: Vec<(String, String)> = vec![];
    for chunk in ids.chunks(500) {
        links.extend(
            hotspot_events::table
                .filter(hotspot_events::hotspot_id.eq_any(chunk))
                .order(hotspot_events::event_id.asc())
                .select((hotspot_events::hotspot_id, hotspot_events::event_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let events = links.iter().filter(|(h, _)| *h == r.id).map(|(_, e)| e.clone()).collect();
            (r, events)
        })
        .collect())
}
