//! Field staff on and off duty, and their positions: batched pings, deduplicated by the time
//! they were recorded on the phone, the newest becoming the position dispatch uses.

use crate::db::write_tx;
use chrono::NaiveDateTime;
use gridwork_mobile_core::Role;

use crate::auth::Caller;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::events::dispatch::cell_of;
use crate::models::now;
use crate::models::worker::{PingRow, WorkerStatusRow};
use crate::queries;

/// Who goes on duty and sends positions.
pub const FIELD_ROLES: [Role; 3] = [Role::GridWorker, Role::Volunteer, Role::DeptHandler];

/// A position as recorded on the phone (WGS-84).
#[derive(Debug, Clone, Copy)]
pub struct Ping {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub recorded_at: NaiveDateTime,
}

pub use gridwork_mobile_core::wire::PingsStored as Stored;

fn require_field_role(caller: &Caller) -> ApiResult<()> {
    caller.require_any(&FIELD_ROLES)
}

fn blank(user_id: &str) -> WorkerStatusRow {
    WorkerStatusRow {
        user_id: user_id.to_owned(),
        on_duty: false,
        lat: None,
        lng: None,
        cell: None,
        located_at: None,
        updated_at: now(),
    }
}

pub fn status(conn: &mut DbConn, caller: &Caller) -> ApiResult<WorkerStatusRow> {
    require_field_role(caller)?;
    Ok(queries::workers::status(conn, &caller.user.id)?.unwrap_or_else(|| blank(&caller.user.id)))
}

/// Goes on or off duty at `asked_at` (the phone's time of the switch; now if none). The time
/// is kept between the previous switch and now, so periods never overlap or lie ahead.
pub fn set_duty(
    conn: &mut DbConn,
    caller: &Caller,
    on_duty: bool,
    asked_at: Option<NaiveDateTime>,
) -> ApiResult<WorkerStatusRow> {
    require_field_role(caller)?;
    let at = now();
    let when = asked_at.unwrap_or(at);
    if when > at + chrono::Duration::minutes(5) {
        return Err(ApiError::field("at", "in_the_future", "at is ahead of the server clock"));
    }
    let me = caller.user.id.clone();
    write_tx(conn, |conn| {
        let mut row = queries::workers::status(conn, &me)?.unwrap_or_else(|| blank(&me));
        // The periods are what pings are judged by; saying the same twice changes nothing.
        if row.on_duty == on_duty {
            return Ok(row);
        }
        let last = queries::workers::last_duty(conn, &me)?;
        let step = chrono::Duration::milliseconds(1);
        if on_duty {
            let floor = last.and_then(|p| p.ended_at).map(|e| e + step);
            queries::workers::start_duty(conn, &me, switch_time(when, floor, at))?;
        } else {
            let floor = last.map(|p| p.started_at + step);
            queries::workers::end_duty(conn, &me, switch_time(when, floor, at))?;
        }
        row.on_duty = on_duty;
        row.updated_at = at;
        queries::workers::save_status(conn, &row)?;
        Ok(row)
    })
}

/// The time a switch is recorded at: the asked time, no later than now and no earlier than
/// `floor` (just after the previous switch).
fn switch_time(asked: NaiveDateTime, floor: Option<NaiveDateTime>, now: NaiveDateTime) -> NaiveDateTime {
    let t = asked.min(now);
    floor.map_or(t, |f| t.max(f))
}

/// How far outside a duty period a phone's clock may put a ping.
const DUTY_GRACE_SECS: i64 = 60;

/// Stores a batch; a ping already stored (a resent batch) is counted, not stored twice. A ping
/// recorded while its sender was off duty is not kept: positions are tracked only on duty. It is
/// counted as `off_duty`, so the phone drops it from its queue. Pings from the future (beyond
/// clock skew) are refused with the index of the first one.
pub fn record(conn: &mut DbConn, caller: &Caller, pings: &[Ping]) -> ApiResult<Stored> {
    require_field_role(caller)?;
    let at = now();
    let skew = chrono::Duration::minutes(5);
    if let Some(i) = pings.iter().position(|p| p.recorded_at > at + skew) {
        return Err(ApiError::field(
            &format!("pings[{i}].recorded_at"),
            "in_the_future",
            "recorded_at is ahead of the server clock",
        ));
    }
    let me = caller.user.id.clone();
    write_tx(conn, |conn| {
        let mut times: Vec<NaiveDateTime> = pings.iter().map(|p| p.recorded_at).collect();
        times.sort();
        times.dedup();
        let known = queries::workers::known_pings(conn, &me, &times)?;
        let grace = chrono::Duration::seconds(DUTY_GRACE_SECS);
        let duty = match (times.first(), times.last()) {
            (Some(&first), Some(&last)) => queries::workers::duty_between(conn, &me, first - grace, last + grace)?,
            _ => vec![],
        };
        let mut fresh: Vec<PingRow> = vec![];
        let mut off_duty = 0;
        for p in pings {
            if known.contains(&p.recorded_at) || fresh.iter().any(|f| f.recorded_at == p.recorded_at) {
                continue;
            }
            if !duty.iter().any(|d| d.covers(p.recorded_at, at, grace)) {
                off_duty += 1;
                continue;
            }
            fresh.push(PingRow {
                user_id: me.clone(),
                recorded_at: p.recorded_at,
                lat: p.lat,
                lng: p.lng,
                accuracy_m: p.accuracy_m,
                received_at: at,
            });
        }
        queries::workers::insert_pings(conn, &fresh)?;
        if let Some(newest) = fresh.iter().max_by_key(|p| p.recorded_at) {
            let mut row = queries::workers::status(conn, &me)?.unwrap_or_else(|| blank(&me));
            if row.located_at.is_none_or(|t| t < newest.recorded_at) {
                row.lat = Some(newest.lat);
                row.lng = Some(newest.lng);
                row.cell = cell_of(newest.lat, newest.lng);
                row.located_at = Some(newest.recorded_at);
                row.updated_at = at;
                queries::workers::save_status(conn, &row)?;
            }
        }
        Ok(Stored { accepted: fresh.len(), duplicates: pings.len() - fresh.len() - off_duty, off_duty })
    })
}

/// Deletes the location pings older than the retention setting; how many went.
pub async fn purge(state: &crate::state::AppState, at: NaiveDateTime) -> ApiResult<usize> {
    let Some(keep) = state.settings.location_retention else { return Ok(0) };
    let purged = state.db.run(move |conn| Ok(queries::workers::purge_pings(conn, at - keep)?)).await?;
    if purged > 0 {
        tracing::info!(purged, "location pings past retention purged");
    }
    Ok(purged)
}
