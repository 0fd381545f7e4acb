//! `Caller`: the signed-in user of a request, with their role grants. Handlers that take a
//! `Caller` are authenticated; authorisation is asked of it explicitly (`require_*`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use gridwork_mobile_core::domain::area::AreaTree;
use gridwork_mobile_core::{AreaCode, Role, Scope};

use crate::error::{ApiError, ApiResult};
use crate::models::now;
use crate::models::role_assignment::RoleAssignment;
use crate::models::user::User;
use crate::queries;
use crate::state::AppState;

use super::cache::Fresh;
use super::token;

pub use gridwork_mobile_core::wire::Grant;

/// A stored grant as the wire shows it. Rows are written only through checked paths; a row that
/// no longer parses (edited by hand) is skipped with a warning rather than granting anything.
pub fn grant_from_row(row: &RoleAssignment, department: Option<String>) -> Option<Grant> {
    let role = row.role.parse::<Role>().ok()?;
    let scope = match &row.area_code {
        None => Scope::Everywhere,
        Some(code) => Scope::Area(AreaCode::parse(code).ok()?),
    };
    Some(Grant { id: row.id.clone(), role, scope, department })
}

pub fn grants_of(rows: Vec<(RoleAssignment, Option<String>)>) -> Vec<Grant> {
    rows.into_iter()
        .filter_map(|(row, dept)| {
            let grant = grant_from_row(&row, dept);
            if grant.is_none() {
                tracing::warn!(assignment = %row.id, "ignoring malformed role assignment");
            }
            grant
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub session_id: String,
    pub grants: Vec<Grant>,
}

/// Roles that manage people in their area: they may see users and their phone numbers there.
pub const MANAGER_ROLES: [Role; 4] = [Role::Admin, Role::CityOperator, Role::DistrictOperator, Role::Coordinator];

impl Caller {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// Every role the caller holds, wherever (a capacity such as a report's source).
    pub fn roles(&self) -> Vec<Role> {
        self.grants.iter().map(|g| g.role).collect()
    }

    /// The scopes over which the caller holds any of `roles`.
    pub fn scopes_for(&self, roles: &[Role]) -> Vec<&Scope> {
        self.grants.iter().filter(|g| roles.contains(&g.role)).map(|g| &g.scope).collect()
    }

    /// Whether the caller holds one of `roles` over `area` (`None` = system-wide).
    pub fn holds_over(&self, roles: &[Role], area: Option<&AreaCode>, tree: &impl AreaTree) -> bool {
        self.scopes_for(roles).into_iter().any(|scope| match (scope, area) {
            (Scope::Everywhere, _) => true,
            (Scope::Area(_), None) => false,
            (s @ Scope::Area(_), Some(a)) => s.covers(a, tree),
        })
    }

    /// [`Caller::holds_over`] for an area code as stored: a code that does not parse is reached
    /// by nobody.
    pub fn holds_over_code(&self, roles: &[Role], code: &str, tree: &impl AreaTree) -> bool {
        AreaCode::parse(code).is_ok_and(|a| self.holds_over(roles, Some(&a), tree))
    }

    /// Whether the caller holds one of `roles` in or over the stored area `code` (an emergency
    /// or an override there concerns them either way).
    pub fn works_in_code(&self, roles: &[Role], code: &str, tree: &impl AreaTree) -> bool {
        AreaCode::parse(code).is_ok_and(|a| self.scopes_for(roles).iter().any(|s| s.touches(&a, tree)))
    }

    /// Whether the caller, with one of `roles`, reaches a person whose grants lie in `areas`
    /// (`None`: a system-wide grant): a system-wide holder reaches everyone; anyone else only a
    /// person *all* of whose areas lie inside the caller's scope. So a grant handed out inside
    /// one's area never brings an account from elsewhere into reach, and system-wide accounts
    /// (and accounts with no grant at all) are reached only system-wide.
    pub fn reaches_person(&self, roles: &[Role], areas: &[Option<&AreaCode>], tree: &impl AreaTree) -> bool {
        self.holds_over(roles, None, tree)
            || (!areas.is_empty() && areas.iter().all(|a| a.is_some_and(|a| self.holds_over(roles, Some(a), tree))))
    }

    pub fn require_over(&self, roles: &[Role], area: Option<&AreaCode>, tree: &impl AreaTree) -> ApiResult<()> {
        if self.holds_over(roles, area, tree) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::forbidden(match area {
            Some(a) => format!("this needs one of the roles [{}] over area {a}", names.join(", ")),
            None => format!("this needs one of the roles [{}] system-wide", names.join(", ")),
        }))
    }

    pub fn require_any(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.iter().any(|r| self.has_role(*r)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!("this needs one of the roles [{}]", names.join(", "))))
        }
    }
}

fn bearer(req: &HttpRequest) -> ApiResult<String> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("sign in first: send Authorization: Bearer <token>"))?;
    let value = value.to_str().map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) =
        value.split_once(' ').ok_or_else(|| ApiError::unauthorized("malformed Authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized("use the Bearer scheme"));
    }
    Ok(token.trim().to_owned())
}

/// Re-stamping `last_used_at` on every request would turn every read into a write; once a
/// minute is enough to see which sessions are in use.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = ApiResult<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let hash = token::hash(&token);
            if let Some(caller) = state.sessions.get(&hash, now(), TOUCH_EVERY) {
                return Ok(caller);
            }
            let epoch = state.sessions.epoch();
            let key = hash.clone();
            let fresh = state
                .db
                .run(move |conn| {
                    let now = now();
                    let (session, user) = queries::sessions::live_by_token_hash(conn, &key, now)?.ok_or_else(|| {
                        ApiError::unauthorized("the session is invalid, expired or revoked; sign in again")
                    })?;
                    let mut last_used_at = session.last_used_at;
                    if now - last_used_at >= TOUCH_EVERY {
                        queries::sessions::touch(conn, &session.id, now)?;
                        last_used_at = now;
                    }
                    let grants = grants_of(queries::roles::for_user(conn, &user.id)?);
                    let caller = Caller { user, session_id: session.id, grants };
                    Ok(Fresh { caller, expires_at: session.expires_at, last_used_at })
                })
                .await?;
            let caller = fresh.caller.clone();
            state.sessions.put(hash, fresh, epoch);
            Ok(caller)
        })
    }
}
