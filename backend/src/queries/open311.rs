use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{event_log, events, open311_clients, open311_requests};
use crate::models::event::EventRow;
use crate::models::open311::{ClientRow, RequestRow};

pub fn insert_client(conn: &mut DbConn, row: &ClientRow) -> QueryResult<()> {
    diesel::insert_into(open311_clients::table).values(row).execute(conn).map(drop)
}

pub fn clients(conn: &mut DbConn) -> QueryResult<Vec<ClientRow>> {
    open311_clients::table.order(open311_clients::id.asc()).select(ClientRow::as_select()).load(conn)
}

pub fn client(conn: &mut DbConn, id: &str) -> QueryResult<Option<ClientRow>> {
    open311_clients::table.find(id).select(ClientRow::as_select()).first(conn).optional()
}

/// The client holding a key, unless it was revoked.
pub fn client_by_key_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<ClientRow>> {
    open311_clients::table
        .filter(open311_clients::key_hash.eq(hash))
        .filter(open311_clients::revoked_at.is_null())
        .select(ClientRow::as_select())
        .first(conn)
        .optional()
}

pub fn revoke(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(open311_clients::table.find(id).filter(open311_clients::revoked_at.is_null()))
        .set(open311_clients::revoked_at.eq(Some(at)))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn request_by_key(conn: &mut DbConn, client: &str, key: &str) -> QueryResult<Option<RequestRow>> {
    open311_requests::table
        .filter(open311_requests::client_id.eq(client))
        .filter(open311_requests::request_key.eq(key))
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_request(conn: &mut DbConn, row: &RequestRow) -> QueryResult<()> {
    diesel::insert_into(open311_requests::table).values(row).execute(conn).map(drop)
}

/// What narrows `GET requests`; empty lists narrow nothing.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub ids: Vec<String>,
    pub service_codes: Vec<String>,
    /// Event states to keep (from the standard's open/closed).
    pub states: Vec<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// Keep only events inside this area.
    pub area: Option<String>,
    pub limit: i64,
}

/// Requests filed through the door with their events, newest first.
pub fn requests(conn: &mut DbConn, f: &RequestFilter) -> QueryResult<Vec<(RequestRow, EventRow)>> {
    let mut q = open311_requests::table
        .inner_join(events::table.on(events::id.eq(open311_requests::event_id)))
        .select((RequestRow::as_select(), EventRow::as_select()))
        .order(open311_requests::id.desc())
        .limit(f.limit)
        .into_boxed();
    if !f.ids.is_empty() {
        q = q.filter(open311_requests::id.eq_any(f.ids.clone()));
    }
    if !f.service_codes.is_empty() {
        q = q.filter(open311_requests::service_code.eq_any(f.service_codes.clone()));
    }
    if !f.states.is_empty() {
        q = q.filter(events::state.eq_any(f.states.clone()));
    }
    if let Some(from) = f.from {
        q = q.filter(open311_requests::created_at.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(open311_requests::created_at.lt(to));
    }
    if let Some(a) = f.area.clone() {
        q = q.filter(
            events::city_code
                .eq(a.clone())
                .or(events::district_code.eq(a.clone()))
                .or(events::street_code.eq(a.clone()))
                .or(events::community_code.eq(a.clone()))
                .or(events::grid_code.eq(a)),
        );
    }
    q.load(conn)
}

/// The reason of each event's newest rejection.
pub fn reject_reasons(conn: &mut DbConn, event_ids: &[String]) -> QueryResult<Vec<(String, Option<String>)>> {
    event_log::table
        .filter(event_log::event_id.eq_any(event_ids))
        .filter(event_log::action.eq("reject"))
        .order((event_log::event_id.asc(), event_log::seq.asc()))
        .select((event_log::event_id, event_log::reason))
        .load(conn)
}
