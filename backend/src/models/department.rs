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
