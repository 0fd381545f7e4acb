//! Intake: a report becomes an event (or joins one nearby), resolved to its seven areas, triaged
//! by source, and dispatched at once when its source is trusted.

use crate::db::write_tx;
use chrono::NaiveDateTime;
use gridwork_mobile_core::domain::category::Grade;
use gridwork_mobile_core::domain::crs::distance_m;
use gridwork_mobile_core::domain::event::{self, Actor, EventState, OPS_ROLES, Source};
use gridwork_mobile_core::{AreaLevel, Role};
use serde_json::json;

use super::actions::{Ctx, auto_dispatch};
use super::due;
use super::timeline::{self, Step, Who};
use crate::auth::Caller;
use crate::catalog::{self, Category};
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::models::event::{EventLinkRow, EventLogRow, EventRow, FollowerRow, IdempotencyRow};
use crate::models::{new_id, now};
use crate::queries;

#[derive(Debug, Clone)]
pub struct NewReport {
    pub category: String,
    pub source: Source,
    pub lat: f64,
    pub lng: f64,
    pub description: String,
    pub address: Option<String>,
    pub grade: Option<Grade>,
    /// A grade the reporter asked for but may not set (only the ops centre grades).
    pub suggested_grade: Option<Grade>,
    /// Where the reporter stood, if it differs from the problem's point.
    pub at: Option<(f64, f64)>,
    /// Before-photos the reporter uploaded ahead of the report.
    pub evidence: Vec<String>,
}

pub use gridwork_mobile_core::wire::Filed;

fn active_category(conn: &mut DbConn, code: &str, field: &str) -> ApiResult<Category> {
    crate::standing::category(conn, code)?
        .map(|r| catalog::from_row(&r))
        .transpose()?
        .filter(|c| c.active)
        .ok_or_else(|| ApiError::field(field, "unknown_category", format!("no active category {code:?}")))
}

