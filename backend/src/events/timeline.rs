//! The event timeline: append-only, numbered and hash-chained per event. Each entry's hash covers
//! the previous entry's hash and every field of the entry, and the event row keeps the newest
//! hash, so editing, deleting or reordering entries (the last ones included) is detected by
//! `gridwork audit verify`.
//!
//! Someone who can write the database can still recompute every hash; the digest `verify` prints
//! (over all events' newest hashes) is what to record outside the database to rule that out.

use diesel::prelude::*;
use gridwork_mobile_core::domain::event::EventState;
use gridwork_mobile_core::hash::hex;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::db::schema::{event_log, events};
use crate::error::ApiResult;
use crate::models::event::{EventLogRow, EventRow};
use crate::models::{new_id, now};

/// Who acted: a user id and the role they acted in (`system` for the scheduler and dispatch).
#[derive(Debug, Clone)]
pub struct Who {
    pub user_id: String,
    pub role: String,
}

impl Who {
    pub fn system() -> Self {
        Self { user_id: crate::events::SYSTEM_USER.to_owned(), role: "system".to_owned() }
    }
}

/// One step to record.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub who: &'a Who,
    pub action: &'a str,
    pub from: Option<EventState>,
    pub to: EventState,
    pub reason: Option<&'a str>,
    /// The actor's point (lat, lng), when the phone sent it.
    pub at: Option<(f64, f64)>,
    pub detail: Option<Value>,
}

/// The entry's personal part: where the actor was, their words and the step's detail (which can
/// carry a reporter's description or a photo's capture time). The chain hashes only a salted
/// commitment to it, so erasing the part and its salt leaves the chain verifiable.
fn commitment(salt: &str, e: &EventLogRow) -> String {
    let canonical = json!([salt, e.reason, e.lat, e.lng, e.detail]);
    hex(&Sha256::digest(canonical.to_string().as_bytes()))
}

