//! The data-protection record (个人信息保护): what personal data Gridwork holds, where, for how
//! long, and who read it recently (from the audit of reads). `gridwork privacy report` and
//! `GET /api/v1/privacy/report` (system administrators) print it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::config::Settings;
use crate::db::DbConn;
use crate::db::schema::{
    audit_log, devices, duty_periods, events, evidence, hotline_calls, location_pings, notifications, service_records,
    users, volunteer_applications,
};
use crate::error::ApiResult;

/// One kind of personal data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Holding {
    pub kind: &'static str,
    /// Table and columns.
    pub location: &'static str,
    /// Why it is held.
    pub purpose: &'static str,
    pub rows: i64,
    /// Days it is kept; none: as long as the record it belongs to.
    pub retention_days: Option<i64>,
}

/// Who read personal data of others, by kind, over the report's window.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reads {
    pub reader_id: Option<String>,
    pub reader: Option<String>,
    /// `phone.read` or `track.read`.
    pub action: String,
    pub reads: i64,
    pub people: i64,
    pub last_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrivacyReport {
    pub generated_at: DateTime<Utc>,
    /// Reads are counted over the days before `generated_at`.
    pub reads_window_days: i64,
    pub holdings: Vec<Holding>,
    pub recent_reads: Vec<Reads>,
}

/// One reader's reads of one kind: how many, of whom, the newest.
struct Tally {
    reads: i64,
    people: std::collections::BTreeSet<String>,
    last: NaiveDateTime,
}

/// Reads of others' personal data are listed for this many days back.
pub const READS_WINDOW_DAYS: i64 = 30;

fn days(d: Option<chrono::Duration>) -> Option<i64> {
    d.map(|d| d.num_days())
}

pub fn report(conn: &mut DbConn, settings: &Settings, now: NaiveDateTime) -> ApiResult<PrivacyReport> {
    let evidence_days = settings.evidence.retention_days.map(i64::from);
    let r = settings.retention;
    let holdings = vec![
        Holding {
            kind: "phone numbers of accounts",
            location: "users.phone",
            purpose: "reaching staff and volunteers",
            rows: users::table.filter(users::phone.is_not_null()).count().get_result(conn)?,
            retention_days: None,
        },
        Holding {
            kind: "names of accounts",
            location: "users.display_name",
            purpose: "who acted, on timelines and boards",
            rows: users::table.count().get_result(conn)?,
            retention_days: None,
        },
        Holding {
            kind: "phone numbers of volunteer sign-ups",
            location: "volunteer_applications.phone",
            purpose: "the coordinator calls the applicant",
            rows: volunteer_applications::table.count().get_result(conn)?,
            retention_days: None,
        },
        Holding {
            kind: "location trails",
            location: "location_pings (lat, lng, recorded_at)",
            purpose: "dispatch by position; coordinators' view of on-duty work",
            rows: location_pings::table.count().get_result(conn)?,
            retention_days: days(settings.location_retention),
        },
        Holding {
            kind: "duty periods",
            location: "duty_periods",
            purpose: "which pings are kept; workload",
            rows: duty_periods::table.count().get_result(conn)?,
            retention_days: None,
        },
        Holding {
            kind: "photo capture places and times",
            location: "evidence (capture_lat, capture_lng, captured_at)",
            purpose: "checking that work was done where and when it was reported",
            rows: evidence::table.filter(evidence::capture_lat.is_not_null()).count().get_result(conn)?,
            retention_days: evidence_days,
        },
        Holding {
            kind: "reports (descriptions may name people, places of residents)",
            location: "events (description, address, lat, lng, reporter_id)",
            purpose: "the case itself",
            rows: events::table.count().get_result(conn)?,
            retention_days: None,
        },
        Holding {
            kind: "notifications",
            location: "notifications (payload), deliveries",
            purpose: "telling people of their work",
            rows: notifications::table.count().get_result(conn)?,
            retention_days: days(r.notifications),
        },
        Holding {
            kind: "push tokens of phones",
            location: "devices.fcm_token",
            purpose: "push notifications",
            rows: devices::table.count().get_result(conn)?,
            retention_days: days(r.deactivated_devices),
        },
        Holding {
            kind: "hotline callers' names and phone numbers",
            location: "hotline_calls (caller_name, caller_phone)",
            purpose: "the callback (回访) after the case closes; masked for all but ops staff",
            rows: hotline_calls::table.filter(hotline_calls::caller_phone.is_not_null()).count().get_result(conn)?,
            retention_days: days(r.hotline_callers),
        },
        Holding {
            kind: "volunteer service records",
            location: "service_records",
            purpose: "service hours and points",
            rows: service_records::table.count().get_result(conn)?,
            retention_days: None,
        },
        Holding {
            kind: "audit entries (reads of personal data among them)",
            location: "audit_log",
            purpose: "accountability",
            rows: audit_log::table.count().get_result(conn)?,
            retention_days: days(r.audit),
        },
    ];
    let since = now - chrono::Duration::days(READS_WINDOW_DAYS);
    let rows: Vec<(Option<String>, String, String, NaiveDateTime)> = audit_log::table
        .filter(audit_log::action.eq_any(["phone.read", "track.read"]))
        .filter(audit_log::created_at.ge(since))
        .select((audit_log::actor_id, audit_log::action, audit_log::subject, audit_log::created_at))
        .load(conn)?;
    let mut by: BTreeMap<(Option<String>, String), Tally> = BTreeMap::new();
    for (actor, action, subject, at) in rows {
        let e = by.entry((actor, action)).or_insert(Tally { reads: 0, people: Default::default(), last: at });
        e.reads += 1;
        e.people.insert(subject);
        e.last = e.last.max(at);
    }
    let ids: Vec<String> = by.keys().filter_map(|(a, _)| a.clone()).collect();
    let names: BTreeMap<String, String> = users::table
        .filter(users::id.eq_any(&ids))
        .select((users::id, users::display_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut recent_reads: Vec<Reads> = by
        .into_iter()
        .map(|((reader_id, action), t)| Reads {
            reader: reader_id.as_ref().and_then(|id| names.get(id).cloned()),
            reader_id,
            action,
            reads: t.reads,
            people: i64::try_from(t.people.len()).unwrap_or(i64::MAX),
            last_at: t.last.and_utc(),
        })
        .collect();
    recent_reads.sort_by(|a, b| b.reads.cmp(&a.reads).then(b.last_at.cmp(&a.last_at)));
    Ok(PrivacyReport { generated_at: now.and_utc(), reads_window_days: READS_WINDOW_DAYS, holdings, recent_reads })
}
