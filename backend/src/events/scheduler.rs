//! The deadline scheduler: warns when a share of a stage's time is used, and escalates overdue
//! events one management level up (street → district → city) with a supervision order, again
//! after every further stage-length of delay until the city ops centre has it.
//!
//! All its state is in the events table, so it survives restarts; every change it makes is a
//! conditional update, so two servers scanning one PostgreSQL database never warn or escalate the
//! same event twice.

use std::time::Duration;

use crate::db::write_tx;
use chrono::NaiveDateTime;
use gridwork_mobile_core::Role;
use gridwork_mobile_core::domain::category::Stage;
use gridwork_mobile_core::domain::event::{Action, EventState};
use gridwork_mobile_core::domain::task::TaskState;
use serde::Serialize;
use serde_json::json;

use super::actions::{Ctx, apply, system_actor};
use super::timeline::{self, Who};
use super::{category_of, notify, on_event};
use crate::db::DbConn;
use crate::error::{ApiResult, ErrorCode};
use crate::models::event::EventRow;
use crate::queries;
use crate::state::AppState;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tick {
    pub warned: usize,
    pub escalated: usize,
    /// Tasks neither acknowledged nor claimed in the category's accept time.
    pub unacknowledged: usize,
    /// Supervision orders left unanswered past their due time, escalated one level.
    pub orders_escalated: usize,
}

fn stage_length(row: &EventRow) -> Option<chrono::Duration> {
    Some(row.due_at? - row.stage_started_at?)
}

fn warning_due(row: &EventRow, at: NaiveDateTime, percent: i64) -> bool {
    match (row.warned_at, row.stage_started_at, stage_length(row)) {
        (None, Some(start), Some(len)) => at >= start + len * i32::try_from(percent).unwrap_or(80) / 100,
        _ => false,
    }
}

fn escalation_due(row: &EventRow, at: NaiveDateTime) -> bool {
    let Some(due) = row.due_at else { return false };
    match (row.escalated_at, row.escalation_level.as_deref()) {
        // Overdue in this stage and not yet escalated for it.
        (None, _) => at > due,
        (Some(_), Some("city")) => false,
        // Still open a full stage-length past the deadline: one level further up.
        (Some(_), _) => stage_length(row).is_some_and(|len| at > due + len),
    }
}

/// One scan at `at` (the clock is a parameter so tests can move it).
pub fn tick(conn: &mut DbConn, ctx: Ctx<'_>, at: NaiveDateTime) -> ApiResult<Tick> {
    let mut out = Tick::default();
    let excluded = [EventState::Closed.as_str(), EventState::Rejected.as_str(), EventState::Suspended.as_str()];
    for row in queries::events::timed_open(conn, &excluded, at)? {
        if escalation_due(&row, at) {
            match escalate(conn, ctx, &row, at) {
                Ok(true) => out.escalated += 1,
                Ok(false) => {}
                Err(e) if e.code == ErrorCode::Conflict => {}
                Err(e) => return Err(e),
            }
        } else if warning_due(&row, at, ctx.policy.warning_percent) && warn(conn, ctx, &row, at)? {
            out.warned += 1;
        }
    }
    for task in queries::tasks::awaiting_acknowledgement(conn)? {
        if unacknowledged(conn, ctx, &task, at)? {
            out.unacknowledged += 1;
        }
    }
    out.orders_escalated = super::supervision::escalate_overdue(conn, ctx, at)?;
    Ok(out)
}

/// A task whose handler neither acknowledged the push nor claimed it within the category's
/// accept time is flagged to the coordinators and, when the event has that one handler, given to
/// someone else by the dispatch rules (never back to the same person).
fn unacknowledged(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    task: &crate::models::event::TaskRow,
    at: NaiveDateTime,
) -> ApiResult<bool> {
    let Some(event) = queries::events::by_id(conn, &task.event_id)? else { return Ok(false) };
    let category = category_of(conn, &event.category_code)?;
    let grade = super::grade_of(&event)?;
    let Some(minutes) = category.deadlines.get(&Stage::Accept).and_then(|d| d.get(&grade)) else { return Ok(false) };
    if at <= task.created_at + chrono::Duration::minutes(i64::from(*minutes)) {
        return Ok(false);
    }
    if queries::push::assignment_acknowledged(conn, &task.user_id, &task.event_id, task.created_at)? {
        return Ok(false);
    }
    write_tx(conn, |conn| {
        if !queries::tasks::transition(conn, task, TaskState::Assigned, TaskState::Unacknowledged, at)? {
            return Ok(false);
        }
        let who = Who::system();
        let detail = json!({"user": task.user_id, "assigned_at": task.created_at.and_utc()});
        timeline::note(conn, &event, &who, "task_unacknowledged", None, detail)?;
        let coordinators = super::holders_over(conn, ctx.index, &event, Role::Coordinator, None)?;
        notify::send(conn, &coordinators, &event, "task_unacknowledged", &json!({"user": task.user_id}))?;
        let Some(fresh) = queries::events::by_id(conn, &event.id)? else { return Ok(true) };
        if on_event(conn, &fresh)?.assignees == [task.user_id.clone()] {
            let plan = super::dispatch::plan(
                conn,
                ctx.index,
                &fresh,
                &category,
                ctx.policy.max_tasks_per_worker,
                std::slice::from_ref(&task.user_id),
            )?;
            if let super::dispatch::Plan::Assign(choices) = plan {
                let action = Action::Dispatch {
                    assignees: choices.iter().map(|c| c.user_id.clone()).collect(),
                    reason: Some("the task was not acknowledged in time".into()),
                };
                apply(conn, ctx, &fresh, &category, &system_actor(), &who, &action, Some(&choices), None)?;
            }
        }
        Ok(true)
    })
}

