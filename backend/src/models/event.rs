use chrono::NaiveDateTime;
use diesel::prelude::*;
use gridwork_mobile_core::AreaLevel;

use crate::db::schema::{
    action_idempotency, event_followers, event_idempotency, event_links, event_log, events, supervision_orders, tasks,
};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable, AsChangeset)]
#[diesel(table_name = events)]
#[diesel(treat_none_as_null = true)]
pub struct EventRow {
    pub id: String,
    pub category_code: String,
    pub grade: String,
    pub state: String,
    pub source: String,
    pub description: String,
    pub address: Option<String>,
    pub lat: f64,
    pub lng: f64,
    pub city_code: Option<String>,
    pub district_code: Option<String>,
    pub street_code: Option<String>,
    pub community_code: Option<String>,
    pub grid_code: Option<String>,
    pub compound_code: Option<String>,
    pub building_code: Option<String>,
    pub reporter_id: String,
    pub resolved_by: Option<String>,
    pub due_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When the current timed stage began (the warning fires at a share of its time).
    pub stage_started_at: Option<NaiveDateTime>,
    /// The deadline warning for the current stage went out.
    pub warned_at: Option<NaiveDateTime>,
    /// The management level supervising an overdue event: `district` or `city`.
    pub escalation_level: Option<String>,
    pub escalated_at: Option<NaiveDateTime>,
    /// Stages that finished after their deadline (evaluation: on time means none).
    pub late_stages: i32,
    pub rework_count: i32,
    /// Hash of the newest timeline entry.
    pub log_head: Option<String>,
    /// A handler asked for more time on the running stage; cleared by the ops centre's answer.
    pub extension_requested_at: Option<NaiveDateTime>,
    /// Deadlines extended by the ops centre (evaluation's extension rate).
    pub extension_count: i32,
    /// The grade the reporter suggested, where it was not theirs to set.
    pub suggested_grade: Option<String>,
}

impl EventRow {
    /// The code of the area at `level` the event was filed under.
    pub fn code_at(&self, level: AreaLevel) -> Option<&str> {
        match level {
            AreaLevel::City => &self.city_code,
            AreaLevel::District => &self.district_code,
            AreaLevel::Street => &self.street_code,
            AreaLevel::Community => &self.community_code,
            AreaLevel::Grid => &self.grid_code,
            AreaLevel::Compound => &self.compound_code,
            AreaLevel::Building => &self.building_code,
        }
        .as_deref()
    }

    /// The deepest area the event was filed under.
    pub fn area_code(&self) -> Option<&str> {
        AreaLevel::ALL.iter().rev().find_map(|l| self.code_at(*l))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_idempotency)]
pub struct IdempotencyRow {
    pub user_id: String,
    pub key: String,
    pub event_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_followers)]
pub struct FollowerRow {
    pub event_id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = event_log)]
pub struct EventLogRow {
    pub id: String,
    pub event_id: String,
    pub actor_id: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub reason: Option<String>,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
    /// The role the actor acted in.
    pub actor_role: Option<String>,
    /// Where the actor was, if the phone sent it.
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// JSON: what else the step decided (why a handler was chosen, the merge target …).
    pub detail: Option<String>,
    /// 1, 2, 3 … per event.
    pub seq: i32,
    /// SHA-256 over the previous entry's hash, this entry's fields and its personal commitment.
    pub hash: Option<String>,
    /// The salt of the personal commitment; dropped with the personal part when it is erased.
    #[serde(skip)]
    pub personal_salt: Option<String>,
    /// SHA-256 over the salt and the personal part (position, reason, detail): what the chain
    /// hashes in their place.
    #[serde(skip)]
    pub personal_commitment: Option<String>,
    #[serde(skip)]
    pub erased_at: Option<NaiveDateTime>,
}

/// One handler's part of an event.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tasks)]
#[diesel(treat_none_as_null = true)]
pub struct TaskRow {
    pub id: String,
    pub event_id: String,
    pub user_id: String,
    pub department_id: Option<String>,
    pub lead: bool,
    pub state: String,
    /// JSON: the dispatch rule and the numbers behind it.
    pub why: String,
    pub assigned_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = supervision_orders)]
pub struct SupervisionOrderRow {
    pub id: String,
    pub event_id: String,
    pub level: String,
    pub area_code: Option<String>,
    pub automatic: bool,
    pub reason: String,
    pub issued_by: String,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
    /// `open`, `replied`, `closed` or `escalated` (`domain::supervision::OrderState`).
    pub state: String,
    /// When the reply is due.
    #[serde(skip)]
    pub due_at: Option<NaiveDateTime>,
    pub reply: Option<String>,
    /// The reply's evidence ids, as a JSON array.
    pub reply_evidence: String,
    pub replied_by: Option<String>,
    #[serde(skip)]
    pub replied_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
    #[serde(skip)]
    pub decided_at: Option<NaiveDateTime>,
    pub send_back_reason: Option<String>,
    /// The order this one escalated into.
    pub escalated_to: Option<String>,
}

impl SupervisionOrderRow {
    /// A new open order, due a reply by `due_at`.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        event_id: &str,
        level: &str,
        area_code: Option<String>,
        automatic: bool,
        reason: &str,
        issued_by: &str,
        at: NaiveDateTime,
        due_at: NaiveDateTime,
    ) -> Self {
        Self {
            id: crate::models::new_id(),
            event_id: event_id.to_owned(),
            level: level.to_owned(),
            area_code,
            automatic,
            reason: reason.to_owned(),
            issued_by: issued_by.to_owned(),
            created_at: at,
            state: "open".to_owned(),
            due_at: Some(due_at),
            reply: None,
            reply_evidence: "[]".to_owned(),
            replied_by: None,
            replied_at: None,
            decided_by: None,
            decided_at: None,
            send_back_reason: None,
            escalated_to: None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = event_links)]
pub struct EventLinkRow {
    pub event_id: String,
    pub other_id: String,
    pub kind: String,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
}

/// An action's idempotency key: the same key from the same user is the same action.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = action_idempotency)]
pub struct ActionKeyRow {
    pub user_id: String,
    pub key: String,
    pub event_id: String,
    pub action: String,
    pub created_at: NaiveDateTime,
}
