use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{open311_clients, open311_requests};

/// A client application of the Open311 door (a city app, FixMyStreet, a 311 system).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = open311_clients)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    /// SHA-256 of the api_key; the key itself is shown once, when the client is registered.
    pub key_hash: String,
    /// The jurisdiction: requests must lie inside this area.
    pub area_code: String,
    /// The account that files the client's requests.
    pub user_id: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// One request filed through the door, as it was sent; its state is its event's.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = open311_requests)]
pub struct RequestRow {
    pub id: String,
    pub client_id: String,
    pub event_id: String,
    pub request_key: String,
    pub service_code: String,
    pub description: String,
    pub address: Option<String>,
    pub lat: f64,
    pub lng: f64,
    pub media_url: Option<String>,
    pub created_at: NaiveDateTime,
}
