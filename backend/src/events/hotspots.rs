//! Hotspots (研判·热点): the same category reported again and again in one small H3 cell over
//! the window. The scheduler scans, flags new hotspots to the ops centres over their street, adds
//! new reports to active ones, and cools those whose cell fell below the threshold.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use gridwork_mobile_core::domain::event::ops_role;
use gridwork_mobile_core::{AreaCode, AreaLevel, Role};
use serde_json::json;

use super::actions::Ctx;
use crate::db::{DbConn, write_tx};
use crate::error::ApiResult;
use crate::models::hotspot::HotspotRow;
use crate::models::{new_id, now};
use crate::queries;
use crate::queries::hotspots::Sighting;

/// About 0.1 km² a cell: a block, where one problem keeps coming back.
pub const RESOLUTION: h3o::Resolution = h3o::Resolution::Nine;

/// Reports of one category in one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub category: String,
    pub cell: h3o::CellIndex,
    /// Event ids, oldest report first.
    pub events: Vec<String>,
    pub first: NaiveDateTime,
    pub last: NaiveDateTime,
    pub street: Option<String>,
    pub district: Option<String>,
}

/// The clusters of at least `min_events` reports (pure: the scan's rule, tested on its own).
pub fn clusters(sightings: &[Sighting], min_events: usize) -> Vec<Cluster> {
    let mut by: BTreeMap<(String, u64), Cluster> = BTreeMap::new();
    let mut sorted: Vec<&Sighting> = sightings.iter().collect();
    sorted.sort_by_key(|s| (s.4, s.0.clone()));
    for (id, category, lat, lng, at, street, district) in sorted {
        let Ok(point) = h3o::LatLng::new(*lat, *lng) else { continue };
        let cell = point.to_cell(RESOLUTION);
        let c = by.entry((category.clone(), u64::from(cell))).or_insert_with(|| Cluster {
            category: category.clone(),
            cell,
            events: vec![],
            first: *at,
            last: *at,
            street: street.clone(),
            district: district.clone(),
        });
        c.events.push(id.clone());
        c.last = *at;
    }
    by.into_values().filter(|c| c.events.len() >= min_events).collect()
}

/// What a scan changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scan {
    pub detected: usize,
    pub grown: usize,
    pub cooled: usize,
}

/// Finds the hotspots of the window ending at `at` and stores what changed, in one transaction.
pub fn scan(conn: &mut DbConn, ctx: Ctx<'_>, at: NaiveDateTime) -> ApiResult<Scan> {
    let since = at - ctx.policy.hotspot_window;
    let min_events = ctx.policy.hotspot_min_events;
    write_tx(conn, |conn| {
        let mut sightings = queries::hotspots::sightings(conn, since)?;
        // A duplicate merged into another report is the same problem once.
        let ids: Vec<String> = sightings.iter().map(|s| s.0.clone()).collect();
        let mut merged = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            merged.extend(queries::events::merged_ids(conn, chunk)?);
        }
        sightings.retain(|s| !merged.contains(&s.0));
        let found = clusters(&sightings, min_events);
        let mut active: Vec<HotspotRow> = queries::hotspots::active(conn)?;
        let mut out = Scan::default();
        let stamp = now();
        for c in &found {
            let cell = c.cell.to_string();
            let count = i32::try_from(c.events.len()).unwrap_or(i32::MAX);
            if let Some(i) = active.iter().position(|h| h.category_code == c.category && h.cell == cell) {
                let mut h = active.swap_remove(i);
                if h.event_count != count || h.last_event_at != c.last {
                    if count > h.event_count {
                        out.grown += 1;
                    }
                    h.event_count = count;
                    h.first_event_at = c.first;
                    h.last_event_at = c.last;
                    h.updated_at = stamp;
                    queries::hotspots::update(conn, &h)?;
                }
                queries::hotspots::link(conn, &h.id, &c.events)?;
                continue;
            }
            let centre = h3o::LatLng::from(c.cell);
            let row = HotspotRow {
                id: new_id(),
                category_code: c.category.clone(),
                cell,
                lat: centre.lat(),
                lng: centre.lng(),
                street_code: c.street.clone(),
                district_code: c.district.clone(),
                event_count: count,
                first_event_at: c.first,
                last_event_at: c.last,
                state: "active".into(),
                detected_at: stamp,
                updated_at: stamp,
            };
            queries::hotspots::insert(conn, &row)?;
            queries::hotspots::link(conn, &row.id, &c.events)?;
            notify_new(conn, ctx, &row)?;
            out.detected += 1;
        }
        // Active ones not found again: their cell is quiet now.
        for mut h in active {
            h.state = "cooled".into();
            h.updated_at = stamp;
            queries::hotspots::update(conn, &h)?;
            out.cooled += 1;
        }
        Ok(out)
    })
}

/// Tells the street's coordinators and the district's operators of a new hotspot.
fn notify_new(conn: &mut DbConn, ctx: Ctx<'_>, h: &HotspotRow) -> ApiResult<()> {
    let mut to = vec![];
    for (code, level) in [(&h.street_code, AreaLevel::Street), (&h.district_code, AreaLevel::District)] {
        let area = code.as_deref().and_then(|c| AreaCode::parse(c).ok());
        if area.is_some() {
            to.extend(super::holders_over_area(conn, ctx.index, area.as_ref(), ops_role(level), None)?);
        }
    }
    if to.is_empty() {
        to.extend(super::holders_over_area(conn, ctx.index, None, Role::CityOperator, None)?);
    }
    let payload = json!({
        "hotspot_id": h.id, "category": h.category_code, "events": h.event_count,
        "lat": h.lat, "lng": h.lng, "street": h.street_code,
    });
    super::notify::send_to(conn, &to, None, "hotspot", &payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_780_000_000 + m * 60, 0).unwrap().naive_utc()
    }

    fn s(id: &str, category: &str, lat: f64, lng: f64, m: i64) -> Sighting {
        (id.into(), category.into(), lat, lng, t(m), Some("420102003".into()), Some("420102".into()))
    }

    #[test]
    fn a_category_recurring_in_one_cell_is_a_hotspot() {
        let centre = h3o::LatLng::from(h3o::LatLng::new(30.5825, 114.274).unwrap().to_cell(RESOLUTION));
        let (lat, lng) = (centre.lat(), centre.lng());
        let far = (lat + 0.01, lng);
        let sightings = vec![
            s("e3", "C-03-01", lat - 0.0003, lng, 30),
            s("e1", "C-03-01", lat + 0.0003, lng, 10),
            s("e2", "C-03-01", lat, lng + 0.0004, 20),
            // Another category in the same cell, and the same category elsewhere, do not count.
            s("x1", "E-01-02", lat, lng, 15),
            s("x2", "C-03-01", far.0, far.1, 25),
        ];
        let found = clusters(&sightings, 3);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].events, ["e1", "e2", "e3"], "oldest report first");
        assert_eq!((found[0].first, found[0].last), (t(10), t(30)));
        assert_eq!(found[0].category, "C-03-01");
        assert!(clusters(&sightings, 4).is_empty());
        assert_eq!(clusters(&sightings, 1).len(), 3);
    }
}