fn warn(conn: &mut DbConn, ctx: Ctx<'_>, row: &EventRow, at: NaiveDateTime) -> ApiResult<bool> {
    write_tx(conn, |conn| {
        // Only the server whose update lands sends the warning.
        if !queries::events::mark_warned(conn, &row.id, row.due_at, at)? {
            return Ok(false);
        }
        let detail = json!({"due_at": row.due_at.map(|d| d.and_utc())});
        timeline::note(conn, row, &Who::system(), "deadline_warning", None, detail)?;
        let mut to = on_event(conn, row)?.assignees;
        if to.is_empty() {
            to = super::holders_over(conn, ctx.index, row, Role::Coordinator, None)?;
        }
        notify::send(conn, &to, row, "deadline_warning", &json!({}))?;
        Ok(true)
    })
}

fn escalate(conn: &mut DbConn, ctx: Ctx<'_>, row: &EventRow, at: NaiveDateTime) -> ApiResult<bool> {
    write_tx(conn, |conn| {
        // Re-read inside the transaction: another server may have escalated it a moment ago.
        let Some(fresh) = queries::events::by_id(conn, &row.id)? else { return Ok(false) };
        if fresh.version != row.version || !escalation_due(&fresh, at) {
            return Ok(false);
        }
        let category = category_of(conn, &fresh.category_code)?;
        let late = fresh.due_at.map_or(0, |d| (at - d).num_minutes());
        let action = Action::Escalate { reason: format!("overdue by {late} min") };
        apply(conn, ctx, &fresh, &category, &system_actor(), &Who::system(), &action, None, None)?;
        Ok(true)
    })
}

const HOTSPOT_SCAN_EVERY: Duration = Duration::from_secs(600);
/// How often the streets' vital signs from the events are sent.
const DERIVED_EVERY: Duration = Duration::from_secs(300);
/// Reports are due once a week or month; looking every ten minutes finds them soon enough.
const REPORTS_EVERY: Duration = Duration::from_secs(600);

/// Runs `tick` every `every` until the process ends.
pub fn spawn(state: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_hotspot_scan: Option<std::time::Instant> = None;
        let mut last_reports: Option<std::time::Instant> = None;
        let mut last_derived: Option<std::time::Instant> = None;
        loop {
            interval.tick().await;
            // Hotspots move slowly: a scan every ten minutes is enough.
            if last_hotspot_scan.is_none_or(|t| t.elapsed() >= HOTSPOT_SCAN_EVERY) {
                last_hotspot_scan = Some(std::time::Instant::now());
                let (index, policy) = (state.areas(), state.settings.event_loop);
                let scanned = state
                    .db
                    .run(move |conn| {
                        super::hotspots::scan(conn, Ctx { index: &index, policy: &policy }, crate::models::now())
                    })
                    .await;
                match scanned {
                    Ok(s) if s.detected + s.cooled > 0 => {
                        tracing::info!(detected = s.detected, cooled = s.cooled, "hotspot scan");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e.message, "hotspot scan failed"),
                }
            }
            // Not before the map is loaded (a fresh demo loads it after starting): a pass over
            // no areas would only postpone the first reports by a whole round.
            if last_reports.is_none_or(|t| t.elapsed() >= REPORTS_EVERY) && !state.areas().is_empty() {
                last_reports = Some(std::time::Instant::now());
                let index = state.areas();
                let produced =
                    state.db.run(move |conn| crate::reports::produce(conn, &index, crate::models::now())).await;
                match produced {
                    Ok(n) if n > 0 => tracing::info!(reports = n, "evaluation reports produced"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e.message, "producing reports failed"),
                }
            }
            let index = state.areas();
            let policy = state.settings.event_loop;
            let result = state
                .db
                .run(move |conn| tick(conn, Ctx { index: &index, policy: &policy }, crate::models::now()))
                .await;
            match result {
                Ok(t) if t.warned + t.escalated > 0 => {
                    tracing::info!(warned = t.warned, escalated = t.escalated, "deadline scan");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "deadline scan failed"),
            }
            // The streets' figures from the events move slowly: every five minutes (not before
            // the map is loaded: a pass over no streets would postpone the first figures).
            let derive = last_derived.is_none_or(|t| t.elapsed() >= DERIVED_EVERY) && !state.areas().is_empty();
            if derive {
                last_derived = Some(std::time::Instant::now());
            }
            let (index, sensing, policy) = (state.areas(), state.settings.sensing.clone(), state.settings.event_loop);
            let scanned = state
                .db
                .run(move |conn| crate::sensing::scan(conn, Ctx { index: &index, policy: &policy }, &sensing, derive))
                .await;
            if let Err(e) = scanned {
                tracing::warn!(error = %e.message, "sensing scan failed");
            }
            if let Err(e) = crate::evidence::retention::purge(&state, crate::models::now()).await {
                tracing::warn!(error = %e.message, "evidence retention pass failed");
            }
            if let Err(e) = crate::duty::purge(&state, crate::models::now()).await {
                tracing::warn!(error = %e.message, "location retention pass failed");
            }
            if let Err(e) = crate::retention::run(&state, crate::models::now()).await {
                tracing::warn!(error = %e.message, "retention pass failed");
            }
        }
    });
}
