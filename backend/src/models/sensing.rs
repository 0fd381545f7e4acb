use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{alerts, indicator_overrides, indicators, reading_rollups, readings, sensors};

/// An indicator of the registry (体征指标).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = indicators, treat_none_as_null = true)]
pub struct IndicatorRow {
    pub code: String,
    pub name: String,
    pub unit: String,
    /// Comma separated area levels.
    pub levels: String,
    pub aggregation: String,
    pub window_secs: i64,
    pub direction: String,
    pub blue: Option<f64>,
    pub yellow: Option<f64>,
    pub orange: Option<f64>,
    pub red: Option<f64>,
    pub hysteresis: f64,
    pub category_code: Option<String>,
    pub active: bool,
    pub updated_at: NaiveDateTime,
}

/// Other thresholds for an area's subtree.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = indicator_overrides, treat_none_as_null = true)]
pub struct OverrideRow {
    pub indicator_code: String,
    pub area_code: String,
    pub blue: Option<f64>,
    pub yellow: Option<f64>,
    pub orange: Option<f64>,
    pub red: Option<f64>,
    pub hysteresis: f64,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

/// A sensor placed at a point, resolved to its areas.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sensors)]
pub struct SensorRow {
    pub id: String,
    pub code: String,
    pub name: String,
    /// JSON list of indicator codes.
    pub indicators: String,
    pub lat: f64,
    pub lng: f64,
    pub area_code: String,
    pub city_code: Option<String>,
    pub district_code: Option<String>,
    pub street_code: Option<String>,
    pub community_code: Option<String>,
    pub grid_code: Option<String>,
    pub compound_code: Option<String>,
    pub building_code: Option<String>,
    /// `device`, or `derived`: the server's own figures of a street.
    pub kind: String,
    pub secret_hash: String,
    pub expected_interval_secs: i64,
    pub last_seen_at: Option<NaiveDateTime>,
    pub battery: Option<f64>,
    pub registered_by: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

impl SensorRow {
    pub fn indicator_codes(&self) -> Vec<String> {
        serde_json::from_str(&self.indicators).unwrap_or_default()
    }

    /// The area code at a level of its chain.
    pub fn code_at(&self, level: gridwork_mobile_core::AreaLevel) -> Option<&str> {
        use gridwork_mobile_core::AreaLevel as L;
        match level {
            L::City => self.city_code.as_deref(),
            L::District => self.district_code.as_deref(),
            L::Street => self.street_code.as_deref(),
            L::Community => self.community_code.as_deref(),
            L::Grid => self.grid_code.as_deref(),
            L::Compound => self.compound_code.as_deref(),
            L::Building => self.building_code.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = readings)]
pub struct ReadingRow {
    pub sensor_id: String,
    pub indicator_code: String,
    pub measured_at: NaiveDateTime,
    pub value: f64,
    pub received_at: NaiveDateTime,
}

/// A sensor's readings of one indicator over a minute or an hour.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reading_rollups)]
pub struct RollupRow {
    pub sensor_id: String,
    pub indicator_code: String,
    pub resolution: String,
    pub bucket: NaiveDateTime,
    pub count: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = alerts, treat_none_as_null = true)]
pub struct AlertRow {
    pub id: String,
    pub kind: String,
    pub sensor_id: String,
    pub indicator_code: Option<String>,
    pub subject: String,
    pub level: String,
    pub state: String,
    pub raised_value: Option<f64>,
    pub peak_value: Option<f64>,
    pub last_value: Option<f64>,
    pub noted_value: Option<f64>,
    pub event_id: Option<String>,
    pub raised_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
    pub cleared_at: Option<NaiveDateTime>,
}
