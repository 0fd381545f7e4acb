//! What Gridwork holds about one person, read for their export, and the statements that erase it.
//! The record shapes here are the export's sections: each is a plain read of the person's rows.
//! The timeline's personal parts are erased by `events::timeline` (it owns the chain).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{
    audit_log, deliveries, devices, duty_periods, event_log, events, evidence, evidence_blobs, evidence_uploads,
    location_pings, login_throttle, notifications, role_assignments, service_records, sessions, users,
    volunteer_applications, worker_status,
};
use crate::models::utc_opt;

/// What the erasure writes in place of a name, a phone number or an account name in free text.
pub const ERASED: &str = "[erased]";

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct AccountRecord {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub is_active: bool,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRecord {
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::models::utc")]
    pub expires_at: NaiveDateTime,
    #[serde(serialize_with = "crate::models::utc")]
    pub last_used_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    pub revoked_at: Option<NaiveDateTime>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = devices)]
pub struct DeviceRecord {
    pub id: String,
    pub fcm_token: String,
    pub platform: String,
    pub app_version: String,
    pub locale: String,
    pub active: bool,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = volunteer_applications)]
pub struct ApplicationRecord {
    pub id: String,
    pub community_code: String,
    pub phone: String,
    pub note: String,
    pub state: String,
    pub reason: Option<String>,
    #[serde(serialize_with = "utc_opt")]
    pub decided_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = service_records)]
pub struct ServiceRecord {
    pub event_id: String,
    pub community_code: String,
    pub points: i32,
    pub minutes: i32,
    #[serde(serialize_with = "crate::models::utc")]
    pub claimed_at: NaiveDateTime,
    #[serde(serialize_with = "crate::models::utc")]
    pub resolved_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct ReportRecord {
    pub id: String,
    pub category_code: String,
    pub state: String,
    pub source: String,
    pub description: String,
    pub address: Option<String>,
    pub lat: f64,
    pub lng: f64,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = event_log)]
pub struct StepRecord {
    pub event_id: String,
    pub seq: i32,
    pub action: String,
    pub actor_role: Option<String>,
    pub from_state: Option<String>,
    pub to_state: String,
    pub reason: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// JSON, as stored.
    pub detail: Option<String>,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, Queryable)]
pub struct PhotoRecord {
    pub id: String,
    pub event_id: Option<String>,
    pub kind: String,
    #[serde(serialize_with = "utc_opt")]
    pub captured_at: Option<NaiveDateTime>,
    pub capture_lat: Option<f64>,
    pub capture_lng: Option<f64>,
    pub capture_source: Option<String>,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    pub purged_at: Option<NaiveDateTime>,
    /// The processed photo's hash: where its bytes are in the store.
    #[serde(skip)]
    pub sha256: String,
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = location_pings)]
pub struct PingRecord {
    #[serde(serialize_with = "crate::models::utc")]
    pub recorded_at: NaiveDateTime,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = duty_periods)]
pub struct DutyRecord {
    #[serde(serialize_with = "crate::models::utc")]
    pub started_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    pub ended_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationRecord {
    pub id: String,
    pub event_id: Option<String>,
    pub kind: String,
    /// JSON, as stored.
    pub payload: String,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    pub read_at: Option<NaiveDateTime>,
}

/// Someone else's read of the person's phone number or track, from the audit of reads.
#[derive(Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct ReadRecord {
    pub actor_id: Option<String>,
    pub action: String,
    pub detail: String,
    #[serde(serialize_with = "crate::models::utc")]
    pub created_at: NaiveDateTime,
}

pub fn account(conn: &mut DbConn, user: &str) -> QueryResult<AccountRecord> {
    users::table.find(user).select(AccountRecord::as_select()).first(conn)
}

pub fn sessions_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<SessionRecord>> {
    sessions::table
        .filter(sessions::user_id.eq(user))
        .order(sessions::created_at.asc())
        .select(SessionRecord::as_select())
        .load(conn)
}

pub fn devices_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<DeviceRecord>> {
    devices::table
        .filter(devices::user_id.eq(user))
        .order(devices::id.asc())
        .select(DeviceRecord::as_select())
        .load(conn)
}

pub fn applications_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<ApplicationRecord>> {
    volunteer_applications::table
        .filter(volunteer_applications::user_id.eq(user))
        .order(volunteer_applications::id.asc())
        .select(ApplicationRecord::as_select())
        .load(conn)
}

pub fn service_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<ServiceRecord>> {
    service_records::table
        .filter(service_records::user_id.eq(user))
        .order(service_records::event_id.asc())
        .select(ServiceRecord::as_select())
        .load(conn)
}

pub fn reports_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<ReportRecord>> {
    events::table
        .filter(events::reporter_id.eq(user))
        .order(events::id.asc())
        .select(ReportRecord::as_select())
        .load(conn)
}

pub fn steps_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<StepRecord>> {
    event_log::table
        .filter(event_log::actor_id.eq(user))
        .order((event_log::event_id.asc(), event_log::seq.asc()))
        .select(StepRecord::as_select())
        .load(conn)
}

