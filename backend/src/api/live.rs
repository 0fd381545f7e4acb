//! What phones and dashboards keep in sync: a field worker's task queue with a sync cursor
//! (`GET /tasks/mine`) and a server-sent stream of event changes in the caller's scope
//! (`GET /events/stream`).
//!
//! Cursors are (updated_at, id) pairs. A transaction may commit a little after a later one began,
//! so cursors handed out never pass "now minus a safety margin": a client sees some changes twice
//! (it keeps the higher version) rather than missing one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use gridwork_mobile_core::domain::task::TaskState;
use gridwork_mobile_core::wire::{EventView, TaskFeed, TaskItem};
use serde::Deserialize;

use super::events::{event_view, scoped, views_of};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::models::now;
use crate::queries;
use crate::queries::events::EventFilter;
use crate::state::AppState;

const SAFETY: chrono::Duration = chrono::Duration::seconds(5);

fn encode(t: NaiveDateTime, id: &str) -> String {
    format!("{}_{id}", t.and_utc().timestamp_micros())
}

fn decode(field: &str, raw: &str) -> ApiResult<(NaiveDateTime, String)> {
    let bad = || ApiError::field(field, "invalid", "pass back a cursor this server gave you");
    let (micros, id) = raw.split_once('_').ok_or_else(bad)?;
    let t = chrono::DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((t.naive_utc(), id.to_owned()))
}

