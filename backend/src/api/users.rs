//! User administration. Administrators manage accounts and grants within their scope; people
//! managers (coordinators, operators) may look up users who work in their area.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::domain::area::AreaTree;
use gridwork_mobile_core::wire::{GrantRevoked, SessionsRevoked, Track, TrackPoint, UserPage, UserWithRoles};
use gridwork_mobile_core::{Password, Role, RoleGrant, Scope, Username};
use serde::Deserialize;
use validator::Validate;

use crate::accounts::{self, NewUser};
use crate::auth::Caller;
use crate::auth::caller::{Grant, MANAGER_ROLES, grants_of};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ValidJson;
use crate::models::user::User;
use crate::queries;
use crate::state::AppState;

/// Whether the caller, with one of `roles`, reaches a user holding `target` (see
/// [`Caller::reaches_person`]).
fn reaches(caller: &Caller, roles: &[Role], target: &[Grant], tree: &impl AreaTree) -> bool {
    let areas: Vec<_> = target.iter().map(|g| g.scope.area_code()).collect();
    caller.reaches_person(roles, &areas, tree)
}

async fn load_target(state: &AppState, id: String) -> ApiResult<(User, Vec<Grant>)> {
    state
        .db
        .run(move |conn| {
            let user = accounts::find_user(conn, &id)?;
            let grants = accounts::roles_of(conn, &user.id)?;
            Ok((user, grants))
        })
        .await
}

/// Loads a user the caller may act on with one of `roles`; others are reported as not found so
/// that accounts outside one's area cannot be probed.
async fn target_for(caller: &Caller, state: &AppState, id: String, roles: &[Role]) -> ApiResult<(User, Vec<Grant>)> {
    caller.require_any(roles)?;
    let (user, grants) = load_target(state, id.clone()).await?;
    if user.id != caller.user.id && !reaches(caller, roles, &grants, &*state.areas()) {
        return Err(ApiError::not_found(format!("no user {id:?}")));
    }
    Ok((user, grants))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

pub async fn list(caller: Caller, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    caller.require_any(&MANAGER_ROLES)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 1000"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::field("offset", "out_of_range", "offset must not be negative"));
    }
    let tree = state.areas();
    let everywhere = caller.holds_over(&MANAGER_ROLES, None, &*tree);
    let areas: Vec<String> = caller
        .scopes_for(&MANAGER_ROLES)
        .into_iter()
        .filter_map(Scope::area_code)
        .flat_map(|a| tree.subtree(a))
        .map(String::from)
        .collect();
    let rows = state
        .db
        .run(move |conn| {
            let users = if everywhere {
                queries::users::list(conn, limit, offset)?
            } else {
                let ids = queries::roles::user_ids_in_areas(conn, &areas)?;
                queries::users::by_ids(conn, &ids)?
            };
            let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
            let mut grants = queries::roles::for_users(conn, &ids)?;
            Ok(users
                .into_iter()
                .map(|u| {
                    let mine: Vec<_> = grants.extract_if(.., |(r, _)| r.user_id == u.id).collect();
                    // Phone numbers only one at a time (`GET /users/{id}`), where each read is audited.
                    UserWithRoles { user: u.view(false), roles: grants_of(mine) }
                })
                .collect::<Vec<_>>())
        })
        .await?;
    // Scoped managers see only the users they reach: a user with a grant elsewhere is not theirs.
    let rows: Vec<UserWithRoles> = if everywhere {
        rows
    } else {
        rows.into_iter()
            .filter(|u| reaches(&caller, &MANAGER_ROLES, &u.roles, &*tree))
            .skip(usize::try_from(offset).unwrap_or(0))
            .take(usize::try_from(limit).unwrap_or(0))
            .collect()
    };
    Ok(HttpResponse::Ok().json(UserPage { users: rows, limit, offset }))
}

