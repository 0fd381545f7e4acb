use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::role_assignments;

/// A role held by a user over an area (`area_code`; `None` = everywhere, administrators only),
/// for department handlers on behalf of a department.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = role_assignments)]
pub struct RoleAssignment {
    pub id: String,
    pub user_id: String,
    pub role: String,
    pub area_code: Option<String>,
    pub department_id: Option<String>,
    pub granted_by: Option<String>,
    pub created_at: NaiveDateTime,
}