/// The cursor after `last`, held back to now − SAFETY.
fn cursor_after(last: Option<(NaiveDateTime, String)>, previous: Option<(NaiveDateTime, String)>) -> String {
    let floor = now() - SAFETY;
    let c = match last.or(previous) {
        Some((t, id)) if t <= floor => (t, id),
        _ => (floor, String::new()),
    };
    encode(c.0, &c.1)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MineQuery {
    /// The `cursor` of the previous answer: only tasks changed since.
    pub since: Option<String>,
    pub limit: Option<i64>,
}

/// Without `since`: every open task. With it: every task of mine that changed since (closed,
/// withdrawn and returned ones tell the phone to drop them; the last two carry no event).
pub async fn my_tasks(caller: Caller, state: web::Data<AppState>, q: web::Query<MineQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 1000"));
    }
    let since = q.since.as_deref().map(|s| decode("since", s)).transpose()?;
    let body = state
        .db
        .run(move |conn| {
            let tasks = queries::tasks::changed_for(conn, &caller.user.id, since.clone(), since.is_none(), limit)?;
            // The page's events in one query, not one per task.
            let ids: Vec<String> = tasks.iter().map(|t| t.event_id.clone()).collect();
            let rows = queries::events::by_ids(conn, &ids)?;
            let events: HashMap<String, EventView> =
                rows.iter().map(|e| e.id.clone()).zip(views_of(conn, &rows)?).collect();
            let mut items = vec![];
            for t in &tasks {
                // A handler taken off an event (withdrawn, or who returned it) hears that the task
                // is gone, not how the event goes on.
                let state: TaskState = t.state.parse().map_err(crate::events::internal)?;
                let event = if state.is_gone() { None } else { events.get(&t.event_id).cloned() };
                items.push(TaskItem {
                    id: t.id.clone(),
                    event_id: t.event_id.clone(),
                    state,
                    lead: t.lead,
                    open: state.is_open(),
                    assigned_at: t.created_at.and_utc(),
                    updated_at: t.updated_at.and_utc(),
                    event,
                });
            }
            let last = tasks.last().map(|t| (t.updated_at, t.id.clone()));
            let full = tasks.len() as i64 == limit;
            // A complete first answer starts the feed at "now": nothing older is missing from it.
            // A first answer cut at `limit` continues after its last task, as any page does.
            let cursor =
                if since.is_none() && !full { cursor_after(None, None) } else { cursor_after(last, since.clone()) };
            // More only where the cursor moved: changes inside the safety window come next time.
            let more = full && since.is_none_or(|s| encode(s.0, &s.1) != cursor);
            Ok(TaskFeed { tasks: items, cursor, more })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The least time between two looks of one stream at the database.
const MIN_GAP: Duration = Duration::from_millis(100);
/// How often a stream reads the whole SAFETY window behind its cursor again, for changes that
/// committed late (every look reads what is newer than the cursor).
const LOOK_BACK_EVERY: Duration = Duration::from_secs(1);

/// What changed in `filter`'s scope that `sent` does not hold at that version: newer than
/// `cursor` (a page), and — when `look_back` — everything in the SAFETY window behind it, page by
/// page. Reading the window as one page of the oldest rows would stall a stream whose window holds
/// more than a page of rows it already sent.
fn changes(
    conn: &mut crate::db::DbConn,
    filter: &EventFilter,
    cursor: &(NaiveDateTime, String),
    look_back: bool,
    sent: &HashMap<String, (i32, NaiveDateTime)>,
) -> ApiResult<Vec<crate::models::event::EventRow>> {
    let mut rows = Vec::new();
    let behind = |r: &crate::models::event::EventRow| (r.updated_at, r.id.as_str()) <= (cursor.0, cursor.1.as_str());
    if look_back {
        let mut after = (cursor.0 - SAFETY, String::new());
        loop {
            let page = queries::events::changed_since(conn, filter, after)?;
            let full = page.len() as i64 == filter.limit;
            let last = page.last().map(|r| (r.updated_at, r.id.clone()));
            let reached = page.last().is_some_and(|r| !behind(r));
            rows.extend(page.into_iter().filter(|r| behind(r)));
            match last {
                Some(l) if full && !reached => after = l,
                _ => break,
            }
        }
    }
    rows.extend(queries::events::changed_since(conn, filter, cursor.clone())?);
    rows.retain(|r| sent.get(&r.id).is_none_or(|(v, _)| *v < r.version));
    Ok(rows)
}

/// One server-sent event carrying a wire value.
fn frame<T: serde::Serialize>(id: &str, kind: &str, data: &T) -> Bytes {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    Bytes::from(format!("id: {id}\nevent: {kind}\ndata: {data}\n\n"))
}

/// The stream's filter for this poll, from the session as it is now: `None` once the session
/// has ended (sign-out, revoked sessions, a new password, a disabled account), so the stream
/// closes; a changed grant changes what the next poll sends.
fn current_filter(conn: &mut crate::db::DbConn, session_id: &str, state: &AppState) -> ApiResult<Option<EventFilter>> {
    let Some(user) = queries::sessions::live_user(conn, session_id, now())? else { return Ok(None) };
    let grants = crate::accounts::roles_of(conn, &user.id)?;
    let caller = Caller { user, session_id: session_id.to_owned(), grants };
    let mut filter = scoped(&caller, &state.areas());
    filter.limit = 200;
    Ok(Some(filter))
}

/// Server-sent events: each change in the caller's scope as `event: event` with the event as
/// data; reconnecting with `Last-Event-ID` resumes after the last one received. The stream ends
/// within a poll of its session ending, and at once when the server stops.
pub async fn stream(req: HttpRequest, caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let resume = req.headers().get("last-event-id").and_then(|v| v.to_str().ok()).map(|s| decode("Last-Event-ID", s));
    let start = match resume {
        Some(r) => r?,
        None => (now(), String::new()),
    };
    let state = state.into_inner();
    let session = caller.session_id;
    let poll = Duration::from_secs(2);
    // Each look reads what is newer than the cursor; once a second it also reads the SAFETY window
    // behind it again (a change may commit late), skipping what was sent at that version.
    let looked = Instant::now();
    // Looked back long ago: the first look (a resumed stream's too) reads the window behind.
    let looked_back = looked.checked_sub(LOOK_BACK_EVERY).unwrap_or(looked);
    let body = futures_util::stream::unfold(
        (start, true, HashMap::new(), looked, looked_back),
        move |(cursor, first, sent, looked, looked_back)| {
            let state = state.clone();
            let session = session.clone();
            async move {
                if first {
                    let hello = Bytes::from_static(b": gridwork event stream\nretry: 2000\n\n");
                    return Some((Ok::<_, actix_web::Error>(hello), (cursor, false, sent, looked, looked_back)));
                }
                // Wake on a local change, or poll for changes other servers made; end when stopping.
                let mut stopping = state.stopping.subscribe();
                if *stopping.borrow_and_update() {
                    return None;
                }
                tokio::select! {
                    _ = tokio::time::timeout(poll, state.changes.notified()) => {}
                    _ = stopping.changed() => return None,
                }
                // However busy the city (every group commit wakes every stream), a stream asks the
                // database at most once per MIN_GAP; what changed meanwhile goes out together.
                let wait = MIN_GAP.saturating_sub(looked.elapsed());
                if !wait.is_zero() {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = stopping.changed() => return None,
                    }
                }
                let looked = Instant::now();
                let look_back = looked_back.elapsed() >= LOOK_BACK_EVERY;
                let looked_back = if look_back { looked } else { looked_back };
                let for_poll = state.clone();
                let at = cursor.clone();
                let rows = state
                    .db
                    .run(move |conn| match current_filter(conn, &session, &for_poll)? {
                        Some(filter) => {
                            let rows = changes(conn, &filter, &at, look_back, &sent)?;
                            let on = crate::events::on_events(conn, &rows)?;
                            Ok(Some((rows.into_iter().zip(on).collect::<Vec<_>>(), sent)))
                        }
                        None => Ok(None),
                    })
                    .await;
                let mut out = Vec::new();
                let mut next = cursor;
                let mut sent = match rows {
                    Ok(None) => return None,
                    Ok(Some((rows, mut sent))) => {
                        for (row, on) in rows {
                            let id = encode(row.updated_at, &row.id);
                            match event_view(&row, on) {
                                Ok(v) => out.extend_from_slice(&frame(&id, "event", &v)),
                                Err(e) => tracing::warn!(event = %row.id, error = %e.message, "event not streamed"),
                            }
                            sent.insert(row.id.clone(), (row.version, row.updated_at));
                            if (row.updated_at, row.id.as_str()) > (next.0, next.1.as_str()) {
                                next = (row.updated_at, row.id.clone());
                            }
                        }
                        sent
                    }
                    Err(e) => {
                        // What was sent is forgotten with the failed look: some events may go out
                        // twice (a client keeps the higher version), none is lost.
                        tracing::warn!(error = %e.message, "event stream poll failed");
                        HashMap::new()
                    }
                };
                let horizon = next.0 - SAFETY - SAFETY;
                sent.retain(|_, (_, t)| *t >= horizon);
                if out.is_empty() {
                    // A comment keeps proxies from closing an idle stream.
                    out.extend_from_slice(b": keep-alive\n\n");
                }
                Some((Ok(Bytes::from(out)), (next, false, sent, looked, looked_back)))
            }
        },
    );
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/event-stream"))
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}
