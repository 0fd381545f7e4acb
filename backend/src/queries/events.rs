use diesel::prelude::*;
use gridwork_mobile_core::domain::task::TaskState;

use crate::db::DbConn;
use crate::db::schema::{
    action_idempotency, event_excuses, event_followers, event_idempotency, event_links, event_log, events,
    supervision_orders, tasks,
};
use crate::models::event::{
    ActionKeyRow, EventLinkRow, EventLogRow, EventRow, FollowerRow, IdempotencyRow, SupervisionOrderRow,
};

pub fn insert(conn: &mut DbConn, row: &EventRow) -> QueryResult<()> {
    diesel::insert_into(events::table).values(row).execute(conn).map(drop)
}

/// New events with their first timeline entries, followers and idempotency keys, each table in
/// one statement (group commit's reports).
pub fn open_many(
    conn: &mut DbConn,
    rows: &[EventRow],
    first: &[EventLogRow],
    followers: &[FollowerRow],
    keys: &[IdempotencyRow],
) -> QueryResult<()> {
    // Rows per statement: under SQLite's bound-parameter limit for the widest row (31 columns).
    const PER: usize = 64;
    insert_rows!(conn, events::table, rows, PER);
    insert_rows!(conn, event_log::table, first, PER);
    super::milestones::record_many(conn, first)?;
    insert_rows!(conn, event_followers::table, followers, PER);
    insert_rows!(conn, event_idempotency::table, keys, PER);
    Ok(())
}

/// Which of these (user, key) pairs are stored already.
pub fn keys_among(conn: &mut DbConn, pairs: &[(&str, &str)]) -> QueryResult<Vec<(String, String)>> {
    let users: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    let keys: Vec<&str> = pairs.iter().map(|p| p.1).collect();
    let found: Vec<(String, String)> = event_idempotency::table
        .filter(event_idempotency::key.eq_any(&keys))
        .filter(event_idempotency::user_id.eq_any(&users))
        .select((event_idempotency::user_id, event_idempotency::key))
        .load(conn)?;
    Ok(found.into_iter().filter(|(u, k)| pairs.contains(&(u.as_str(), k.as_str()))).collect())
}

/// A box of latitudes and longitudes: (lat0, lng0, lat1, lng1).
pub type LatLngBox = (f64, f64, f64, f64);

/// Where open events lie (category, lat, lng) in any of these (category, box) pairs.
pub fn open_in_boxes(
    conn: &mut DbConn,
    terminal: &[&str],
    boxes: &[(&str, LatLngBox)],
) -> QueryResult<Vec<(String, f64, f64)>> {
    let mut out = vec![];
    // Five parameters a box; SQLite's limit is per statement.
    for chunk in boxes.chunks(500) {
        let boxes = chunk.iter().map(|(category, (lat0, lng0, lat1, lng1))| -> EventCond {
            Box::new(
                events::category_code
                    .eq((*category).to_owned())
                    .and(events::lat.between(*lat0, *lat1))
                    .and(events::lng.between(*lng0, *lng1)),
            )
        });
        out.extend(
            events::table
                .filter(any_of(boxes))
                .filter(events::state.ne_all(terminal))
                .select((events::category_code, events::lat, events::lng))
                .load::<(String, f64, f64)>(conn)?,
        );
    }
    Ok(out)
}

/// Several events by id, in one query (order not kept).
pub fn by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<EventRow>> {
    events::table.filter(events::id.eq_any(ids)).select(EventRow::as_select()).load(conn)
}

pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<EventRow>> {
    events::table.find(id).select(EventRow::as_select()).first(conn).optional()
}

