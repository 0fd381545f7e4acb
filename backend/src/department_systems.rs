//! A department's own system (its work-order system) acting on the department's tasks: an
//! administrator over the area registers it and hands over an API key; the system holds the
//! department handler's role over that area through an account of its own, so it reads its tasks
//! and accepts, resolves (with evidence) or returns them through the same state machine and
//! timeline as a person, recorded as that system. It cannot touch another department's tasks.

use gridwork_mobile_core::wire::{DepartmentSystem, DepartmentSystemRequest};
use gridwork_mobile_core::{AreaCode, Password, Role, RoleGrant, Scope, Username};

use crate::accounts::{self, NewUser};
use crate::areas::AreaIndex;
use crate::auth::{Caller, token};
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::models::department::{Department, SystemRow};
use crate::models::now;
use crate::models::session::SessionInsertForm;
use crate::queries;

/// Who registers and revokes systems: administrators over the system's area.
pub const MANAGERS: [Role; 1] = [Role::Admin];

/// A system's key does not expire on its own; it is revoked.
const KEY_DAYS: i64 = 3650;

pub fn view(row: &SystemRow, department: &str, api_key: Option<String>) -> DepartmentSystem {
    DepartmentSystem {
        id: row.user_id.clone(),
        name: row.name.clone(),
        department: department.to_owned(),
        area: row.area_code.clone(),
        created_at: row.created_at.and_utc(),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
        api_key,
    }
}

pub fn manages(caller: &Caller, row: &SystemRow, index: &AreaIndex) -> bool {
    caller.holds_over_code(&MANAGERS, &row.area_code, index)
}

pub fn department(conn: &mut DbConn, code: &str) -> ApiResult<Department> {
    queries::departments::by_code(conn, code)?.ok_or_else(|| ApiError::not_found(format!("no department {code:?}")))
}

pub fn register(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    code: &str,
    req: &DepartmentSystemRequest,
) -> ApiResult<DepartmentSystem> {
    let dept = department(conn, code)?;
    let area = crate::areas::mapped_area(index, "area", &req.area)?;
    caller.require_over(&MANAGERS, Some(&area), index)?;
    let served = AreaCode::parse(&dept.area_code)?;
    if !Scope::Area(served).covers(&area, index) {
        return Err(ApiError::field("area", "outside_department", format!("{} serves {}", dept.code, dept.area_code)));
    }
    let suffix = &crate::models::new_id().replace('-', "")[20..];
    let form = accounts::user_form(&NewUser {
        username: Username::parse(&format!("system.{suffix}"))?,
        display_name: req.name.trim().to_owned(),
        phone: None,
        // Nobody knows it: the system uses its key, never a password.
        password: Password::parse(&token::generate())?,
    })?;
    let key = token::generate();
    write_tx(conn, |conn| {
        let at = now();
        let user = accounts::insert_user(conn, &form, Some(&caller.user.id))?;
        let grant = RoleGrant::new(Role::DeptHandler, Scope::Area(area.clone()), Some(dept.code.clone()))?;
        accounts::grant_role(conn, &user.id, &grant, Some(&caller.user.id))?;
        queries::sessions::insert(
            conn,
            &SessionInsertForm {
                id: crate::models::new_id(),
                user_id: user.id.clone(),
                token_hash: token::hash(&key),
                created_at: at,
                expires_at: at + chrono::Duration::days(KEY_DAYS),
                last_used_at: at,
                ip: None,
                user_agent: Some("department system key".to_owned()),
            },
        )?;
        let row = SystemRow {
            user_id: user.id,
            department_id: dept.id.clone(),
            name: req.name.trim().to_owned(),
            area_code: area.to_string(),
            created_by: caller.user.id.clone(),
            created_at: at,
            revoked_at: None,
        };
        queries::departments::insert_system(conn, &row)?;
        queries::audit::record(conn, Some(&caller.user.id), "department.system.create", &row.user_id, &dept.code)?;
        Ok(view(&row, &dept.code, Some(key.clone())))
    })
}

/// Revokes a system's key at once and switches its account off; what it did stays on timelines.
pub fn revoke(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    code: &str,
    id: &str,
) -> ApiResult<DepartmentSystem> {
    let dept = department(conn, code)?;
    let missing = || ApiError::not_found(format!("no system {id:?} of {code}"));
    write_tx(conn, |conn| {
        let row = queries::departments::system(conn, &dept.id, id)?
            .filter(|r| manages(caller, r, index))
            .ok_or_else(missing)?;
        let at = now();
        if !queries::departments::revoke_system(conn, id, at)? {
            return Err(ApiError::conflict("the system was revoked already").with_field(
                "id",
                "already_revoked",
                "nothing to do",
            ));
        }
        queries::sessions::revoke_all_for_user(conn, id, at)?;
        accounts::set_active(conn, id, false, Some(&caller.user.id))?;
        queries::audit::record(conn, Some(&caller.user.id), "department.system.revoke", id, &dept.code)?;
        let row = SystemRow { revoked_at: Some(at), ..row };
        Ok(view(&row, &dept.code, None))
    })
}