/// A user with their phone number: personal data, so a manager's read is written to the audit log.
pub async fn get(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (user, roles) = target_for(&caller, &state, path.into_inner(), &MANAGER_ROLES).await?;
    if user.id != caller.user.id && user.phone.is_some() {
        let (reader, subject) = (caller.user.id.clone(), user.id.clone());
        state
            .db
            .run(move |conn| Ok(queries::audit::record(conn, Some(&reader), "phone.read", &subject, "user record")?))
            .await?;
    }
    Ok(HttpResponse::Ok().json(UserWithRoles { user: user.view(true), roles }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrackQuery {
    /// RFC 3339 [default: 24 hours before `to`]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// RFC 3339 [default: now]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// The longest stretch one read of a track may cover.
const TRACK_MAX_DAYS: i64 = 7;
const TRACK_MAX_POINTS: i64 = 20_000;

/// Where a worker was while on duty. Only their coordinators (and the worker) see it, and each
/// read by someone else is written to the audit log.
pub async fn track(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<TrackQuery>,
) -> ApiResult<HttpResponse> {
    let to = q.to.unwrap_or_else(chrono::Utc::now);
    let from = q.from.unwrap_or(to - chrono::Duration::hours(24));
    if from > to {
        return Err(ApiError::field("from", "out_of_range", "from must not be after to"));
    }
    if to - from > chrono::Duration::days(TRACK_MAX_DAYS) {
        return Err(ApiError::field("from", "out_of_range", "a track covers at most 7 days"));
    }
    let id = path.into_inner();
    let (user, _) = if id == caller.user.id || id == caller.user.username {
        load_target(&state, id).await?
    } else {
        target_for(&caller, &state, id, &[Role::Coordinator]).await?
    };
    let (reader, subject) = (caller.user.id.clone(), user.id.clone());
    let points = state
        .db
        .run(move |conn| {
            if reader != subject {
                let detail = format!("{} to {}", from.to_rfc3339(), to.to_rfc3339());
                queries::audit::record(conn, Some(&reader), "track.read", &subject, &detail)?;
            }
            Ok(queries::workers::track(conn, &subject, from.naive_utc(), to.naive_utc(), TRACK_MAX_POINTS)?)
        })
        .await?;
    let points = points
        .into_iter()
        .map(|p| TrackPoint { lat: p.lat, lng: p.lng, accuracy_m: p.accuracy_m, recorded_at: p.recorded_at.and_utc() })
        .collect();
    Ok(HttpResponse::Ok().json(Track { user_id: user.id, from, to, points }))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    pub username: String,
    #[validate(length(min = 1, max = 100, message = "display_name must be 1 to 100 characters"))]
    #[validate(custom(function = "crate::http::extract::not_blank"))]
    pub display_name: String,
    #[validate(length(min = 5, max = 32, message = "phone must be 5 to 32 characters"))]
    pub phone: Option<String>,
    pub password: String,
}

pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<CreateUserBody>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&[Role::Admin])?;
    let body = body.0;
    let new = NewUser {
        username: Username::parse(&body.username)?,
        display_name: body.display_name,
        phone: body.phone,
        password: Password::parse(&body.password)?,
    };
    let actor = caller.user.id.clone();
    let user = state.db.run(move |conn| accounts::create_user(conn, &new, Some(&actor))).await?;
    Ok(HttpResponse::Created().json(UserWithRoles { user: user.view(true), roles: vec![] }))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    pub is_active: Option<bool>,
    pub password: Option<String>,
}

pub async fn update(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<UpdateUserBody>,
) -> ApiResult<HttpResponse> {
    let (user, _) = target_for(&caller, &state, path.into_inner(), &[Role::Admin]).await?;
    let body = body.0;
    let password = body.password.as_deref().map(Password::parse).transpose()?;
    if user.id == caller.user.id && body.is_active == Some(false) {
        return Err(ApiError::field("is_active", "self_disable", "you cannot disable your own account"));
    }
    if user.id == caller.user.id && password.is_some() {
        // One's own password changes only with the current one (a borrowed session must not).
        return Err(ApiError::field(
            "password",
            "use_me_password",
            "change your own password with POST /api/v1/me/password",
        ));
    }
    let actor = caller.user.id.clone();
    let user = state
        .db
        .run(move |conn| {
            if let Some(p) = &password {
                accounts::set_password(conn, &user.id, p, Some(&actor), None)?;
            }
            match body.is_active {
                Some(active) => accounts::set_active(conn, &user.id, active, Some(&actor)),
                None => Ok(queries::users::by_id(conn, &user.id)?),
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(user.view(true)))
}

pub async fn revoke_sessions(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (user, _) = target_for(&caller, &state, path.into_inner(), &[Role::Admin]).await?;
    let actor = caller.user.id.clone();
    let revoked = state.db.run(move |conn| accounts::revoke_sessions(conn, &user.id, Some(&actor))).await?;
    Ok(HttpResponse::Ok().json(SessionsRevoked { status: None, sessions_revoked: revoked }))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    pub role: String,
    /// An area code; absent for a system-wide grant (administrators only).
    pub scope: Option<String>,
    pub department: Option<String>,
}

pub async fn grant_role(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<GrantBody>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let role: Role = body.role.parse()?;
    let scope = accounts::parse_scope(body.scope.as_deref())?;
    let grant = RoleGrant::new(role, scope, body.department)?;
    // Only an administrator over the grant's whole scope may hand it out, and only to a user they
    // already reach or a member of the public (no grant, or residents only: a new colleague, a
    // resident recruited as a volunteer). Staff of other areas are "not found". Either way the
    // grant does not widen reach: `reaches` still needs *every* grant inside the caller's scope.
    caller.require_over(&[Role::Admin], grant.scope.area_code(), &*state.areas())?;
    let id = path.into_inner();
    let (user, held) = load_target(&state, id.clone()).await?;
    let public = held.iter().all(|g| g.role == Role::Resident);
    if !public && user.id != caller.user.id && !reaches(&caller, &[Role::Admin], &held, &*state.areas()) {
        return Err(ApiError::not_found(format!("no user {id:?}")));
    }
    let actor = caller.user.id.clone();
    let granted = state.db.run(move |conn| accounts::grant_role(conn, &user.id, &grant, Some(&actor))).await?;
    Ok(HttpResponse::Created().json(granted))
}

pub async fn revoke_role(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (user_id, assignment_id) = path.into_inner();
    let (user, grants) = target_for(&caller, &state, user_id, &[Role::Admin]).await?;
    let grant = grants
        .into_iter()
        .find(|g| g.id == assignment_id)
        .ok_or_else(|| ApiError::not_found(format!("user has no role assignment {assignment_id}")))?;
    caller.require_over(&[Role::Admin], grant.scope.area_code(), &*state.areas())?;
    let actor = caller.user.id.clone();
    state.db.run(move |conn| accounts::revoke_role(conn, &grant.id, Some(&actor))).await?;
    Ok(HttpResponse::Ok().json(GrantRevoked { revoked: assignment_id, user_id: user.id }))
}
