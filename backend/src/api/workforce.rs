//! `GET /workforce`: who works the caller's area — on duty or not, their open tasks, where and
//! when they were last located — for the ops centres over it, and nobody else (positions are
//! personal data).

use std::collections::HashSet;

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::domain::area::AreaTree;
use gridwork_mobile_core::domain::event::OPS_ROLES;
use gridwork_mobile_core::wire::{LatLng, WorkerView, Workforce};
use gridwork_mobile_core::{AreaCode, Role};
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::queries;
use crate::state::AppState;

/// The roles that work in the field.
const FIELD_ROLES: [Role; 3] = [Role::GridWorker, Role::DeptHandler, Role::Volunteer];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WorkforceQuery {
    /// Only workers whose area lies in this one (inside the caller's).
    pub area: Option<String>,
}

pub async fn board(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<WorkforceQuery>,
) -> ApiResult<HttpResponse> {
    if caller.scopes_for(&OPS_ROLES).is_empty() {
        return Err(ApiError::forbidden("the workforce board is for ops centres"));
    }
    let index = state.areas();
    let within = match q.into_inner().area {
        None => None,
        Some(code) => {
            let code = AreaCode::parse(code.trim())?;
            // A filter only narrows: an area outside the caller's is as unknown as a missing one.
            if index.get(code.as_str()).is_none() || !caller.holds_over(&OPS_ROLES, Some(&code), &*index) {
                return Err(ApiError::not_found(format!("no area {code} in your reach")));
            }
            Some(code)
        }
    };
    // One round trip: the holders, then the open tasks of those the caller steers.
    let mut workers = state
        .db
        .run(move |conn| {
            let mut seen = HashSet::new();
            let mut workers: Vec<WorkerView> = vec![];
            for (user_id, display_name, role, area, on_duty, lat, lng, located_at) in
                queries::workers::field_staff(conn, &FIELD_ROLES.map(Role::as_str))?
            {
                let Some(area) = area.as_deref().and_then(|a| AreaCode::parse(a).ok()) else { continue };
                let mine = caller.holds_over(&OPS_ROLES, Some(&area), &*index);
                let wanted = within.as_ref().is_none_or(|w| index.is_within(&area, w));
                if !mine || !wanted || !seen.insert(user_id.clone()) {
                    continue;
                }
                workers.push(WorkerView {
                    user_id,
                    display_name,
                    role: role.parse().map_err(crate::events::internal)?,
                    area_code: Some(area.to_string()),
                    on_duty: on_duty.unwrap_or(false),
                    open_tasks: 0,
                    location: lat.zip(lng).map(|(lat, lng)| LatLng { lat, lng }),
                    located_at: located_at.map(|t| t.and_utc()),
                });
            }
            let ids: Vec<String> = workers.iter().map(|w| w.user_id.clone()).collect();
            let loads = queries::tasks::open_load(conn, &ids)?;
            for w in &mut workers {
                w.open_tasks = loads.get(&w.user_id).copied().unwrap_or(0);
            }
            Ok(workers)
        })
        .await?;
    // On duty first, then by name (the query's order).
    workers.sort_by_key(|w| !w.on_duty);
    Ok(HttpResponse::Ok().json(Workforce { workers }))
}
