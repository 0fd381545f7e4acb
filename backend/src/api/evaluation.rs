//! `GET /api/v1/evaluation`: every rate per unit over a period, for operators and coordinators
//! over their own areas.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::AreaLevel;
use gridwork_mobile_core::domain::event::OPS_ROLES;
use gridwork_mobile_core::wire::Evaluation;
use serde::Deserialize;

use super::events::{area_filter, within_roles};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::models::now;
use crate::queries::evaluation::{Reach, Unit};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvaluationQuery {
    /// `city`, `district`, `street`, `community`, `grid`, `department` or `handler` [default: street]
    pub by: Option<String>,
    pub area: Option<String>,
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
}

pub async fn evaluate(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<EvaluationQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&OPS_ROLES)?;
    let q = q.into_inner();
    let unit = match q.by.as_deref().unwrap_or("street") {
        "department" => Unit::Department,
        "handler" => Unit::Handler,
        other => Unit::Area(other.parse::<AreaLevel>().ok().filter(|l| *l <= AreaLevel::Grid).ok_or_else(|| {
            ApiError::field(
                "by",
                "invalid",
                "by is one of city, district, street, community, grid, department, handler",
            )
        })?),
    };
    let (from, to) = (q.from.naive_utc(), q.to.naive_utc());
    if from >= to || to - from > chrono::Duration::days(366) {
        return Err(ApiError::field("to", "out_of_range", "to must follow from, at most a year later"));
    }
    let index = state.areas();
    let scope = within_roles(&caller, &index, &OPS_ROLES);
    let reach = Reach {
        everywhere: scope.everywhere,
        areas: scope.scope,
        within: q.area.as_deref().map(|a| area_filter(&index, a)).transpose()?,
    };
    let scores = state
        .db
        .run(move |conn| crate::events::evaluation::scores(conn, &index, unit, &reach, (from, to), now()))
        .await?;
    Ok(HttpResponse::Ok().json(Evaluation { from: q.from, to: q.to, units: scores }))
}
