//! Account operations shared by the HTTP API and the CLI, so both enforce the same rules.

use chrono::Duration;
use gridwork_mobile_core::{AreaCode, Password, Role, RoleGrant, Scope, Username};

use crate::auth::caller::{Grant, grants_of};
use crate::auth::throttle::{self, ThrottlePolicy};
use crate::auth::{password, token};
use crate::db::DbConn;
use crate::db::write_tx;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::models::department::Department;
use crate::models::role_assignment::RoleAssignment;
use crate::models::session::SessionInsertForm;
use crate::models::user::{User, UserInsertForm, UserUpdateForm};
use crate::models::{new_id, now};
use crate::queries;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub phone: Option<String>,
    pub password: Password,
}

pub fn create_user(conn: &mut DbConn, new: &NewUser, actor: Option<&str>) -> ApiResult<User> {
    let form = user_form(new)?;
    write_tx(conn, |conn| insert_user(conn, &form, actor))
}

/// The row of a new account. Hashing happens here, before any transaction: argon2 takes tens of
/// milliseconds and must not hold a write lock.
pub fn user_form(new: &NewUser) -> ApiResult<UserInsertForm> {
    let hash = password::hash(new.password.expose()).map_err(|e| ApiError::internal(e.to_string()))?;
    let at = now();
    Ok(UserInsertForm {
        id: new_id(),
        username: new.username.as_str().to_owned(),
        display_name: new.display_name.trim().to_owned(),
        phone: new.phone.clone(),
        password_hash: hash,
        is_active: true,
        created_at: at,
        updated_at: at,
    })
}

/// Stores a new account inside the caller's transaction; a taken username is a conflict.
pub fn insert_user(conn: &mut DbConn, form: &UserInsertForm, actor: Option<&str>) -> ApiResult<User> {
    if queries::users::by_username(conn, &form.username)?.is_some() {
        return Err(ApiError::conflict(format!("username {} is taken", form.username)).with_field(
            "username",
            "taken",
            "this username is taken",
        ));
    }
    let user = queries::users::insert(conn, form)?;
    queries::audit::record(conn, actor, "user.create", &user.id, &user.username)?;
    Ok(user)
}

pub fn find_user(conn: &mut DbConn, username_or_id: &str) -> ApiResult<User> {
    let by_name = Username::parse(username_or_id)
        .ok()
        .map(|u| queries::users::by_username(conn, u.as_str()))
        .transpose()?
        .flatten();
    match by_name {
        Some(user) => Ok(user),
        None => queries::users::by_id(conn, username_or_id)
            .map_err(|_| ApiError::not_found(format!("no user {username_or_id:?}"))),
    }
}

/// Sets a new password and ends every session but `keep` (the session of a user changing their
/// own password): whoever had the old one is signed out.
pub fn set_password(
    conn: &mut DbConn,
    user_id: &str,
    new: &Password,
    actor: Option<&str>,
    keep: Option<&str>,
) -> ApiResult<usize> {
    let hash = password::hash(new.expose()).map_err(|e| ApiError::internal(e.to_string()))?;
    write_tx(conn, |conn| {
        let at = now();
        let form = UserUpdateForm { password_hash: Some(hash), updated_at: Some(at), ..Default::default() };
        queries::users::update(conn, user_id, &form)?;
        let revoked = queries::sessions::revoke_all_for_user_but(conn, user_id, keep, at)?;
        queries::audit::record(conn, actor, "user.password", user_id, &format!("revoked {revoked} sessions"))?;
        Ok(revoked)
    })
}

pub fn revoke_sessions(conn: &mut DbConn, user_id: &str, actor: Option<&str>) -> ApiResult<usize> {
    write_tx(conn, |conn| {
        let revoked = queries::sessions::revoke_all_for_user(conn, user_id, now())?;
        queries::audit::record(conn, actor, "user.revoke_sessions", user_id, &format!("revoked {revoked} sessions"))?;
        Ok(revoked)
    })
}

pub fn set_active(conn: &mut DbConn, user_id: &str, active: bool, actor: Option<&str>) -> ApiResult<User> {
    write_tx(conn, |conn| {
        let at = now();
        if !active && queries::roles::is_system_admin(conn, user_id)? && queries::roles::count_system_admins(conn)? <= 1
        {
            return Err(ApiError::conflict("cannot disable the last system-wide administrator"));
        }
        let form = UserUpdateForm { is_active: Some(active), updated_at: Some(at), ..Default::default() };
        let user = queries::users::update(conn, user_id, &form)?;
        if !active {
            queries::sessions::revoke_all_for_user(conn, user_id, at)?;
        }
        queries::audit::record(conn, actor, if active { "user.enable" } else { "user.disable" }, user_id, "")?;
        Ok(user)
    })
}

pub fn roles_of(conn: &mut DbConn, user_id: &str) -> ApiResult<Vec<Grant>> {
    Ok(grants_of(queries::roles::for_user(conn, user_id)?))
}

