//! The door's client applications: registered by an administrator over their jurisdiction, each
//! with an `api_key` shown once and kept as its SHA-256, and an account of its own — a resident of
//! the jurisdiction that cannot sign in — that files its requests.

use gridwork_mobile_core::wire::{Open311Client, Open311ClientRequest};
use gridwork_mobile_core::{Password, Role, RoleGrant, Scope, Username};

use crate::accounts::{self, NewUser};
use crate::areas::AreaIndex;
use crate::auth::{Caller, token};
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult};
use crate::models::open311::ClientRow;
use crate::models::{new_id, now};
use crate::queries;

/// Who registers and revokes client applications: administrators over the jurisdiction.
pub const MANAGERS: [Role; 1] = [Role::Admin];

pub fn view(row: &ClientRow, api_key: Option<String>) -> Open311Client {
    Open311Client {
        id: row.id.clone(),
        name: row.name.clone(),
        area: row.area_code.clone(),
        created_at: row.created_at.and_utc(),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
        api_key,
    }
}

pub fn manages(caller: &Caller, row: &ClientRow, index: &AreaIndex) -> bool {
    caller.holds_over_code(&MANAGERS, &row.area_code, index)
}

/// Registers a client application; the answer carries its `api_key`, the only time it is shown.
pub fn register(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    req: &Open311ClientRequest,
) -> ApiResult<Open311Client> {
    let area = crate::areas::mapped_area(index, "area", &req.area)?;
    caller.require_over(&MANAGERS, Some(&area), index)?;
    let api_key = format!("o311_{}", token::generate());
    let suffix = &new_id().replace('-', "")[20..];
    let new = NewUser {
        username: Username::parse(&format!("open311.{suffix}"))?,
        display_name: req.name.trim().to_owned(),
        phone: None,
        // Nobody knows it: the account files the client's requests and never signs in.
        password: Password::parse(&token::generate())?,
    };
    let form = accounts::user_form(&new)?;
    write_tx(conn, |conn| {
        let user = accounts::insert_user(conn, &form, Some(&caller.user.id))?;
        accounts::grant_role(
            conn,
            &user.id,
            &RoleGrant::new(Role::Resident, Scope::Area(area.clone()), None)?,
            Some(&caller.user.id),
        )?;
        let row = ClientRow {
            id: new_id(),
            name: req.name.trim().to_owned(),
            key_hash: token::hash(&api_key),
            area_code: area.to_string(),
            user_id: user.id,
            created_by: Some(caller.user.id.clone()),
            created_at: now(),
            revoked_at: None,
        };
        queries::open311::insert_client(conn, &row)?;
        queries::audit::record(conn, Some(&caller.user.id), "open311.client.create", &row.id, &row.name)?;
        Ok(view(&row, Some(api_key.clone())))
    })
}

/// Revokes a client's key at once; its requests stay. Clients out of reach are not found.
pub fn revoke(conn: &mut DbConn, caller: &Caller, index: &AreaIndex, id: &str) -> ApiResult<Open311Client> {
    let missing = || ApiError::not_found(format!("no Open311 client {id:?}"));
    write_tx(conn, |conn| {
        let row = queries::open311::client(conn, id)?.filter(|r| manages(caller, r, index)).ok_or_else(missing)?;
        if !queries::open311::revoke(conn, id, now())? {
            return Err(ApiError::conflict("the client was revoked already").with_field(
                "id",
                "already_revoked",
                "nothing to do",
            ));
        }
        queries::audit::record(conn, Some(&caller.user.id), "open311.client.revoke", &row.id, &row.name)?;
        let row = queries::open311::client(conn, id)?.ok_or_else(missing)?;
        Ok(view(&row, None))
    })
}
