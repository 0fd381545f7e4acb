//! The seven-level area map: lookup, browsing, outlines and H3 cells.

use chrono::{DateTime, Utc};

use super::LatLng;
use crate::domain::area::AreaLevel;

wire! {
    /// An area by name and level.
    pub struct AreaSummary {
        pub code: String,
        pub name: String,
        pub level: AreaLevel,
    }

    /// `GET /areas`.
    pub struct AreaList {
        pub areas: Vec<AreaSummary>,
    }

    /// `GET /areas/lookup`: the areas a point lies in, city first.
    pub struct AreaLookup {
        pub chain: Vec<AreaSummary>,
        /// The point in WGS-84 (what it was looked up as).
        pub wgs84: LatLng,
    }

    /// The body of `POST /areas/lookup/batch`: many points at once (sensor fleets, imports,
    /// analysis), 1 to 10,000.
    #[serde(deny_unknown_fields)]
    pub struct BatchLookupRequest {
        pub points: Vec<super::Point>,
    }

    /// Each point's chain of area codes, city first, in the order the points came (empty:
    /// outside every area).
    pub struct BatchLookup {
        pub chains: Vec<Vec<String>>,
    }

    /// One version of an area's outline.
    pub struct AreaVersion {
        pub valid_from: DateTime<Utc>,
        pub valid_to: Option<DateTime<Utc>>,
    }

    /// `GET /areas/{code}`: an area with its outline (a GeoJSON geometry in WGS-84).
    pub struct AreaDetail {
        pub code: String,
        pub name: String,
        pub level: AreaLevel,
        pub parent: Option<AreaSummary>,
        pub children: Vec<AreaSummary>,
        pub area_m2: f64,
        pub radius_m: Option<f64>,
        pub valid_from: DateTime<Utc>,
        pub versions: Vec<AreaVersion>,
        pub geometry: serde_json::Value,
    }

    /// One area with its outline (GeoJSON geometry, WGS-84).
    pub struct AreaOutline {
        pub code: String,
        pub name: String,
        pub level: AreaLevel,
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        pub geometry: serde_json::Value,
    }

    /// `GET /areas/{code}/children`: the next level down, outlines included (one request per
    /// parent as a map zooms in).
    pub struct AreaOutlines {
        pub code: String,
        pub areas: Vec<AreaOutline>,
    }

    /// One H3 cell of a density map: how many events lie in it.
    pub struct DensityCell {
        pub cell: String,
        pub count: u64,
        /// The cell's corners (WGS-84), to draw without an H3 library.
        pub boundary: Vec<LatLng>,
    }

    /// `GET /events/density`: events per H3 cell (hotspots), densest first.
    pub struct Density {
        pub res: u8,
        pub total: u64,
        pub cells: Vec<DensityCell>,
    }

    /// `GET /areas/{code}/cells`: the H3 cells covering an area.
    pub struct AreaCells {
        pub code: String,
        pub res: u8,
        pub count: usize,
        pub cells: Vec<String>,
    }

    /// A category recurring in one small H3 cell (研判·热点), with the reports that make it.
    pub struct Hotspot {
        pub id: String,
        pub category: String,
        /// The H3 cell (resolution 9, about 0.1 km²) and its centre.
        pub cell: String,
        pub center: LatLng,
        pub street_code: Option<String>,
        pub event_count: i32,
        pub first_event_at: DateTime<Utc>,
        pub last_event_at: DateTime<Utc>,
        /// `active`, or `cooled` once the cell falls below the threshold.
        pub state: String,
        pub detected_at: DateTime<Utc>,
        /// The reports, oldest first.
        pub events: Vec<String>,
    }

    /// `GET /hotspots`: newest activity first.
    pub struct HotspotList {
        pub hotspots: Vec<Hotspot>,
    }
}