fn source_name(source: Source) -> String {
    serde_json::to_value(source).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// A new event row for a point, resolved to its areas with the live index.
fn new_row(
    ctx: Ctx<'_>,
    category: &Category,
    new: &NewReport,
    reporter: &str,
    state: EventState,
    field: &str,
) -> ApiResult<EventRow> {
    let chain = ctx.index.lookup(new.lng, new.lat);
    if chain.is_empty() {
        return Err(ApiError::field(field, "outside_service_area", "the point lies outside every mapped area"));
    }
    let code_at = |level: AreaLevel| chain.iter().find(|a| a.level == level).map(|a| a.code.clone());
    let at = now();
    let grade = new.grade.unwrap_or(category.default_grade);
    Ok(EventRow {
        id: new_id(),
        category_code: category.code.clone(),
        grade: grade.as_str().to_owned(),
        state: state.as_str().to_owned(),
        source: source_name(new.source),
        description: new.description.trim().to_owned(),
        address: new.address.clone(),
        lat: new.lat,
        lng: new.lng,
        city_code: code_at(AreaLevel::City),
        district_code: code_at(AreaLevel::District),
        street_code: code_at(AreaLevel::Street),
        community_code: code_at(AreaLevel::Community),
        grid_code: code_at(AreaLevel::Grid),
        compound_code: code_at(AreaLevel::Compound),
        building_code: code_at(AreaLevel::Building),
        reporter_id: reporter.to_owned(),
        resolved_by: None,
        due_at: due(category, grade, state.timed_stage(), at, 1.0),
        version: 1,
        created_at: at,
        updated_at: at,
        stage_started_at: Some(at),
        warned_at: None,
        escalation_level: None,
        escalated_at: None,
        late_stages: 0,
        rework_count: 0,
        log_head: None,
        extension_requested_at: None,
        extension_count: 0,
        suggested_grade: new.suggested_grade.map(|g| g.as_str().to_owned()),
    })
}

/// A new event as it will be written, with its first timeline entry: its first stage timed (on
/// an emergency's time where one runs), its head at that entry.
fn opening(
    conn: &mut DbConn,
    category: &Category,
    mut row: EventRow,
    who: &Who,
    at: Option<(f64, f64)>,
    detail: Option<serde_json::Value>,
) -> ApiResult<(EventRow, EventLogRow)> {
    let state: EventState = row.state.parse().map_err(super::internal)?;
    if let Some(factors) = crate::emergency::factors_for(conn, &row)? {
        let grade = super::grade_of(&row)?;
        row.due_at = due(category, grade, state.timed_stage(), row.created_at, factors.of(grade));
    }
    let first = timeline::entry(
        &row.id,
        None,
        &Step { who, action: "report", from: None, to: state, reason: None, at, detail },
    );
    row.log_head = first.hash.clone();
    Ok((row, first))
}

/// Writes a new event with its first timeline entry; trusted ones are dispatched at once.
fn open(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    category: &Category,
    row: EventRow,
    who: &Who,
    at: Option<(f64, f64)>,
    detail: Option<serde_json::Value>,
) -> ApiResult<EventRow> {
    let (row, first) = opening(conn, category, row, who, at, detail)?;
    queries::events::insert(conn, &row)?;
    queries::events::log(conn, &first)?;
    crate::webhooks::outbox::enqueue(conn, &first)?;
    if first.to_state == EventState::Accepted.as_str() {
        return auto_dispatch(conn, ctx, &row, category, &[]);
    }
    Ok(row)
}

/// Whether the caller holds an ops role over the area deepest at the point.
fn grades_here(caller: &Caller, ctx: Ctx<'_>, lat: f64, lng: f64) -> bool {
    ctx.index
        .lookup(lng, lat)
        .last()
        .and_then(|a| gridwork_mobile_core::AreaCode::parse(&a.code).ok())
        .is_some_and(|area| caller.holds_over(&OPS_ROLES, Some(&area), ctx.index))
}

/// An event the system or an ops centre opens directly (a sensor alert, a special operation's
/// task): accepted or not by its source, never joined to a nearby event.
#[derive(Debug, Clone)]
pub struct DirectReport {
    pub source: Source,
    pub reporter: String,
    pub who: Who,
    pub category: String,
    pub grade: Option<Grade>,
    pub lat: f64,
    pub lng: f64,
    pub description: String,
    pub detail: serde_json::Value,
}

/// Opens a direct report's event inside the caller's transaction.
pub fn open_direct(conn: &mut DbConn, ctx: Ctx<'_>, r: &DirectReport) -> ApiResult<EventRow> {
    let category = active_category(conn, &r.category, "category")?;
    let new = NewReport {
        category: category.code.clone(),
        source: r.source,
        lat: r.lat,
        lng: r.lng,
        description: r.description.clone(),
        address: None,
        grade: r.grade,
        suggested_grade: None,
        at: None,
        evidence: vec![],
    };
    let row = new_row(ctx, &category, &new, &r.reporter, r.source.initial_state(), "location")?;
    open(conn, ctx, &category, row, &r.who, None, Some(r.detail.clone()))
}

/// A report checked against its caller and the catalog, ready to be written.
#[derive(Debug, Clone)]
pub struct Checked {
    category: Category,
    new: NewReport,
    key: String,
    user: String,
    who: Who,
}

/// What a caller may file: the source they claim, an active category, a grade only from the ops
/// centre over the point (anyone else's is a suggestion). Reads nothing but the standing data.
pub fn check(conn: &mut DbConn, ctx: Ctx<'_>, caller: &Caller, new: &NewReport, key: &str) -> ApiResult<Checked> {
    if !new.source.permitted_for(&caller.roles()) {
        return Err(ApiError::field(
            "source",
            "source_not_permitted",
            format!("your roles cannot file {:?} reports", new.source),
        ));
    }
    let category = active_category(conn, &new.category, "category")?;
    let mut new = new.clone();
    if !grades_here(caller, ctx, new.lat, new.lng) {
        new.suggested_grade = new.grade.take();
    }
    let who = Who { user_id: caller.user.id.clone(), role: reporter_role(caller, new.source) };
    Ok(Checked { category, new, key: key.to_owned(), user: caller.user.id.clone(), who })
}

/// Files a report. The same key from the same user returns the same event; a report near an
/// open event of the same category joins it.
pub fn report(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    caller: &Caller,
    new: &NewReport,
    key: &str,
) -> ApiResult<(EventRow, Filed)> {
    let checked = check(conn, ctx, caller, new, key)?;
    file(conn, ctx, &checked)
}

/// Files a checked report in a transaction of its own.
pub fn file(conn: &mut DbConn, ctx: Ctx<'_>, c: &Checked) -> ApiResult<(EventRow, Filed)> {
    // Two people reporting the same problem at the same instant both append to its timeline; the
    // loser of that race (or of the idempotency key) runs again and finds the winner's rows.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match write_tx(conn, |conn| file_in(conn, ctx, c)) {
            Err(e) if e.code == crate::error::ErrorCode::Conflict && attempt < 3 => continue,
            other => return other,
        }
    }
}