fn stamp(e: &EventLogRow) -> String {
    e.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn digest(prev: &str, e: &EventLogRow) -> String {
    // A JSON array of every field, in a fixed order: unambiguous, and the same on both backends
    // because timestamps are kept to the microsecond and floats print their shortest exact form.
    let canonical = match e.personal_commitment.as_deref() {
        Some(personal) => json!([
            prev,
            "v2",
            e.event_id,
            e.seq,
            e.actor_id,
            e.actor_role,
            e.action,
            e.from_state,
            e.to_state,
            stamp(e),
            personal,
        ]),
        // Entries written before the commitment existed whose chain did not verify when the
        // rest were re-sealed: kept under the first scheme, so the fault stays where it is.
        None => json!([
            prev,
            e.event_id,
            e.seq,
            e.actor_id,
            e.actor_role,
            e.action,
            e.from_state,
            e.to_state,
            e.reason,
            stamp(e),
            e.lat,
            e.lng,
            e.detail,
        ]),
    };
    hex(&Sha256::digest(canonical.to_string().as_bytes()))
}

/// Gives the entry a fresh salt, its commitment and its hash after `prev`.
fn seal(prev: &str, e: &mut EventLogRow) {
    let salt = hex(&rand::random::<[u8; 16]>());
    e.personal_commitment = Some(commitment(&salt, e));
    e.personal_salt = Some(salt);
    e.erased_at = None;
    e.hash = Some(digest(prev, e));
}

/// The entry that follows `prev` (`None` for the first), hashed. Pure: intake uses it to write
/// the event and its first entry together.
pub fn entry(event_id: &str, prev: Option<(i32, &str)>, step: &Step<'_>) -> EventLogRow {
    let (seq, prev_hash) = prev.map_or((1, ""), |(s, h)| (s + 1, h));
    let mut row = EventLogRow {
        id: new_id(),
        event_id: event_id.to_owned(),
        actor_id: step.who.user_id.clone(),
        action: step.action.to_owned(),
        from_state: step.from.map(|s| s.as_str().to_owned()),
        to_state: step.to.as_str().to_owned(),
        reason: step.reason.map(|r| r.trim().to_owned()),
        created_at: now(),
        actor_role: Some(step.who.role.clone()),
        lat: step.at.map(|p| p.0),
        lng: step.at.map(|p| p.1),
        detail: step.detail.as_ref().map(Value::to_string),
        seq,
        hash: None,
        personal_salt: None,
        personal_commitment: None,
        erased_at: None,
    };
    seal(prev_hash, &mut row);
    row
}

/// Appends a step after the event's newest entry and moves the event's head to it. Two writers
/// racing on one event collide on the (event, seq) key: one of them fails, nothing is lost.
pub fn append(conn: &mut DbConn, event_id: &str, step: &Step<'_>) -> ApiResult<EventLogRow> {
    let last: Option<(i32, Option<String>)> = event_log::table
        .filter(event_log::event_id.eq(event_id))
        .order(event_log::seq.desc())
        .select((event_log::seq, event_log::hash))
        .first(conn)
        .optional()?;
    let row = entry(event_id, last.as_ref().map(|(s, h)| (*s, h.as_deref().unwrap_or(""))), step);
    diesel::insert_into(event_log::table).values(&row).execute(conn)?;
    crate::queries::milestones::record(conn, &row)?;
    diesel::update(events::table.find(event_id)).set(events::log_head.eq(&row.hash)).execute(conn)?;
    // After the head moves: the message carries the event as the change left it.
    crate::webhooks::outbox::enqueue(conn, &row)?;
    Ok(row)
}

/// Appends an entry that records something without changing the event's state (a duplicate
/// report, a warning, a merge into it, a dispatch that found nobody …).
pub fn note(
    conn: &mut DbConn,
    event: &EventRow,
    who: &Who,
    action: &str,
    at: Option<(f64, f64)>,
    detail: Value,
) -> ApiResult<EventLogRow> {
    let state: EventState = event.state.parse().map_err(crate::events::internal)?;
    append(conn, &event.id, &Step { who, action, from: Some(state), to: state, reason: None, at, detail: Some(detail) })
}

/// The timeline of one event, oldest first.
pub fn of(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<EventLogRow>> {
    event_log::table
        .filter(event_log::event_id.eq(event_id))
        .order(event_log::seq.asc())
        .select(EventLogRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub event_id: String,
    pub seq: Option<i32>,
    /// `edited`, `missing` (a gap or deleted tail) or `unsealed`.
    pub problem: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub events: usize,
    pub entries: usize,
    pub problems: Vec<Problem>,
    /// SHA-256 over every event's id and newest hash, in id order: record it elsewhere to detect a
    /// wholesale rewrite later.
    pub digest: String,
}

/// Checks one event's entries (in seq order) against its recorded head.
fn check(event_id: &str, head: Option<&str>, entries: &[EventLogRow], problems: &mut Vec<Problem>) {
    let mut prev = String::new();
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i32::try_from(i + 1).unwrap_or(i32::MAX);
        if e.seq != expected_seq {
            problems.push(Problem { event_id: event_id.to_owned(), seq: Some(expected_seq), problem: "missing" });
            return;
        }
        let Some(hash) = e.hash.as_deref() else {
            problems.push(Problem { event_id: event_id.to_owned(), seq: Some(e.seq), problem: "unsealed" });
            return;
        };
        if digest(&prev, e) != hash || !personal_part_intact(e) {
            problems.push(Problem { event_id: event_id.to_owned(), seq: Some(e.seq), problem: "edited" });
            return;
        }
        prev = hash.to_owned();
    }
    if head.unwrap_or("") != prev {
        problems.push(Problem { event_id: event_id.to_owned(), seq: None, problem: "missing" });
    }
}

/// A personal part with its salt must match its commitment; one without must have been erased.
fn personal_part_intact(e: &EventLogRow) -> bool {
    match (e.personal_commitment.as_deref(), e.personal_salt.as_deref()) {
        (Some(c), Some(salt)) => commitment(salt, e) == c,
        (Some(_), None) => e.erased_at.is_some(),
        (None, _) => true,
    }
}

/// Walks every event's timeline, a page of events at a time.
pub fn verify(conn: &mut DbConn) -> ApiResult<Verification> {
    const PAGE: i64 = 500;
    let mut out = Verification { events: 0, entries: 0, problems: vec![], digest: String::new() };
    let mut all = Sha256::new();
    let mut after = String::new();
    loop {
        let page: Vec<(String, Option<String>)> = events::table
            .filter(events::id.gt(&after))
            .order(events::id.asc())
            .limit(PAGE)
            .select((events::id, events::log_head))
            .load(conn)?;
        let Some(last) = page.last() else { break };
        after = last.0.clone();
        let ids: Vec<&String> = page.iter().map(|(id, _)| id).collect();
        let entries: Vec<EventLogRow> = event_log::table
            .filter(event_log::event_id.eq_any(ids))
            .order((event_log::event_id.asc(), event_log::seq.asc()))
            .select(EventLogRow::as_select())
            .load(conn)?;
        out.entries += entries.len();
        for (id, head) in &page {
            let start = entries.partition_point(|e| e.event_id < *id);
            let end = entries.partition_point(|e| e.event_id <= *id);
            check(id, head.as_deref(), &entries[start..end], &mut out.problems);
            all.update(id.as_bytes());
            all.update(b" ");
            all.update(head.as_deref().unwrap_or("").as_bytes());
            all.update(b"\n");
        }
        out.events += page.len();
    }
    out.digest = hex(&all.finalize());
    Ok(out)
}

/// Seals, in the current scheme, the timelines that have entries without a personal commitment:
/// those written before the timeline was chained (no hash at all) and those written before the
/// commitment existed. An event whose old chain does not verify is left as it is, so
/// `gridwork audit verify` goes on reporting the entry at fault. Returns the events sealed.
pub fn seal_legacy(conn: &mut DbConn) -> ApiResult<usize> {
    let ids: Vec<String> = event_log::table
        .filter(event_log::personal_commitment.is_null())
        .select(event_log::event_id)
        .distinct()
        .load(conn)?;
    let mut sealed = 0;
    for id in &ids {
        let head: Option<String> = events::table.find(id).select(events::log_head).first(conn)?;
        let entries = of(conn, id)?;
        let unchained = entries.iter().all(|e| e.hash.is_none());
        let mut problems = vec![];
        if !unchained {
            check(id, head.as_deref(), &entries, &mut problems);
        }
        if !problems.is_empty() {
            tracing::warn!(event = %id, "left a timeline that does not verify in its old scheme");
            continue;
        }
        let mut prev = String::new();
        for mut e in entries {
            seal(&prev, &mut e);
            diesel::update(event_log::table.find(&e.id))
                .set((
                    event_log::hash.eq(&e.hash),
                    event_log::personal_salt.eq(&e.personal_salt),
                    event_log::personal_commitment.eq(&e.personal_commitment),
                ))
                .execute(conn)?;
            prev = e.hash.unwrap_or_default();
        }
        diesel::update(events::table.find(id)).set(events::log_head.eq(&prev)).execute(conn)?;
        sealed += 1;
    }
    Ok(sealed)
}

/// Keys of a step's detail that carry a person's own words or a photo's capture data.
const PERSONAL_KEYS: [&str; 5] = ["description", "reason", "taken_at", "lat", "lng"];

/// Removes [`PERSONAL_KEYS`] at any depth.
pub fn without_personal_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !PERSONAL_KEYS.contains(&k.as_str()));
            map.values_mut().for_each(without_personal_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(without_personal_keys),
        _ => {}
    }
}

