use chrono::NaiveDateTime;
use diesel::prelude::*;
use gridwork_mobile_core::domain::emergency::DeadlineFactors;

use crate::db::schema::{emergencies, special_operation_tasks, special_operations};

/// An emergency (急时) of an area: running until `ended_at`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = emergencies)]
pub struct EmergencyRow {
    pub id: String,
    pub area_code: String,
    pub reason: String,
    pub declared_by: String,
    pub declared_at: NaiveDateTime,
    pub expected_end_at: NaiveDateTime,
    pub factor_general: f64,
    pub factor_significant: f64,
    pub factor_serious: f64,
    pub factor_critical: f64,
    pub events_shortened: i64,
    pub people_told: i64,
    pub ended_at: Option<NaiveDateTime>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
}

impl EmergencyRow {
    pub fn factors(&self) -> DeadlineFactors {
        DeadlineFactors {
            general: self.factor_general,
            significant: self.factor_significant,
            serious: self.factor_serious,
            critical: self.factor_critical,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = special_operations)]
pub struct OperationRow {
    pub id: String,
    pub name: String,
    pub area_code: String,
    pub target_level: String,
    pub category_code: String,
    pub description: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub emergency_id: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = special_operation_tasks)]
pub struct OperationTaskRow {
    pub operation_id: String,
    pub area_code: String,
    pub event_id: String,
}
