//! Open data (数据开放): the anonymised events of the areas an administrator has published, as
//! CSV and GeoJSON per period and area, on public endpoints. Anonymised means: no reporter, actor
//! or caller, no free text at all (descriptions and reasons could name people and none is
//! reviewed for publication), and the place coarsened to an H3 cell (resolution 9, about
//! 0.1 km²) with only the district, street and community codes — no grid, compound or building.

use chrono::{DateTime, NaiveDateTime, Utc};
use gridwork_mobile_core::AreaCode;
use gridwork_mobile_core::domain::area::AreaTree;
use serde_json::{Value, json};

use crate::areas::AreaIndex;
use crate::queries::open_data::OpenEvent;

/// The cell resolution places are coarsened to.
pub const CELL_RESOLUTION: h3o::Resolution = h3o::Resolution::Nine;
/// The most events one answer holds.
pub const MAX_EVENTS: i64 = 50_000;
/// The longest period one answer covers.
pub const MAX_DAYS: i64 = 366;

/// One published event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Record {
    pub event_id: String,
    pub category: String,
    pub category_name: String,
    pub grade: String,
    pub state: String,
    pub source: String,
    pub district: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    /// The H3 cell (resolution 9) the event lies in, and its centre.
    pub cell: String,
    pub cell_lat: f64,
    pub cell_lng: f64,
    pub reported_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// Whether `area` lies inside a published area.
pub fn is_published(published: &[String], area: &AreaCode, index: &AreaIndex) -> bool {
    published.iter().filter_map(|p| AreaCode::parse(p).ok()).any(|p| index.is_within(area, &p))
}

pub fn record(e: OpenEvent, category_name: String) -> Option<Record> {
    let cell = h3o::LatLng::new(e.lat, e.lng).ok()?.to_cell(CELL_RESOLUTION);
    let centre = h3o::LatLng::from(cell);
    let utc = |t: NaiveDateTime| t.and_utc();
    Some(Record {
        event_id: e.id,
        category: e.category_code,
        category_name,
        grade: e.grade,
        state: e.state,
        source: e.source,
        district: e.district_code,
        street: e.street_code,
        community: e.community_code,
        cell: cell.to_string(),
        cell_lat: (centre.lat() * 1e6).round() / 1e6,
        cell_lng: (centre.lng() * 1e6).round() / 1e6,
        reported_at: utc(e.created_at),
        closed_at: e.closed_at.map(utc),
    })
}

pub fn csv(records: &[Record]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(vec![]);
    for r in records {
        w.serialize(r).map_err(|e| e.to_string())?;
    }
    if records.is_empty() {
        w.write_record([
            "event_id",
            "category",
            "category_name",
            "grade",
            "state",
            "source",
            "district",
            "street",
            "community",
            "cell",
            "cell_lat",
            "cell_lng",
            "reported_at",
            "closed_at",
        ])
        .map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

pub fn geojson(records: &[Record]) -> Value {
    let features: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut properties = serde_json::to_value(r).unwrap_or(Value::Null);
            if let Some(p) = properties.as_object_mut() {
                p.remove("cell_lat");
                p.remove("cell_lng");
            }
            json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.cell_lng, r.cell_lat]},
                "properties": properties,
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}
