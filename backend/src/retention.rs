//! Retention of the personal data beyond photos (`evidence::retention`) and location pings
//! (`duty::purge`): notification bodies and their delivery records, the push tokens of
//! deactivated devices, and audit entries (reads of personal data among them) past their period.
//! The scheduler runs it; each kind has a setting, 0 keeping it for ever.

use chrono::{Duration, NaiveDateTime};

use crate::db::{DbConn, write_tx};
use crate::error::ApiResult;
use crate::queries;

/// How long each kind is kept (`None`: for ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub notifications: Option<Duration>,
    pub deactivated_devices: Option<Duration>,
    pub audit: Option<Duration>,
    /// Hotline callers' names and phones, counted from the call, once the case is over.
    pub hotline_callers: Option<Duration>,
}

/// How many rows each purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub notifications: usize,
    pub devices: usize,
    pub audit: usize,
    pub hotline_callers: usize,
}

/// Removes what is past its period at `at`, in one transaction.
pub fn purge(conn: &mut DbConn, r: &Retention, at: NaiveDateTime) -> ApiResult<Purged> {
    write_tx(conn, |conn| {
        Ok(Purged {
            notifications: match r.notifications {
                Some(keep) => queries::push::purge_notifications(conn, at - keep)?,
                None => 0,
            },
            devices: match r.deactivated_devices {
                Some(keep) => queries::push::purge_deactivated_devices(conn, at - keep)?,
                None => 0,
            },
            audit: match r.audit {
                Some(keep) => queries::audit::purge(conn, at - keep)?,
                None => 0,
            },
            hotline_callers: match r.hotline_callers {
                Some(keep) => queries::hotline::purge_callers(conn, at - keep, at)?,
                None => 0,
            },
        })
    })
}

/// The scheduler's pass.
pub async fn run(state: &crate::state::AppState, at: NaiveDateTime) -> ApiResult<Purged> {
    let r = state.settings.retention;
    let purged = state.db.run(move |conn| purge(conn, &r, at)).await?;
    if purged != Purged::default() {
        tracing::info!(
            notifications = purged.notifications,
            devices = purged.devices,
            audit = purged.audit,
            hotline_callers = purged.hotline_callers,
            "personal data past retention purged"
        );
    }
    Ok(purged)
}