/// Files checked reports in one transaction, in their order (each sees those before it: a key
/// sent twice replays, a second report of one problem joins the first). All or none: on an error
/// nothing is written and the caller files them one by one to learn whose it was.
///
/// Most reports of a batch open a new event and need nothing else (no key seen before, no open
/// event of their kind nearby, no photos, no dispatch, no webhook): one read tells which, and
/// their rows are written together, a statement per table for the batch. The others are filed as
/// a lone report would be, after what came before them is written.
pub fn file_together(conn: &mut DbConn, ctx: Ctx<'_>, reports: &[&Checked]) -> ApiResult<Vec<(EventRow, Filed)>> {
    write_tx(conn, |conn| {
        let mut batch = Batch::read(conn, reports)?;
        let mut out = Vec::with_capacity(reports.len());
        for c in reports {
            if let Some(row) = batch.plain(conn, ctx, c)? {
                out.push((row, Filed::Created));
                continue;
            }
            batch.write(conn)?;
            let (row, filed) = file_in(conn, ctx, c)?;
            batch.saw(c, &row);
            out.push((row, filed));
        }
        batch.write(conn)?;
        Ok(out)
    })
}

/// What a batch knows while it is filed: the keys stored, where open events lie, and the new
/// events not written yet.
#[derive(Default)]
struct Batch {
    keys: std::collections::HashSet<(String, String)>,
    open: Vec<(String, f64, f64)>,
    webhooks: bool,
    rows: Vec<EventRow>,
    first: Vec<EventLogRow>,
    followers: Vec<FollowerRow>,
    new_keys: Vec<IdempotencyRow>,
}

impl Batch {
    fn read(conn: &mut DbConn, reports: &[&Checked]) -> ApiResult<Self> {
        let pairs: Vec<(&str, &str)> = reports.iter().map(|c| (c.user.as_str(), c.key.as_str())).collect();
        let boxes: Vec<(&str, queries::events::LatLngBox)> =
            reports.iter().map(|c| (c.category.code.as_str(), near_box(&c.category, &c.new))).collect();
        Ok(Self {
            keys: queries::events::keys_among(conn, &pairs)?.into_iter().collect(),
            open: queries::events::open_in_boxes(conn, &terminal(), &boxes)?,
            webhooks: !crate::standing::subscriptions(conn)?.is_empty(),
            ..Self::default()
        })
    }

    /// The report's new event, kept for the batch's write, if the report needs nothing else.
    fn plain(&mut self, conn: &mut DbConn, ctx: Ctx<'_>, c: &Checked) -> ApiResult<Option<EventRow>> {
        let Checked { category, new, key, user, who } = c;
        let state = new.source.initial_state();
        let near = |(code, lat, lng): &(String, f64, f64)| code == &category.code && is_near(category, new, *lat, *lng);
        if self.webhooks
            || state != EventState::Reported
            || !new.evidence.is_empty()
            || self.keys.contains(&(user.clone(), key.clone()))
            || self.open.iter().any(near)
        {
            return Ok(None);
        }
        // Outside the map: the lone path gives the report its error.
        let Ok(row) = new_row(ctx, category, new, user, state, "location") else { return Ok(None) };
        let (row, first) = opening(conn, category, row, who, new.at, None)?;
        self.keys.insert((user.clone(), key.clone()));
        self.open.push((category.code.clone(), new.lat, new.lng));
        let (follower, key) = reporter_rows(&row.id, user, key, row.created_at);
        self.followers.push(follower);
        self.new_keys.push(key);
        self.first.push(first);
        self.rows.push(row.clone());
        Ok(Some(row))
    }

