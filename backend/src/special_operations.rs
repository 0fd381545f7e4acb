//! Special operations (专项): an ops centre groups one task per area of a level inside its area
//! (check every compound of a grid, clean every community of a street) under a named operation
//! with a period, optionally as part of an emergency. Each task is an event at the area's
//! interior point, accepted and dispatched like a grid worker's report; the operation shows how
//! far it has got.

use gridwork_mobile_core::domain::event::{EventState, OPS_ROLES, Source};
use gridwork_mobile_core::wire::{OperationTask, SpecialOperationRequest, SpecialOperationView};
use gridwork_mobile_core::{AreaCode, AreaLevel};
use serde_json::json;

use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::events::actions::Ctx;
use crate::events::intake::{self, DirectReport};
use crate::events::timeline::Who;
use crate::models::emergency::OperationRow;
use crate::models::{new_id, now};
use crate::queries;

/// The most tasks one operation opens.
pub const MAX_TASKS: usize = 500;

/// The areas of `level` inside `area`, in code order.
fn areas_at(index: &AreaIndex, area: &str, level: AreaLevel) -> Vec<(String, String)> {
    let mut out = vec![];
    let mut stack = vec![area.to_owned()];
    while let Some(code) = stack.pop() {
        for child in index.children_of(&code) {
            if child.level == level {
                out.push((child.code.clone(), child.name.clone()));
            } else if child.level < level {
                stack.push(child.code.clone());
            }
        }
    }
    out.sort();
    out
}

pub fn create(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    caller: &Caller,
    req: &SpecialOperationRequest,
) -> ApiResult<SpecialOperationView> {
    let index = ctx.index;
    let area = crate::areas::mapped_area(index, "area", &req.area)?;
    caller.require_over(&OPS_ROLES, Some(&area), index)?;
    let level = index.get(area.as_str()).map(|a| a.level).ok_or_else(|| ApiError::internal("mapped area"))?;
    if req.target_level <= level {
        return Err(ApiError::field("target_level", "invalid_level", "a level below the operation's area"));
    }
    let at = now();
    if req.ends_at.naive_utc() <= at {
        return Err(ApiError::field("ends_at", "out_of_range", "the operation ends after now"));
    }
    let targets = areas_at(index, area.as_str(), req.target_level);
    if targets.is_empty() {
        return Err(ApiError::field("target_level", "no_areas", format!("no {} inside {area}", req.target_level)));
    }
    if targets.len() > MAX_TASKS {
        return Err(ApiError::field(
            "target_level",
            "too_many",
            format!("{} areas: an operation opens at most {MAX_TASKS} tasks", targets.len()),
        ));
    }
    let who = Who { user_id: caller.user.id.clone(), role: crate::emergency::acting_role(caller, &area, index) };
    let row = OperationRow {
        id: new_id(),
        name: req.name.trim().to_owned(),
        area_code: area.to_string(),
        target_level: req.target_level.as_str().to_owned(),
        category_code: req.category.trim().to_owned(),
        description: req.description.trim().to_owned(),
        starts_at: at,
        ends_at: req.ends_at.naive_utc(),
        emergency_id: req.emergency_id.clone(),
        created_by: caller.user.id.clone(),
        created_at: at,
    };
    write_tx(conn, |conn| {
        if let Some(id) = &row.emergency_id {
            let running = queries::emergency::by_id(conn, id)?
                .filter(|e| e.ended_at.is_none())
                .and_then(|e| AreaCode::parse(&e.area_code).ok())
                .is_some_and(|e| gridwork_mobile_core::domain::area::AreaTree::is_within(index, &area, &e));
            if !running {
                return Err(ApiError::field(
                    "emergency_id",
                    "unknown_emergency",
                    "no running emergency over this area",
                ));
            }
        }
        queries::emergency::insert_operation(conn, &row)?;
        for (code, name) in &targets {
            let (lat, lng, _) = crate::areas::store::interior_point(conn, code)?
                .ok_or_else(|| ApiError::internal("mapped area without an interior point"))?;
            let report = DirectReport {
                source: Source::GridWorker,
                reporter: caller.user.id.clone(),
                who: who.clone(),
                category: row.category_code.clone(),
                grade: None,
                lat,
                lng,
                description: format!("【{}】{}（{name}）", row.name, row.description),
                detail: json!({"operation": row.id, "area": code}),
            };
            let event = intake::open_direct(conn, ctx, &report)?;
            let task = crate::models::emergency::OperationTaskRow {
                operation_id: row.id.clone(),
                area_code: code.clone(),
                event_id: event.id,
            };
            queries::emergency::insert_task(conn, &task)?;
        }
        let detail = format!("{} in {}: {} tasks", row.name, row.area_code, targets.len());
        queries::audit::record(conn, Some(&caller.user.id), "operation.create", &row.id, &detail)?;
        Ok::<(), ApiError>(())
    })?;
    view(conn, index, &row)
}

pub fn view(conn: &mut DbConn, index: &AreaIndex, row: &OperationRow) -> ApiResult<SpecialOperationView> {
    let bad = |e: gridwork_mobile_core::DomainError| ApiError::internal(e.message);
    let mut tasks = vec![];
    for (area, event_id, state) in queries::emergency::tasks_of(conn, &row.id)? {
        tasks.push(OperationTask {
            area_name: index.get(&area).map(|a| a.name.clone()).unwrap_or_default(),
            area,
            event_id,
            state: state.parse().map_err(bad)?,
        });
    }
    let closed = tasks.iter().filter(|t| t.state == EventState::Closed).count();
    Ok(SpecialOperationView {
        id: row.id.clone(),
        name: row.name.clone(),
        area: row.area_code.clone(),
        target_level: row.target_level.parse().map_err(bad)?,
        category: row.category_code.clone(),
        starts_at: row.starts_at.and_utc(),
        ends_at: row.ends_at.and_utc(),
        emergency_id: row.emergency_id.clone(),
        created_by: row.created_by.clone(),
        total: i64::try_from(tasks.len()).unwrap_or(i64::MAX),
        closed: i64::try_from(closed).unwrap_or(i64::MAX),
        tasks,
    })
}

/// Operations the caller watches (inside or over their areas), newest first.
pub fn list(conn: &mut DbConn, index: &AreaIndex, caller: &Caller, limit: i64) -> ApiResult<Vec<SpecialOperationView>> {
    let rows = queries::emergency::operations(conn, 1000)?;
    let mut out = vec![];
    for r in rows.iter().filter(|r| crate::emergency::concerns(caller, index, &r.area_code)) {
        out.push(view(conn, index, r)?);
        if out.len() as i64 >= limit {
            break;
        }
    }
    Ok(out)
}

/// One operation, 404 outside the caller's reach.
pub fn get(conn: &mut DbConn, index: &AreaIndex, caller: &Caller, id: &str) -> ApiResult<SpecialOperationView> {
    let row = queries::emergency::operation(conn, id)?
        .filter(|r| crate::emergency::concerns(caller, index, &r.area_code))
        .ok_or_else(|| ApiError::not_found("no such operation"))?;
    view(conn, index, &row)
}