/// Grants a role; granting one that is already held returns the existing grant (idempotent).
pub fn grant_role(conn: &mut DbConn, user_id: &str, grant: &RoleGrant, actor: Option<&str>) -> ApiResult<Grant> {
    write_tx(conn, |conn| {
        queries::users::by_id(conn, user_id).map_err(|_| ApiError::not_found(format!("no user {user_id}")))?;
        let department = match &grant.department_code {
            Some(code) => Some(queries::departments::by_code(conn, code)?.ok_or_else(|| {
                ApiError::field("department", "unknown_department", format!("no department with code {code:?}"))
            })?),
            None => None,
        };
        let area = grant.scope.area_code().map(|a| a.as_str().to_owned());
        let dept_id = department.as_ref().map(|d| d.id.clone());
        let role = grant.role.as_str();
        let row = match queries::roles::find(conn, user_id, role, area.as_deref(), dept_id.as_deref())? {
            Some(existing) => existing,
            None => {
                let row = RoleAssignment {
                    id: new_id(),
                    user_id: user_id.to_owned(),
                    role: role.to_owned(),
                    area_code: area.clone(),
                    department_id: dept_id,
                    granted_by: actor.map(str::to_owned),
                    created_at: now(),
                };
                queries::roles::insert(conn, &row)?;
                let detail = format!("{role} over {}", area.as_deref().unwrap_or("everywhere"));
                queries::audit::record(conn, actor, "role.grant", user_id, &detail)?;
                row
            }
        };
        crate::auth::caller::grant_from_row(&row, department.map(|d| d.code))
            .ok_or_else(|| ApiError::internal("stored grant does not parse"))
    })
}

/// Revokes one grant. The last system-wide administrator cannot be removed (scoped administrators
/// do not count: they cannot manage system-wide accounts), or nobody could administer everything.
pub fn revoke_role(conn: &mut DbConn, assignment_id: &str, actor: Option<&str>) -> ApiResult<()> {
    write_tx(conn, |conn| {
        let row = queries::roles::by_id(conn, assignment_id)
            .map_err(|_| ApiError::not_found(format!("no role assignment {assignment_id}")))?;
        let system_admin = row.role == Role::Admin.as_str() && row.area_code.is_none();
        if system_admin && queries::roles::count_system_admins(conn)? <= 1 {
            return Err(ApiError::conflict("cannot revoke the last system-wide administrator"));
        }
        queries::roles::delete(conn, assignment_id)?;
        let detail = format!("{} over {}", row.role, row.area_code.as_deref().unwrap_or("everywhere"));
        queries::audit::record(conn, actor, "role.revoke", &row.user_id, &detail)?;
        Ok(())
    })
}

pub fn create_department(
    conn: &mut DbConn,
    code: &str,
    name: &str,
    area: &AreaCode,
    actor: Option<&str>,
) -> ApiResult<Department> {
    write_tx(conn, |conn| {
        if queries::departments::by_code(conn, code)?.is_some() {
            return Err(ApiError::conflict(format!("department {code} exists")).with_field(
                "code",
                "taken",
                "this code is taken",
            ));
        }
        let row = Department {
            id: new_id(),
            code: code.to_owned(),
            name: name.trim().to_owned(),
            area_code: area.as_str().to_owned(),
            created_at: now(),
        };
        queries::departments::insert(conn, &row)?;
        queries::audit::record(conn, actor, "department.create", &row.id, code)?;
        Ok(row)
    })
}

#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug)]
pub struct LoginOutcome {
    pub token: String,
    pub expires_at: chrono::NaiveDateTime,
    pub user: User,
}

pub fn login(conn: &mut DbConn, req: &LoginRequest, policy: &ThrottlePolicy, ttl: Duration) -> ApiResult<LoginOutcome> {
    let username = req.username.trim().to_ascii_lowercase();
    let account = throttle::account_key(&username);
    let address = req.ip.as_deref().map(|ip| (throttle::ip_key(ip), policy.max_failures_per_ip));
    let mut keys = vec![(account.clone(), policy.max_failures_per_account)];
    keys.extend(address.clone());
    write_tx(conn, |conn| throttle::take_attempt(conn, &keys, policy, now()))?;

    let user = queries::users::by_username(conn, &username)?;
    let ok = match &user {
        Some(u) => password::verify(&req.password, &u.password_hash),
        None => {
            password::verify_dummy(&req.password);
            false
        }
    };
    // A disabled account answers exactly as a wrong password does: a different answer would tell a
    // guesser that the password was right.
    let Some(user) = user.filter(|u| ok && u.is_active) else {
        // If this failure tripped the lock, say so now rather than on the next attempt.
        let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
        throttle::check(conn, &names, now()).inspect_err(|_| {
            tracing::warn!(account = %account, "sign-in locked after repeated failures");
        })?;
        return Err(ApiError::new(ErrorCode::InvalidCredentials, "wrong username or password"));
    };
    let token = token::generate();
    let at = now();
    let expires_at = at + ttl;
    write_tx(conn, |conn| {
        throttle::forgive(conn, &account, address.as_ref().map(|(k, l)| (k.as_str(), *l)))?;
        queries::sessions::insert(
            conn,
            &SessionInsertForm {
                id: new_id(),
                user_id: user.id.clone(),
                token_hash: token::hash(&token),
                created_at: at,
                expires_at,
                last_used_at: at,
                ip: req.ip.clone(),
                user_agent: req.user_agent.clone(),
            },
        )?;
        Ok::<_, ApiError>(())
    })?;
    tracing::info!(user = %user.id, "signed in");
    Ok(LoginOutcome { token, expires_at, user })
}

/// Parses a scope argument: an area code, or `*` / absent for system-wide.
pub fn parse_scope(raw: Option<&str>) -> ApiResult<Scope> {
    match raw.map(str::trim) {
        None | Some("" | "*") => Ok(Scope::Everywhere),
        Some(code) => Ok(Scope::Area(AreaCode::parse(code).map_err(|e| ApiError::field("scope", e.code, e.message))?)),
    }
}