    /// Writes the new events kept so far, so what follows can read them.
    fn write(&mut self, conn: &mut DbConn) -> ApiResult<()> {
        if !self.rows.is_empty() {
            queries::events::open_many(conn, &self.rows, &self.first, &self.followers, &self.new_keys)?;
            self.rows.clear();
            self.first.clear();
            self.followers.clear();
            self.new_keys.clear();
        }
        Ok(())
    }

    /// A report filed the lone way: its key is stored now, and its event may be near a later one.
    fn saw(&mut self, c: &Checked, row: &EventRow) {
        self.keys.insert((c.user.clone(), c.key.clone()));
        if row.state.parse::<EventState>().is_ok_and(|s| !s.is_terminal()) {
            self.open.push((row.category_code.clone(), row.lat, row.lng));
        }
    }
}

/// What a report leaves beside its event: the reporter follows it, and the key names it.
fn reporter_rows(event_id: &str, user: &str, key: &str, at: NaiveDateTime) -> (FollowerRow, IdempotencyRow) {
    (
        FollowerRow { event_id: event_id.to_owned(), user_id: user.to_owned(), created_at: at },
        IdempotencyRow { user_id: user.to_owned(), key: key.to_owned(), event_id: event_id.to_owned(), created_at: at },
    )
}

/// One report's reads and writes, inside the caller's transaction.
fn file_in(conn: &mut DbConn, ctx: Ctx<'_>, c: &Checked) -> ApiResult<(EventRow, Filed)> {
    let Checked { category, new, key, user, who } = c;
    if let Some(id) = queries::events::idempotent(conn, user, key)? {
        let row =
            queries::events::by_id(conn, &id)?.ok_or_else(|| ApiError::internal("idempotency key points nowhere"))?;
        return Ok((row, Filed::Replayed));
    }
    let at = now();
    let (row, filed) = match duplicate_of(conn, category, new)? {
        Some(existing) => {
            let detail = json!({"description": new.description.trim()});
            timeline::note(conn, &existing, who, "report_duplicate", new.at, detail)?;
            (existing, Filed::Duplicate)
        }
        None => {
            let row = new_row(ctx, category, new, user, new.source.initial_state(), "location")?;
            (open(conn, ctx, category, row, who, new.at, None)?, Filed::Created)
        }
    };
    if !new.evidence.is_empty() && !queries::evidence::attach(conn, &new.evidence, user, &row.id)? {
        return Err(ApiError::field(
            "evidence",
            "unknown_evidence",
            "name before-photos you uploaded that belong to no report yet",
        ));
    }
    let (follower, key) = reporter_rows(&row.id, user, key, at);
    if filed == Filed::Created {
        queries::events::add_follower(conn, &follower)?;
    } else {
        queries::events::follow(conn, &follower)?;
    }
    queries::events::remember_key(conn, &key)?;
    Ok((row, filed))
}

fn reporter_role(caller: &Caller, source: Source) -> String {
    let role = match source {
        Source::GridWorker => Some(Role::GridWorker),
        Source::Department => Some(Role::DeptHandler),
        Source::Volunteer if caller.has_role(Role::Volunteer) => Some(Role::Volunteer),
        _ => caller.grants.first().map(|g| g.role),
    };
    role.map_or("resident", |r| r.as_str()).to_owned()
}

/// The states in which an event takes no more reports (the core's terminal states).
fn terminal() -> Vec<&'static str> {
    EventState::ALL.into_iter().filter(|s| s.is_terminal()).map(EventState::as_str).collect()
}

