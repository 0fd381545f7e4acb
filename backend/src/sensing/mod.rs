//! Sense, monitor, warn (感知、监测、预警): the indicator registry (`indicators.rs`), sensors
//! placed on the map with hashed secrets (`sensors.rs`), readings in over HTTP or MQTT
//! (`ingest.rs`, `mqtt.rs`), alerts and the events orange and red ones open (`alerts.rs`), and
//! the roll-ups of every indicator by area (`vital_signs.rs`). The decisions — which level a
//! value stands at with hysteresis, what a reading leads to — are pure in the core's
//! `domain::sensing`; these modules load the facts and store the outcome.

pub mod alerts;
pub mod derived;
pub mod indicators;
pub mod ingest;
pub mod mqtt;
pub mod sensors;
pub mod vital_signs;

use gridwork_mobile_core::Role;

/// Who sees sensors, their alerts and the vital signs of an area: ops staff and the grid
/// workers of the area.
pub const WATCH_ROLES: [Role; 5] =
    [Role::GridWorker, Role::Coordinator, Role::DistrictOperator, Role::CityOperator, Role::Admin];

/// Readings in over MQTT, and how long readings and their roll-ups are kept.
#[derive(Debug, Clone)]
pub struct SensingSettings {
    /// `None`: readings come only over HTTP.
    pub mqtt: Option<mqtt::MqttSettings>,
    pub raw_retention: chrono::Duration,
    /// `None`: kept forever.
    pub minute_retention: Option<chrono::Duration>,
    pub hour_retention: Option<chrono::Duration>,
}

impl SensingSettings {
    pub fn limits(&self) -> ingest::Limits {
        ingest::Limits { oldest: self.raw_retention }
    }
}

/// The scheduler's share: sensors gone silent get their offline alert, readings and roll-ups
/// past their periods go, and (when `derive`) the streets' figures from the events are sent.
pub fn scan(
    conn: &mut crate::db::DbConn,
    ctx: crate::events::actions::Ctx<'_>,
    settings: &SensingSettings,
    derive: bool,
) -> crate::error::ApiResult<()> {
    let at = crate::models::now();
    let silent = alerts::scan_silent(conn, ctx.index, at)?;
    let raw = crate::queries::sensing::purge_readings(conn, at - settings.raw_retention)?;
    let mut rolled = 0;
    for (resolution, keep) in [("minute", settings.minute_retention), ("hour", settings.hour_retention)] {
        if let Some(keep) = keep {
            rolled += crate::queries::sensing::purge_rollups(conn, resolution, at - keep)?;
        }
    }
    let derived = if derive { derived::compute(conn, ctx, settings.limits(), at)? } else { 0 };
    if silent + raw + rolled > 0 {
        tracing::info!(silent, readings_purged = raw, rollups_purged = rolled, streets = derived, "sensing scan");
    }
    Ok(())
}
