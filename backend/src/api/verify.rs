//! `GET /verify-queue`: resolved events waiting for a check on site (待核查) in the areas where
//! the caller may verify, the ones due soonest first. Events the caller resolved themselves are
//! left out: the machine would refuse them (`verifier_is_resolver`).

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::domain::event::{EventState, VERIFIER_ROLES};
use gridwork_mobile_core::wire::EventPage;
use serde::Deserialize;

use super::events::{views_of, within_roles};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::queries;
use crate::queries::events::EventFilter;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VerifyQuery {
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200 [default: 50]
    pub limit: Option<i64>,
}

/// The most resolved events one verifier's areas are expected to hold at once.
const QUEUE_MAX: i64 = 5_000;

pub async fn queue(caller: Caller, state: web::Data<AppState>, q: web::Query<VerifyQuery>) -> ApiResult<HttpResponse> {
    caller.require_any(&VERIFIER_ROLES)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 200"));
    }
    let offset: usize = match q.cursor.as_deref() {
        None => 0,
        Some(c) => {
            c.parse().map_err(|_| ApiError::field("cursor", "invalid", "pass the `next` value of the previous page"))?
        }
    };
    let index = state.areas();
    let mut filter = EventFilter { limit: QUEUE_MAX, ..within_roles(&caller, &index, &VERIFIER_ROLES) };
    filter.states = vec![EventState::Resolved.as_str().to_owned()];
    let me = caller.user.id.clone();
    let mut events = state
        .db
        .run(move |conn| {
            if filter.scope.is_empty() && !filter.everywhere {
                return Ok(vec![]);
            }
            let rows = queries::events::list(conn, &filter)?;
            views_of(conn, &rows)
        })
        .await?;
    events.retain(|e| e.resolved_by.as_deref() != Some(me.as_str()) && !e.resolved_parts.contains(&me));
    // Due soonest first; equal (or no) deadlines oldest first.
    events.sort_by(|a, b| match (a.due_at, b.due_at) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.updated_at.cmp(&b.updated_at),
    });
    let total = events.len();
    let page: Vec<_> = events.into_iter().skip(offset).take(usize::try_from(limit).unwrap_or(50)).collect();
    let end = offset + page.len();
    Ok(HttpResponse::Ok().json(EventPage { events: page, limit, next: (end < total).then(|| end.to_string()) }))
}
