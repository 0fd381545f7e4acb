use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::departments;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable, Serialize)]
#[diesel(table_name = departments)]
pub struct Department {
    pub id: String,
    pub code: String,
    pub name: String,
    /// The area the department serves (a district's water bureau serves that district).
    pub area_code: String,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
}

impl Department {
    pub fn view(&self) -> gridwork_mobile_core::wire::Department {
        gridwork_mobile_core::wire::Department {
            id: self.id.clone(),
            code: self.code.clone(),
            name: self.name.clone(),
            area_code: self.area_code.clone(),
            created_at: self.created_at.and_utc(),
        }
    }
}

/// A department's own system acting on its tasks with an API key (an account of its own).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::db::schema::department_systems)]
pub struct SystemRow {
    /// The system's account.
    pub user_id: String,
    pub department_id: String,
    pub name: String,
    pub area_code: String,
    pub created_by: String,
    pub created_at: chrono::NaiveDateTime,
    pub revoked_at: Option<chrono::NaiveDateTime>,
}