/// Writes the row only if nobody changed it since `expected_version` was read; false otherwise.
pub fn update_if_version(conn: &mut DbConn, row: &EventRow, expected_version: i32) -> QueryResult<bool> {
    let n = diesel::update(events::table.find(&row.id).filter(events::version.eq(expected_version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

/// Open events of a category inside a lat/lng box (the caller measures exact distances).
pub fn open_nearby(
    conn: &mut DbConn,
    category: &str,
    terminal: &[&str],
    (lat0, lng0, lat1, lng1): LatLngBox,
) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::category_code.eq(category))
        .filter(events::state.ne_all(terminal))
        .filter(events::lat.between(lat0, lat1))
        .filter(events::lng.between(lng0, lng1))
        .order(events::created_at.asc())
        .select(EventRow::as_select())
        .load(conn)
}

pub fn idempotent(conn: &mut DbConn, user_id: &str, key: &str) -> QueryResult<Option<String>> {
    event_idempotency::table.find((user_id, key)).select(event_idempotency::event_id).first(conn).optional()
}

pub fn action_key(conn: &mut DbConn, user_id: &str, key: &str) -> QueryResult<Option<ActionKeyRow>> {
    action_idempotency::table.find((user_id, key)).select(ActionKeyRow::as_select()).first(conn).optional()
}

pub fn remember_action_key(conn: &mut DbConn, row: &ActionKeyRow) -> QueryResult<()> {
    diesel::insert_into(action_idempotency::table).values(row).execute(conn).map(drop)
}

pub fn remember_key(conn: &mut DbConn, row: &IdempotencyRow) -> QueryResult<()> {
    diesel::insert_into(event_idempotency::table).values(row).execute(conn).map(drop)
}

pub fn follow(conn: &mut DbConn, row: &FollowerRow) -> QueryResult<()> {
    let exists = event_followers::table.find((&row.event_id, &row.user_id)).count().get_result::<i64>(conn)? > 0;
    if !exists {
        diesel::insert_into(event_followers::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// Adds a follower known not to follow yet (the reporter of a new event).
pub fn add_follower(conn: &mut DbConn, row: &FollowerRow) -> QueryResult<()> {
    diesel::insert_into(event_followers::table).values(row).execute(conn).map(drop)
}

pub fn followers(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<String>> {
    event_followers::table.filter(event_followers::event_id.eq(event_id)).select(event_followers::user_id).load(conn)
}

/// Writes an event's first timeline entry (intake), with the event's milestones row.
pub fn log(conn: &mut DbConn, row: &EventLogRow) -> QueryResult<()> {
    diesel::insert_into(event_log::table).values(row).execute(conn)?;
    super::milestones::record(conn, row)
}

pub fn link(conn: &mut DbConn, row: &EventLinkRow) -> QueryResult<()> {
    diesel::insert_into(event_links::table).values(row).execute(conn).map(drop)
}

/// Links from or to the event.
pub fn links(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<EventLinkRow>> {
    event_links::table
        .filter(event_links::event_id.eq(event_id).or(event_links::other_id.eq(event_id)))
        .select(EventLinkRow::as_select())
        .load(conn)
}

pub fn insert_order(conn: &mut DbConn, row: &SupervisionOrderRow) -> QueryResult<()> {
    diesel::insert_into(supervision_orders::table).values(row).execute(conn).map(drop)
}

/// Late stages of the event the ops centre excused.
pub fn excuses(conn: &mut DbConn, event_id: &str) -> QueryResult<i64> {
    event_excuses::table.filter(event_excuses::event_id.eq(event_id)).count().get_result(conn)
}

pub fn excuse(conn: &mut DbConn, event_id: &str, by: &str, reason: &str, at: chrono::NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(event_excuses::table)
        .values((
            event_excuses::event_id.eq(event_id),
            event_excuses::excused_at.eq(at),
            event_excuses::excused_by.eq(by),
            event_excuses::reason.eq(reason),
        ))
        .execute(conn)
        .map(drop)
}

/// Excused late stages per event, for the events given.
pub fn excuse_counts(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<String> =
        event_excuses::table.filter(event_excuses::event_id.eq_any(ids)).select(event_excuses::event_id).load(conn)?;
    let mut counts: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for id in rows {
        *counts.entry(id).or_insert(0) += 1;
    }
    Ok(counts.into_iter().collect())
}

pub fn order_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<SupervisionOrderRow>> {
    supervision_orders::table.find(id).select(SupervisionOrderRow::as_select()).first(conn).optional()
}

/// Saves an order's new state if it is still in `expected` (else someone acted first: false).
pub fn update_order(conn: &mut DbConn, row: &SupervisionOrderRow, expected: &str) -> QueryResult<bool> {
    let n = diesel::update(
        supervision_orders::table
            .filter(supervision_orders::id.eq(&row.id))
            .filter(supervision_orders::state.eq(expected)),
    )
    .set((
        supervision_orders::state.eq(&row.state),
        supervision_orders::due_at.eq(row.due_at),
        supervision_orders::reply.eq(&row.reply),
        supervision_orders::reply_evidence.eq(&row.reply_evidence),
        supervision_orders::replied_by.eq(&row.replied_by),
        supervision_orders::replied_at.eq(row.replied_at),
        supervision_orders::decided_by.eq(&row.decided_by),
        supervision_orders::decided_at.eq(row.decided_at),
        supervision_orders::send_back_reason.eq(&row.send_back_reason),
        supervision_orders::escalated_to.eq(&row.escalated_to),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Open orders whose reply is overdue at `at`, oldest due first.
pub fn orders_overdue(
    conn: &mut DbConn,
    at: chrono::NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<SupervisionOrderRow>> {
    supervision_orders::table
        .filter(supervision_orders::state.eq("open"))
        .filter(supervision_orders::due_at.lt(at))
        .order(supervision_orders::due_at.asc())
        .limit(limit)
        .select(SupervisionOrderRow::as_select())
        .load(conn)
}

/// Orders in `states` (all if empty), newest first, at most `limit`, with their events.
pub fn orders_in(
    conn: &mut DbConn,
    states: &[String],
    limit: i64,
) -> QueryResult<Vec<(SupervisionOrderRow, EventRow)>> {
    let mut q = supervision_orders::table
        .inner_join(events::table)
        .order(supervision_orders::created_at.desc())
        .limit(limit)
        .select((SupervisionOrderRow::as_select(), EventRow::as_select()))
        .into_boxed();
    if !states.is_empty() {
        q = q.filter(supervision_orders::state.eq_any(states));
    }
    q.load(conn)
}

pub fn orders(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<SupervisionOrderRow>> {
    supervision_orders::table
        .filter(supervision_orders::event_id.eq(event_id))
        .order(supervision_orders::created_at.asc())
        .select(SupervisionOrderRow::as_select())
        .load(conn)
}

type EventCond =
    Box<dyn BoxableExpression<events::table, crate::db::conn::MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// Any of `parts` (none: no event). The parts are joined as they are, with no "false OR …" to
/// start from: a lone part stays a plain condition, which PostgreSQL can serve from an index in
/// order (a lone scope from its newest-first index) instead of walking the whole table.
fn any_of(parts: impl IntoIterator<Item = EventCond>) -> EventCond {
    parts
        .into_iter()
        .reduce(|a, b| Box::new(a.or(b)))
        .unwrap_or_else(|| Box::new(events::id.eq("").and(events::id.ne(""))))
}

/// `events.<level>_code = code`.
fn in_area(level: gridwork_mobile_core::AreaLevel, code: &str) -> EventCond {
    use gridwork_mobile_core::AreaLevel as L;
    let c = code.to_owned();
    match level {
        L::City => Box::new(events::city_code.eq(c).assume_not_null()),
        L::District => Box::new(events::district_code.eq(c).assume_not_null()),
        L::Street => Box::new(events::street_code.eq(c).assume_not_null()),
        L::Community => Box::new(events::community_code.eq(c).assume_not_null()),
        L::Grid => Box::new(events::grid_code.eq(c).assume_not_null()),
        L::Compound => Box::new(events::compound_code.eq(c).assume_not_null()),
        L::Building => Box::new(events::building_code.eq(c).assume_not_null()),
    }
}

/// Task states in which a handler is no longer on the event.
fn gone_states() -> Vec<&'static str> {
    TaskState::ALL.iter().filter(|s| s.is_gone()).map(|s| s.as_str()).collect()
}

/// Events `user_id` is currently given (the tasks table is the record of who is assigned).
fn assigned_to(user_id: &str) -> EventCond {
    Box::new(
        events::id.eq_any(
            tasks::table
                .filter(tasks::user_id.eq(user_id.to_owned()))
                .filter(tasks::state.ne_all(gone_states()))
                .select(tasks::event_id),
        ),
    )
}

/// Filters for listing events. The first three fields say what the caller may see: events in the
/// `scope` areas (or `everywhere`), plus the events `own` reported or is given. Every other field
/// only narrows that set, so no filter value can widen what a caller sees.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub scope: Vec<(gridwork_mobile_core::AreaLevel, String)>,
    pub everywhere: bool,
    pub own: Option<String>,
    /// Only events in one of these states (empty: any).
    pub states: Vec<String>,
    pub within: Option<(gridwork_mobile_core::AreaLevel, String)>,
    pub category: Option<String>,
    /// Only events of one of these categories (empty: any).
    pub categories: Vec<String>,
    pub grade: Option<String>,
    pub source: Option<String>,
    /// Only events this user is currently given (a user id, checked by the caller).
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    /// Only events due before this instant.
    pub overdue_at: Option<chrono::NaiveDateTime>,
    /// Only events awaiting an answer to a request for more time.
    pub extension_requested: bool,
    /// Only events under a supervision order or escalated.
    pub supervised: bool,
    pub created_from: Option<chrono::NaiveDateTime>,
    pub created_to: Option<chrono::NaiveDateTime>,
    /// Cursor: events older than this id (ids are time-ordered UUIDv7).
    pub before_id: Option<String>,
    pub limit: i64,
}

fn filtered(f: &EventFilter) -> events::BoxedQuery<'static, crate::db::conn::MultiBackend> {
    let mut q = events::table.into_boxed();
    if !f.everywhere {
        // Nothing visible unless a scope or ownership says so.
        let mut parts: Vec<EventCond> = f.scope.iter().map(|(level, code)| in_area(*level, code)).collect();
        if let Some(me) = &f.own {
            parts.push(Box::new(events::reporter_id.eq(me.clone())));
            parts.push(assigned_to(me));
        }
        q = q.filter(any_of(parts));
    }
    if !f.states.is_empty() {
        q = q.filter(events::state.eq_any(f.states.clone()));
    }
    if let Some(c) = &f.category {
        q = q.filter(events::category_code.eq(c.clone()));
    }
    if !f.categories.is_empty() {
        q = q.filter(events::category_code.eq_any(f.categories.clone()));
    }
    if let Some(g) = &f.grade {
        q = q.filter(events::grade.eq(g.clone()));
    }
    if let Some(s) = &f.source {
        q = q.filter(events::source.eq(s.clone()));
    }
    if let Some(a) = &f.assignee {
        q = q.filter(assigned_to(a));
    }
    if let Some(t) = f.overdue_at {
        q = q.filter(events::due_at.lt(t));
    }
    if f.extension_requested {
        q = q.filter(events::extension_requested_at.is_not_null());
    }
    if f.supervised {
        q = q.filter(
            events::escalation_level
                .is_not_null()
                .or(events::id.eq_any(supervision_orders::table.select(supervision_orders::event_id))),
        );
    }
    if let Some(r) = &f.reporter {
        q = q.filter(events::reporter_id.eq(r.clone()));
    }
    if let Some(t) = f.created_from {
        q = q.filter(events::created_at.ge(t));
    }
    if let Some(t) = f.created_to {
        q = q.filter(events::created_at.lt(t));
    }
    if let Some((level, code)) = &f.within {
        q = q.filter(in_area(*level, code));
    }
    q
}

/// Where the filtered events lie (lat, lng), without a page limit: density maps.
pub fn points(conn: &mut DbConn, f: &EventFilter) -> QueryResult<Vec<(f64, f64)>> {
    filtered(f).select((events::lat, events::lng)).load(conn)
}

pub fn list(conn: &mut DbConn, f: &EventFilter) -> QueryResult<Vec<EventRow>> {
    let mut q = filtered(f);
    if let Some(id) = &f.before_id {
        q = q.filter(events::id.lt(id.clone()));
    }
    q.order(events::id.desc()).limit(f.limit).select(EventRow::as_select()).load(conn)
}

/// Events changed after the cursor (updated_at, id), oldest change first: the live stream.
pub fn changed_since(
    conn: &mut DbConn,
    f: &EventFilter,
    after: (chrono::NaiveDateTime, String),
) -> QueryResult<Vec<EventRow>> {
    let (t, id) = after;
    filtered(f)
        .filter(events::updated_at.gt(t).or(events::updated_at.eq(t).and(events::id.gt(id))))
        .order((events::updated_at.asc(), events::id.asc()))
        .limit(f.limit)
        .select(EventRow::as_select())
        .load(conn)
}

/// Ids of events merged into others (evaluation leaves them out).
pub fn merged_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
    event_links::table
        .filter(event_links::kind.eq("merged_into"))
        .filter(event_links::event_id.eq_any(ids))
        .select(event_links::event_id)
        .load(conn)
}

/// Supervision orders per event, for the events given.
pub fn order_counts(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, i64)>> {
    supervision_orders::table
        .filter(supervision_orders::event_id.eq_any(ids))
        .group_by(supervision_orders::event_id)
        .select((supervision_orders::event_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Open events with a running deadline that the scheduler may have to warn of or escalate at
/// `at`: not yet warned, or already past due.
pub fn timed_open(conn: &mut DbConn, excluded: &[&str], at: chrono::NaiveDateTime) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::due_at.is_not_null())
        .filter(events::state.ne_all(excluded))
        .filter(events::warned_at.is_null().or(events::due_at.lt(at)))
        .order(events::due_at.asc())
        .select(EventRow::as_select())
        .load(conn)
}

/// Marks the warning for the current deadline sent; false if someone else already did.
pub fn mark_warned(
    conn: &mut DbConn,
    id: &str,
    due_at: Option<chrono::NaiveDateTime>,
    at: chrono::NaiveDateTime,
) -> QueryResult<bool> {
    let Some(due_at) = due_at else { return Ok(false) };
    let n =
        diesel::update(events::table.find(id).filter(events::warned_at.is_null()).filter(events::due_at.eq(due_at)))
            .set(events::warned_at.eq(at))
            .execute(conn)?;
    Ok(n == 1)
}
