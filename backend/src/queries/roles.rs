use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{departments, role_assignments, users};
use crate::models::role_assignment::RoleAssignment;

pub fn insert(conn: &mut DbConn, row: &RoleAssignment) -> QueryResult<()> {
    crate::db::changed(crate::db::Topic::Auth);
    crate::roster::worker_changed(&row.user_id);
    diesel::insert_into(role_assignments::table).values(row).execute(conn).map(drop)
}

/// A user's assignments with the department code of department handlers.
pub fn for_user(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<(RoleAssignment, Option<String>)>> {
    role_assignments::table
        .left_join(departments::table)
        .filter(role_assignments::user_id.eq(user_id))
        .order(role_assignments::created_at.asc())
        .select((RoleAssignment::as_select(), departments::code.nullable()))
        .load(conn)
}

pub fn for_users(conn: &mut DbConn, user_ids: &[String]) -> QueryResult<Vec<(RoleAssignment, Option<String>)>> {
    role_assignments::table
        .left_join(departments::table)
        .filter(role_assignments::user_id.eq_any(user_ids))
        .order(role_assignments::created_at.asc())
        .select((RoleAssignment::as_select(), departments::code.nullable()))
        .load(conn)
}

pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<RoleAssignment> {
    role_assignments::table.find(id).select(RoleAssignment::as_select()).first(conn)
}

/// Finds an assignment by its natural key (user, role, scope, department).
pub fn find(
    conn: &mut DbConn,
    user_id: &str,
    role: &str,
    area_code: Option<&str>,
    department_id: Option<&str>,
) -> QueryResult<Option<RoleAssignment>> {
    let mut q = role_assignments::table
        .filter(role_assignments::user_id.eq(user_id))
        .filter(role_assignments::role.eq(role))
        .into_boxed();
    q = match area_code {
        Some(a) => q.filter(role_assignments::area_code.eq(a)),
        None => q.filter(role_assignments::area_code.is_null()),
    };
    q = match department_id {
        Some(d) => q.filter(role_assignments::department_id.eq(d)),
        None => q.filter(role_assignments::department_id.is_null()),
    };
    q.select(RoleAssignment::as_select()).first(conn).optional()
}

/// User ids holding any role somewhere in `area_codes` (used to scope user listings).
pub fn user_ids_in_areas(conn: &mut DbConn, area_codes: &[String]) -> QueryResult<Vec<String>> {
    role_assignments::table
        .filter(role_assignments::area_code.eq_any(area_codes))
        .select(role_assignments::user_id)
        .distinct()
        .load(conn)
}

pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    crate::db::changed(crate::db::Topic::Auth);
    diesel::delete(role_assignments::table.find(id)).execute(conn)
}

/// Active accounts holding the administrator role system-wide: the ones who can manage everyone.
pub fn count_system_admins(conn: &mut DbConn) -> QueryResult<usize> {
    role_assignments::table
        .inner_join(users::table)
        .filter(role_assignments::role.eq("admin"))
        .filter(role_assignments::area_code.is_null())
        .filter(users::is_active.eq(true))
        .select(users::id)
        .distinct()
        .load::<String>(conn)
        .map(|ids| ids.len())
}

/// Whether the user holds the administrator role system-wide.
pub fn is_system_admin(conn: &mut DbConn, user_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        role_assignments::table
            .filter(role_assignments::user_id.eq(user_id))
            .filter(role_assignments::role.eq("admin"))
            .filter(role_assignments::area_code.is_null()),
    ))
    .get_result(conn)
}