pub fn photos_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<PhotoRecord>> {
    evidence::table
        .inner_join(evidence_blobs::table.on(evidence_blobs::upload_sha256.eq(evidence::upload_sha256)))
        .filter(evidence::uploader_id.eq(user))
        .order(evidence::id.asc())
        .select((
            evidence::id,
            evidence::event_id,
            evidence::kind,
            evidence::captured_at,
            evidence::capture_lat,
            evidence::capture_lng,
            evidence::capture_source,
            evidence::created_at,
            evidence::purged_at,
            evidence_blobs::sha256,
        ))
        .load(conn)
}

pub fn pings_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<PingRecord>> {
    location_pings::table
        .filter(location_pings::user_id.eq(user))
        .order(location_pings::recorded_at.asc())
        .select(PingRecord::as_select())
        .load(conn)
}

pub fn duty_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<DutyRecord>> {
    duty_periods::table
        .filter(duty_periods::user_id.eq(user))
        .order(duty_periods::started_at.asc())
        .select(DutyRecord::as_select())
        .load(conn)
}

pub fn notifications_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<NotificationRecord>> {
    notifications::table
        .filter(notifications::user_id.eq(user))
        .order(notifications::id.asc())
        .select(NotificationRecord::as_select())
        .load(conn)
}

/// Reads of the person's data by others (`phone.read`, `track.read`).
pub fn reads_of(conn: &mut DbConn, user: &str) -> QueryResult<Vec<ReadRecord>> {
    audit_log::table
        .filter(audit_log::subject.eq(user))
        .filter(audit_log::action.eq_any(["phone.read", "track.read"]))
        .order(audit_log::id.asc())
        .select(ReadRecord::as_select())
        .load(conn)
}

/// What says who a person was in free text: their names, and their phone number however it
/// is written (`13912345678`, `139-1234-5678`, `139 1234 5678`).
#[derive(Debug, Clone)]
pub struct Needles {
    names: Vec<String>,
    phone_digits: Option<Vec<char>>,
}

impl Needles {
    pub fn new(names: &[&str], phone: Option<&str>) -> Self {
        let names = names.iter().map(|n| n.trim().to_owned()).filter(|n| n.chars().count() >= 2).collect();
        let mut digits: Vec<char> = phone.unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
        // A mainland number with its country code: the number is what free text quotes.
        if digits.len() == 13 && digits.starts_with(&['8', '6']) {
            digits.drain(..2);
        }
        Self { names, phone_digits: (digits.len() >= 5).then_some(digits) }
    }

    /// `text` with every name and the phone number replaced by [`ERASED`].
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for n in &self.names {
            out = out.replace(n.as_str(), ERASED);
        }
        match &self.phone_digits {
            Some(digits) => scrub_digits(&out, digits),
            None => out,
        }
    }
}

