//! `GET /verify-queue`: resolved events waiting for a check on site (待核查) in the areas where
//! the caller may verify, the ones due soonest first. Events the caller resolved themselves are
//! left out: the machine would refuse them (`verifier_is_resolver`).

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::domain::event::{EventState, VERIFIER_ROLES};
use gridwork_mobile_core::wire::EventPage;
use serde::Deserialize;

use super::events::{views_of, within_roles};
use super::paging::Window;
use crate::auth::Caller;
use crate::error::ApiResult;
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
    let window = Window::parse(q.limit, q.cursor.as_deref())?;
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
    let (events, next) = window.take(events);
    Ok(HttpResponse::Ok().json(EventPage { events, limit: window.limit, next }))
}
