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

pub fn set_duty(conn: &mut DbConn, caller: &Caller, on_duty: bool) -> ApiResult<WorkerStatusRow> {
    require_field_role(caller)?;
    write_tx(conn, |conn| {
        let mut row = queries::workers::status(conn, &caller.user.id)?.unwrap_or_else(|| blank(&caller.user.id));
        row.on_duty = on_duty;
        row.updated_at = now();
        queries::workers::save_status(conn, &row)?;
        Ok(row)
    })
}

/// Stores a batch; a ping already stored (a resent batch) is counted, not stored twice. Pings
/// from the future (beyond clock skew) are refused with the index of the first one.
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
        let mut fresh: Vec<PingRow> = vec![];
        for p in pings {
            if known.contains(&p.recorded_at) || fresh.iter().any(|f| f.recorded_at == p.recorded_at) {
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
        Ok(Stored { accepted: fresh.len(), duplicates: pings.len() - fresh.len() })
    })
}