/// The box around a report that holds every point within its category's duplicate radius.
fn near_box(category: &Category, new: &NewReport) -> queries::events::LatLngBox {
    let r = f64::from(category.duplicate_radius_m);
    let dlat = r / 110_574.0;
    let dlng = r / (111_320.0 * new.lat.to_radians().cos().max(0.01));
    (new.lat - dlat, new.lng - dlng, new.lat + dlat, new.lng + dlng)
}

/// Whether an event at (lat, lng) is near enough to be the problem the report describes.
fn is_near(category: &Category, new: &NewReport, lat: f64, lng: f64) -> bool {
    distance_m((lng, lat), (new.lng, new.lat)) <= f64::from(category.duplicate_radius_m)
}

/// An open event of the same category within the category's radius, oldest first.
fn duplicate_of(conn: &mut DbConn, category: &Category, new: &NewReport) -> ApiResult<Option<EventRow>> {
    let nearby = queries::events::open_nearby(conn, &category.code, &terminal(), near_box(category, new))?;
    Ok(nearby.into_iter().find(|e| is_near(category, new, e.lat, e.lng)))
}

/// One part of a report that turned out to hold several problems.
#[derive(Debug, Clone)]
pub struct Part {
    pub category: String,
    pub description: String,
    /// Defaults to the original's point.
    pub point: Option<(f64, f64)>,
}

/// Splits a report that holds several problems into new events, each accepted and dispatched on
/// its own and linked to the original, whose followers follow every part. The original is left
/// as it is: the ops centre closes, rejects or keeps it as one of the problems.
pub fn split(
    conn: &mut DbConn,
    ctx: Ctx<'_>,
    caller: &Caller,
    original: &EventRow,
    parts: &[Part],
    reason: &str,
) -> ApiResult<Vec<EventRow>> {
    write_tx(conn, |conn| {
        let mut categories = vec![];
        for (i, p) in parts.iter().enumerate() {
            categories.push(active_category(conn, p.category.trim(), &format!("parts[{i}].category"))?);
        }
        let roles = super::roles_over(caller, original.area_code(), ctx.index);
        let original_category = super::category_of(conn, &original.category_code)?;
        let facts = super::facts_of(conn, original, &original_category)?;
        let actor = Actor { user_id: caller.user.id.clone(), roles };
        let start = event::may_split(&facts, &actor).map_err(crate::error::ApiError::refusal)?;
        let role = actor.roles.iter().find(|r| OPS_ROLES.contains(r)).map_or("none", |r| r.as_str());
        let who = Who { user_id: caller.user.id.clone(), role: role.to_owned() };
        let followers = queries::events::followers(conn, &original.id)?;
        let mut out = vec![];
        for (i, (p, category)) in parts.iter().zip(&categories).enumerate() {
            let (lat, lng) = p.point.unwrap_or((original.lat, original.lng));
            let new = NewReport {
                category: category.code.clone(),
                source: Source::Resident,
                lat,
                lng,
                description: p.description.clone(),
                address: original.address.clone(),
                grade: None,
                suggested_grade: None,
                at: None,
                evidence: Vec::new(),
            };
            let mut row = new_row(ctx, category, &new, &original.reporter_id, start, &format!("parts[{i}].point"))?;
            row.source = original.source.clone();
            // A split may not place work outside the splitter's own area.
            if !super::roles_over(caller, row.area_code(), ctx.index).iter().any(|r| OPS_ROLES.contains(r)) {
                return Err(ApiError::field(
                    &format!("parts[{i}].location"),
                    "outside_scope",
                    "every part must lie inside an area you operate",
                ));
            }
            let row =
                open(conn, ctx, category, row, &who, None, Some(json!({"split_from": original.id, "reason": reason})))?;
            queries::events::link(
                conn,
                &EventLinkRow {
                    event_id: row.id.clone(),
                    other_id: original.id.clone(),
                    kind: "split_from".into(),
                    created_at: now(),
                },
            )?;
            for user in &followers {
                queries::events::follow(
                    conn,
                    &FollowerRow { event_id: row.id.clone(), user_id: user.clone(), created_at: now() },
                )?;
            }
            out.push(row);
        }
        Ok(out)
    })
}