/// Replaces each run of `digits` (spaces and dashes allowed between them).
fn scrub_digits(text: &str, digits: &[char]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let (mut j, mut k) = (i, 0);
        while j < chars.len() && k < digits.len() {
            if chars[j] == digits[k] {
                k += 1;
            } else if !(k > 0 && (chars[j] == ' ' || chars[j] == '-')) {
                break;
            }
            j += 1;
        }
        if k == digits.len() {
            out.push_str(ERASED);
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The person's words in the reports they filed: their name, account name and phone number are
/// struck from descriptions and addresses (the case itself stays). Returns the reports changed.
pub fn scrub_reports(conn: &mut DbConn, user: &str, needles: &Needles) -> QueryResult<usize> {
    let rows: Vec<(String, String, Option<String>)> = events::table
        .filter(events::reporter_id.eq(user))
        .select((events::id, events::description, events::address))
        .load(conn)?;
    let mut changed = 0;
    for (id, description, address) in rows {
        let (d, a) = (needles.scrub(&description), address.as_deref().map(|a| needles.scrub(a)));
        if d != description || a != address {
            diesel::update(events::table.find(&id))
                .set((events::description.eq(d), events::address.eq(a)))
                .execute(conn)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Photos' capture places and times (and the flags that quote the time), on the evidence the
/// person uploaded and on the blobs behind it; their resumable uploads' fields. Returns the
/// evidence rows changed.
pub fn erase_capture_data(conn: &mut DbConn, user: &str) -> QueryResult<usize> {
    let rows: Vec<(String, String, String)> = evidence::table
        .filter(evidence::uploader_id.eq(user))
        .select((evidence::id, evidence::upload_sha256, evidence::flags))
        .load(conn)?;
    for (id, upload, flags) in &rows {
        let mut flags: serde_json::Value = serde_json::from_str(flags).unwrap_or_else(|_| serde_json::json!([]));
        crate::events::timeline::without_personal_keys(&mut flags);
        diesel::update(evidence::table.find(id))
            .set((
                evidence::captured_at.eq(None::<NaiveDateTime>),
                evidence::capture_lat.eq(None::<f64>),
                evidence::capture_lng.eq(None::<f64>),
                evidence::capture_source.eq(None::<String>),
                evidence::flags.eq(flags.to_string()),
            ))
            .execute(conn)?;
        diesel::update(evidence_blobs::table.find(upload))
            .set((
                evidence_blobs::exif_taken_at.eq(None::<String>),
                evidence_blobs::exif_lat.eq(None::<f64>),
                evidence_blobs::exif_lng.eq(None::<f64>),
            ))
            .execute(conn)?;
    }
    diesel::update(evidence_uploads::table.filter(evidence_uploads::uploader_id.eq(user)))
        .set(evidence_uploads::fields.eq("{}"))
        .execute(conn)?;
    Ok(rows.len())
}

/// Trails, duty periods and the last known position. Returns the pings deleted.
pub fn erase_movements(conn: &mut DbConn, user: &str) -> QueryResult<usize> {
    let pings = diesel::delete(location_pings::table.filter(location_pings::user_id.eq(user))).execute(conn)?;
    diesel::delete(duty_periods::table.filter(duty_periods::user_id.eq(user))).execute(conn)?;
    crate::roster::worker_changed(user);
    diesel::delete(worker_status::table.filter(worker_status::user_id.eq(user))).execute(conn)?;
    Ok(pings)
}

/// Phones (push tokens) and everything sent to the person. Returns (devices, notifications).
pub fn erase_devices_and_notifications(conn: &mut DbConn, user: &str) -> QueryResult<(usize, usize)> {
    let mine: Vec<String> = devices::table.filter(devices::user_id.eq(user)).select(devices::id).load(conn)?;
    diesel::delete(deliveries::table.filter(deliveries::device_id.eq_any(&mine))).execute(conn)?;
    let sent: Vec<String> =
        notifications::table.filter(notifications::user_id.eq(user)).select(notifications::id).load(conn)?;
    for chunk in sent.chunks(500) {
        diesel::delete(deliveries::table.filter(deliveries::notification_id.eq_any(chunk))).execute(conn)?;
    }
    let devices = diesel::delete(devices::table.filter(devices::user_id.eq(user))).execute(conn)?;
    let notifications = diesel::delete(notifications::table.filter(notifications::user_id.eq(user))).execute(conn)?;
    Ok((devices, notifications))
}

/// Sessions, grants and sign-in throttling keyed by the account name.
pub fn erase_access(conn: &mut DbConn, user: &str, username: &str) -> QueryResult<usize> {
    crate::db::changed(crate::db::Topic::Auth);
    let sessions = diesel::delete(sessions::table.filter(sessions::user_id.eq(user))).execute(conn)?;
    crate::roster::worker_changed(user);
    diesel::delete(role_assignments::table.filter(role_assignments::user_id.eq(user))).execute(conn)?;
    diesel::delete(login_throttle::table.filter(login_throttle::key.eq(crate::auth::throttle::account_key(username))))
        .execute(conn)?;
    Ok(sessions)
}

/// Sign-ups keep their decision but lose the phone number and the note. Returns the rows changed.
pub fn erase_applications(conn: &mut DbConn, user: &str) -> QueryResult<usize> {
    diesel::update(volunteer_applications::table.filter(volunteer_applications::user_id.eq(user)))
        .set((volunteer_applications::phone.eq(ERASED), volunteer_applications::note.eq("")))
        .execute(conn)
}

/// Audit entries about or by the person keep what happened but not who they were by name.
pub fn scrub_audit(conn: &mut DbConn, user: &str, needles: &Needles) -> QueryResult<usize> {
    let rows: Vec<(String, String)> = audit_log::table
        .filter(audit_log::subject.eq(user).or(audit_log::actor_id.eq(user)))
        .select((audit_log::id, audit_log::detail))
        .load(conn)?;
    let mut changed = 0;
    for (id, detail) in rows {
        let scrubbed = needles.scrub(&detail);
        if scrubbed != detail {
            diesel::update(audit_log::table.find(&id)).set(audit_log::detail.eq(scrubbed)).execute(conn)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// The account row stays (timelines name its id) with nothing that says who it was.
pub fn anonymise_account(conn: &mut DbConn, user: &str, at: NaiveDateTime) -> QueryResult<()> {
    crate::db::changed(crate::db::Topic::Auth);
    let username = format!("erased-{}", gridwork_mobile_core::hash::hex(&rand::random::<[u8; 6]>()));
    diesel::update(users::table.find(user))
        .set((
            users::username.eq(username),
            users::display_name.eq(ERASED),
            users::phone.eq(None::<String>),
            // Not a password hash: no password verifies against it.
            users::password_hash.eq("!erased"),
            users::is_active.eq(false),
            users::erased_at.eq(Some(at)),
            users::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_a_phone_however_written_are_struck() {
        let n = Needles::new(&["赵六", "zhao.liu", " x "], Some("+86 139-1234-5678"));
        assert_eq!(n.scrub("我是赵六，电话 139-1234-5678"), "我是[erased]，电话 [erased]");
        assert_eq!(n.scrub("13912345678/139 1234 5678 zhao.liu"), "[erased]/[erased] [erased]");
        // Other numbers, and a one-letter name, stay.
        assert_eq!(n.scrub("1391234567 and x"), "1391234567 and x");
        assert_eq!(n.scrub("86 13912345678"), "86 [erased]");
    }
}
