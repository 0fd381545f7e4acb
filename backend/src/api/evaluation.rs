//! `GET /api/v1/evaluation`: on-time and rework rates per unit, for operators and coordinators
//! over their own areas.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::AreaLevel;
use gridwork_mobile_core::domain::event::OPS_ROLES;
use gridwork_mobile_core::domain::task::TaskState;
use gridwork_mobile_core::wire::Evaluation;
use serde::Deserialize;

use super::events::{area_filter, scoped};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::events::evaluation::{Fact, score};
use crate::models::event::{EventRow, TaskRow};
use crate::models::now;
use crate::queries;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvaluationQuery {
    /// `district`, `street`, `community`, `grid`, `department` or `handler` [default: street]
    pub by: Option<String>,
    pub area: Option<String>,
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
}

enum By {
    Level(AreaLevel),
    Department,
    Handler,
}

pub async fn evaluate(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<EvaluationQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&OPS_ROLES)?;
    let q = q.into_inner();
    let by = match q.by.as_deref().unwrap_or("street") {
        "department" => By::Department,
        "handler" => By::Handler,
        other => By::Level(other.parse::<AreaLevel>().map_err(|_| {
            ApiError::field("by", "invalid", "by is one of district, street, community, grid, department, handler")
        })?),
    };
    let (from, to) = (q.from.naive_utc(), q.to.naive_utc());
    if from >= to || to - from > chrono::Duration::days(366) {
        return Err(ApiError::field("to", "out_of_range", "to must follow from, at most a year later"));
    }
    let index = state.areas();
    let mut filter = scoped(&caller, &index);
    filter.created_to = Some(to);
    filter.within = q.area.as_deref().map(|a| area_filter(&index, a)).transpose()?;
    filter.limit = i64::MAX;
    let areas = index.clone();
    let scores = state
        .db
        .run(move |conn| {
            let rows: Vec<EventRow> = queries::events::list(conn, &filter)?
                .into_iter()
                .filter(|r| r.updated_at >= from || !matches!(r.state.as_str(), "closed" | "rejected"))
                .collect();
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mut merged = std::collections::HashSet::new();
            let mut orders = std::collections::HashMap::new();
            let mut excused = std::collections::HashMap::new();
            for chunk in ids.chunks(500) {
                merged.extend(queries::events::merged_ids(conn, chunk)?);
                orders.extend(queries::events::order_counts(conn, chunk)?);
                excused.extend(queries::events::excuse_counts(conn, chunk)?);
            }
            let fact = |r: &EventRow, unit: Option<String>| Fact {
                unit,
                state: r.state.clone(),
                created_at: r.created_at,
                updated_at: r.updated_at,
                due_at: r.due_at,
                late_stages: r.late_stages,
                excused_stages: i32::try_from(excused.get(&r.id).copied().unwrap_or(0)).unwrap_or(i32::MAX),
                rework_count: r.rework_count,
                extension_count: r.extension_count,
                merged: merged.contains(&r.id),
                supervision_orders: orders.get(&r.id).copied().unwrap_or(0),
            };
            let facts: Vec<Fact> = match by {
                By::Level(level) => rows.iter().map(|r| fact(r, r.code_at(level).map(str::to_owned))).collect(),
                By::Department | By::Handler => {
                    let mut out = vec![];
                    for chunk in rows.chunks(500) {
                        // One query per 500 events, not one per event.
                        let ids: Vec<String> = chunk.iter().map(|r| r.id.clone()).collect();
                        let mut tasks: HashMap<String, Vec<TaskRow>> = HashMap::new();
                        for t in queries::tasks::for_events(conn, &ids)? {
                            tasks.entry(t.event_id.clone()).or_default().push(t);
                        }
                        for r in chunk {
                            // Each task counts for its handler (or department) once.
                            for t in tasks.remove(&r.id).unwrap_or_default() {
                                if t.state.parse::<TaskState>().is_ok_and(TaskState::is_gone) {
                                    continue;
                                }
                                let unit = if matches!(by, By::Handler) { Some(t.user_id) } else { t.department_id };
                                out.push(fact(r, unit));
                            }
                        }
                    }
                    out
                }
            };
            let mut scores = score(&facts, from, to, now());
            let names: HashMap<String, String> = match by {
                By::Level(_) => {
                    scores.iter().filter_map(|s| Some((s.unit.clone(), areas.get(&s.unit)?.name.clone()))).collect()
                }
                By::Department => queries::departments::list(conn)?.into_iter().map(|d| (d.id, d.name)).collect(),
                By::Handler => {
                    let ids: Vec<String> = scores.iter().map(|s| s.unit.clone()).collect();
                    queries::users::by_ids(conn, &ids)?.into_iter().map(|u| (u.id, u.display_name)).collect()
                }
            };
            for s in &mut scores {
                s.name = names.get(&s.unit).cloned();
            }
            Ok(scores)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Evaluation { from: q.from, to: q.to, units: scores }))
}
