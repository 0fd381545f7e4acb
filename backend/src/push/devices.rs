//! Device registration and the notification inbox with acknowledgements.

use crate::auth::Caller;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::models::push::{DeviceRow, NotificationRow};
use crate::models::{new_id, now};
use crate::queries;

/// Active devices kept per user; registering one more retires the oldest.
const MAX_DEVICES: usize = 5;

#[derive(Debug, Clone)]
pub struct Registration {
    pub fcm_token: String,
    pub platform: String,
    pub app_version: String,
    pub locale: String,
}

/// Registers (or re-registers) a device for the caller's session. A token seen before — the app
/// restarted, or the phone changed hands — moves to this user and session.
pub fn register(conn: &mut DbConn, caller: &Caller, reg: &Registration) -> ApiResult<DeviceRow> {
    write_tx(conn, |conn| {
        let at = now();
        let row = match queries::push::device_by_token(conn, &reg.fcm_token)? {
            Some(mut d) => {
                d.user_id = caller.user.id.clone();
                d.session_id = Some(caller.session_id.clone());
                d.platform = reg.platform.clone();
                d.app_version = reg.app_version.clone();
                d.locale = reg.locale.clone();
                d.active = true;
                d.deactivated_reason = None;
                d.updated_at = at;
                queries::push::save_device(conn, &d)?;
                d
            }
            None => {
                let d = DeviceRow {
                    id: new_id(),
                    user_id: caller.user.id.clone(),
                    session_id: Some(caller.session_id.clone()),
                    fcm_token: reg.fcm_token.clone(),
                    platform: reg.platform.clone(),
                    app_version: reg.app_version.clone(),
                    locale: reg.locale.clone(),
                    active: true,
                    deactivated_reason: None,
                    created_at: at,
                    updated_at: at,
                };
                queries::push::insert_device(conn, &d)?;
                d
            }
        };
        let mut active: Vec<DeviceRow> =
            queries::push::devices_of(conn, &caller.user.id)?.into_iter().filter(|d| d.active).collect();
        active.sort_by_key(|d| d.updated_at);
        while active.len() > MAX_DEVICES {
            let old = active.remove(0);
            queries::push::deactivate(conn, &old.id, "replaced", at)?;
        }
        Ok(row)
    })
}

pub fn unregister(conn: &mut DbConn, caller: &Caller, id: &str) -> ApiResult<()> {
    let device = queries::push::device(conn, id)?
        .filter(|d| d.user_id == caller.user.id)
        .ok_or_else(|| ApiError::not_found(format!("no device {id}")))?;
    queries::push::deactivate(conn, &device.id, "unregistered_by_user", now())?;
    Ok(())
}

/// Marks a notification received (and read, if `read`); only the addressee may.
pub fn acknowledge(conn: &mut DbConn, caller: &Caller, id: &str, read: bool) -> ApiResult<NotificationRow> {
    write_tx(conn, |conn| {
        let mut n = queries::push::by_id(conn, id)?
            .filter(|n| n.user_id == caller.user.id)
            .ok_or_else(|| ApiError::not_found(format!("no notification {id}")))?;
        let at = now();
        n.received_at.get_or_insert(at);
        if read {
            n.read_at.get_or_insert(at);
        }
        queries::push::save_acknowledgement(conn, &n)?;
        Ok(n)
    })
}
