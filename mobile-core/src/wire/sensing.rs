//! Sensing: indicators (city vital signs), sensor devices, readings in, alerts out, and the
//! roll-ups of every indicator by area.

use chrono::{DateTime, Utc};

use crate::domain::sensing::{AlertKind, AlertLevel, AlertState};

wire! {
    /// A threshold per warning level; a level without one is skipped.
    #[derive(Copy, Default)]
    pub struct ThresholdLevels {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub blue: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub yellow: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub orange: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub red: Option<f64>,
    }

    /// A count per warning level.
    #[derive(Copy, Default)]
    pub struct AlertCounts {
        pub blue: i64,
        pub yellow: i64,
        pub orange: i64,
        pub red: i64,
    }

    /// An indicator of the registry, with its thresholds and, when asked for an area, the override that applies there.
    pub struct IndicatorView {
        pub code: String,
        pub name: String,
        pub unit: String,
        /// The area levels its roll-ups are reported at.
        pub levels: Vec<crate::AreaLevel>,
        /// `latest`, `mean`, `max` or `rate` (change per hour) over `window_secs`.
        pub aggregation: crate::domain::sensing::Aggregation,
        pub window_secs: i64,
        /// `above`: a rising value breaches; `below`: a falling one.
        pub direction: crate::domain::sensing::Direction,
        pub thresholds: ThresholdLevels,
        pub hysteresis: f64,
        /// The category an orange or red alert files its event in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub category: Option<String>,
        pub active: bool,
        /// The area whose override gave these thresholds, when not the registry's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub override_area: Option<String>,
    }

    /// `GET /indicators`.
    pub struct IndicatorList {
        pub indicators: Vec<IndicatorView>,
    }

    /// The body of `PUT /indicators/{code}/overrides/{area}`: other thresholds for an area's subtree.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct IndicatorOverrideRequest {
        pub thresholds: ThresholdLevels,
        pub hysteresis: f64,
    }

    /// An area's override of an indicator's thresholds.
    pub struct IndicatorOverride {
        pub indicator: String,
        pub area: String,
        pub thresholds: ThresholdLevels,
        pub hysteresis: f64,
        pub updated_at: DateTime<Utc>,
    }

    /// `GET /indicators/{code}/overrides`.
    pub struct IndicatorOverrideList {
        pub overrides: Vec<IndicatorOverride>,
    }

    /// The body of `POST /sensors`: a sensor placed at a point.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    #[serde(deny_unknown_fields)]
    pub struct SensorRequest {
        /// Its name in `gridwork/readings/{code}`: 1 to 64 letters, digits, `-`, `_` or `.`.
        pub code: String,
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 100, message = "name is 1 to 100 characters")))]
        pub name: String,
        /// The indicators it reports.
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 16, message = "name 1 to 16 indicators")))]
        pub indicators: Vec<String>,
        pub lat: f64,
        pub lng: f64,
        /// How often it reports; silent for twice this long, it raises an offline alert.
        #[cfg_attr(feature = "validate", validate(range(min = 10, max = 604_800, message = "expected_interval_secs is 10 s to 7 days")))]
        pub expected_interval_secs: i64,
    }

    /// A sensor. `secret` only in the answer to its registration (and to a new secret): it is
    /// kept only as its hash.
    pub struct SensorView {
        pub id: String,
        pub code: String,
        /// `device`, or `derived`: the server's own figures of a street from its events.
        pub kind: String,
        pub name: String,
        pub indicators: Vec<String>,
        pub lat: f64,
        pub lng: f64,
        /// The deepest area at its point.
        pub area: String,
        pub expected_interval_secs: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_seen_at: Option<DateTime<Utc>>,
        /// Battery charge in percent, as last reported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub battery: Option<f64>,
        pub created_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub retired_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub secret: Option<String>,
    }

    /// `GET /sensors`.
    pub struct SensorList {
        pub sensors: Vec<SensorView>,
    }

    /// One reading: an indicator's value measured at an instant.
    pub struct Reading {
        pub indicator: String,
        pub value: f64,
        pub at: DateTime<Utc>,
    }

    /// The body of `POST /sensors/{code}/readings` (the device's secret as bearer token) and
    /// the payload of an MQTT message on `gridwork/readings/{code}`.
    #[cfg_attr(feature = "validate", derive(validator::Validate))]
    pub struct ReadingBatch {
        #[cfg_attr(feature = "validate", validate(length(min = 1, max = 1000, message = "send 1 to 1000 readings")))]
        pub readings: Vec<Reading>,
        /// Battery charge in percent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub battery: Option<f64>,
    }

    /// A reading that was not taken, and why.
    pub struct RefusedReading {
        pub index: usize,
        pub code: String,
        pub message: String,
    }

    /// The answer to a batch: how many readings were stored, how many had been stored before
    /// (a resent batch), and the ones refused.
    pub struct ReadingReceipt {
        pub stored: usize,
        pub duplicates: usize,
        pub refused: Vec<RefusedReading>,
    }

    /// An alert: an indicator breached at a sensor (or a sensor gone silent).
    pub struct AlertView {
        pub id: String,
        pub kind: AlertKind,
        pub indicator: Option<String>,
        pub sensor: String,
        pub area: String,
        pub level: AlertLevel,
        pub state: AlertState,
        /// The value it was raised at, the worst since, and the latest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub raised_value: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub peak_value: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_value: Option<f64>,
        /// The event it opened or annotates.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub event_id: Option<String>,
        pub raised_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub acknowledged_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cleared_at: Option<DateTime<Utc>>,
    }

    /// `GET /alerts`.
    pub struct AlertList {
        pub alerts: Vec<AlertView>,
    }

    /// One indicator in one area over a period: from the minute or hour roll-ups of its sensors.
    pub struct VitalSign {
        pub indicator: String,
        pub area: String,
        pub sensors: i64,
        pub readings: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub mean: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub min: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub max: Option<f64>,
        /// Alerts open now in the area for the indicator, per level.
        pub open_alerts: AlertCounts,
    }

    /// `GET /vital-signs`: every indicator reported at the level, per area one level below the
    /// asked one (or the area itself).
    pub struct VitalSigns {
        pub area: String,
        pub level: crate::AreaLevel,
        pub from: DateTime<Utc>,
        pub to: DateTime<Utc>,
        pub signs: Vec<VitalSign>,
    }
}

impl ThresholdLevels {
    pub fn as_array(&self) -> [Option<f64>; 4] {
        [self.blue, self.yellow, self.orange, self.red]
    }

    pub fn from_array(a: [Option<f64>; 4]) -> Self {
        Self { blue: a[0], yellow: a[1], orange: a[2], red: a[3] }
    }
}

impl AlertCounts {
    pub fn add(&mut self, level: AlertLevel, n: i64) {
        match level {
            AlertLevel::Blue => self.blue += n,
            AlertLevel::Yellow => self.yellow += n,
            AlertLevel::Orange => self.orange += n,
            AlertLevel::Red => self.red += n,
        }
    }
}