/// Erases the personal part of every entry `actor_id` acted in: their position, their words and
/// the personal keys of the detail, with the salt, so the commitment can no longer be opened.
/// The chain still verifies. Returns the entries erased.
pub fn erase_actor(conn: &mut DbConn, actor_id: &str, at: chrono::NaiveDateTime) -> ApiResult<usize> {
    let rows: Vec<(String, Option<String>)> = event_log::table
        .filter(event_log::actor_id.eq(actor_id))
        .filter(event_log::erased_at.is_null())
        .select((event_log::id, event_log::detail))
        .load(conn)?;
    for (id, detail) in &rows {
        let detail = detail.as_deref().map(|d| {
            let mut v: Value = serde_json::from_str(d).unwrap_or(Value::Null);
            without_personal_keys(&mut v);
            v.to_string()
        });
        diesel::update(event_log::table.find(id))
            .set((
                event_log::lat.eq(None::<f64>),
                event_log::lng.eq(None::<f64>),
                event_log::reason.eq(None::<String>),
                event_log::detail.eq(detail),
                event_log::personal_salt.eq(None::<String>),
                event_log::erased_at.eq(Some(at)),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<EventLogRow> {
        let who = Who { user_id: "u".into(), role: "grid_worker".into() };
        let mut out: Vec<EventLogRow> = vec![];
        for i in 0..n {
            let step = Step {
                who: &who,
                action: "start",
                from: Some(EventState::Claimed),
                to: EventState::InProgress,
                reason: None,
                at: Some((30.5 + i as f64 * 1e-7, 114.3)),
                detail: None,
            };
            let prev = out.last().map(|e| (e.seq, e.hash.as_deref().unwrap_or("")));
            let e = entry("ev", prev, &step);
            out.push(e);
        }
        out
    }

    fn problems(entries: &[EventLogRow], head: Option<&str>) -> Vec<Problem> {
        let mut p = vec![];
        check("ev", head, entries, &mut p);
        p
    }

    #[test]
    fn an_intact_chain_verifies_and_any_change_is_found() {
        let good = chain(4);
        let head = good[3].hash.clone();
        assert!(problems(&good, head.as_deref()).is_empty());

        let mut edited = good.clone();
        edited[1].reason = Some("nothing happened".into());
        assert_eq!(problems(&edited, head.as_deref())[0].problem, "edited");
        assert_eq!(problems(&edited, head.as_deref())[0].seq, Some(2));

        let mut moved = good.clone();
        moved[2].lat = Some(31.0);
        assert_eq!(problems(&moved, head.as_deref())[0].seq, Some(3));

        let gap: Vec<_> = good.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, e)| e.clone()).collect();
        assert_eq!(problems(&gap, head.as_deref())[0].problem, "missing");

        // Dropping the newest entry leaves a valid chain, but not the one the event recorded.
        assert_eq!(problems(&good[..3], head.as_deref())[0].problem, "missing");

        // Dropping only a salt (to hide an edit of the personal part) is found too.
        let mut unsalted = good;
        unsalted[2].personal_salt = None;
        unsalted[2].lat = Some(31.0);
        assert_eq!(problems(&unsalted, head.as_deref())[0].seq, Some(3));
    }

    #[test]
    fn erasing_a_personal_part_keeps_the_chain() {
        let sealed = chain(3);
        let head = sealed[2].hash.clone();
        let mut entries = sealed.clone();
        entries[1].reason = Some("call me at 13800000000".into());
        assert_eq!(problems(&entries, head.as_deref())[0].problem, "edited");

        let mut entries = sealed;
        entries[1].reason = None;
        entries[1].lat = None;
        entries[1].lng = None;
        entries[1].personal_salt = None;
        entries[1].erased_at = Some(now());
        assert!(problems(&entries, head.as_deref()).is_empty());
    }

    #[test]
    fn personal_keys_go_at_any_depth() {
        let mut v =
            json!({"evidence": "e1", "flags": [{"code": "before_dispatch", "taken_at": "x"}], "description": "d"});
        without_personal_keys(&mut v);
        assert_eq!(v, json!({"evidence": "e1", "flags": [{"code": "before_dispatch"}]}));
    }
}
