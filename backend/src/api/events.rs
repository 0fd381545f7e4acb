//! The event loop over HTTP: intake, the event with its timeline, actions (one or in bulk),
//! splitting, and scoped listing with cursor pagination.

use actix_web::{HttpRequest, HttpResponse, web};
use gridwork_mobile_core::domain::category::Grade;
use gridwork_mobile_core::domain::crs::Crs;
use gridwork_mobile_core::domain::event::{EventState, Source, VERIFIER_ROLES};
use gridwork_mobile_core::wire::{
    ActionAnswer, ActionRequest, BulkAnswer, BulkItem, DispatchCandidate, DispatchCandidates, EventAreas, EventDetail,
    EventLink, EventPage, EventTask, EventView, LatLng, MAX_DISPATCH_DEPARTMENTS, ReportAnswer, ReportRequest,
    SplitAnswer, SupervisionOrder, TimelineEntry,
};
use gridwork_mobile_core::{AreaLevel, Role};
use serde::Deserialize;
use serde_json::Value;
use validator::Validate;

use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::events::actions::Ctx;
use crate::events::intake::Part;
use crate::events::{self, Filed, NewReport, OnEvent, Request, roles_over, timeline};
use crate::http::extract::ValidJson;
use crate::models::event::{EventLinkRow, EventLogRow, EventRow, SupervisionOrderRow, TaskRow};
use crate::queries;
use crate::queries::events::EventFilter;
use crate::state::AppState;

pub use gridwork_mobile_core::wire::Point;

/// Points as the API takes them: checked, then converted to WGS-84.
pub trait PointExt {
    /// Checked and converted to WGS-84 (lat, lng); errors name `field`.
    fn wgs84(&self, field: &str) -> ApiResult<(f64, f64)>;
}

impl PointExt for Point {
    fn wgs84(&self, field: &str) -> ApiResult<(f64, f64)> {
        if !self.lat.is_finite() || !self.lng.is_finite() || self.lat.abs() > 90.0 || self.lng.abs() > 180.0 {
            return Err(ApiError::field(field, "out_of_range", "lat must be within -90..90 and lng within -180..180"));
        }
        let (lng, lat) = self.crs.unwrap_or(Crs::Wgs84).to_wgs84(self.lng, self.lat);
        Ok((lat, lng))
    }
}

/// The body of a report: the wire's, checked on arrival.
pub type ReportBody = ReportRequest;

/// The wire view of an event (a stored state, grade or source that no longer parses is an
/// internal error, never a guess).
pub fn event_view(row: &EventRow, on: OnEvent) -> ApiResult<EventView> {
    let bad = events::internal;
    Ok(EventView {
        id: row.id.clone(),
        category: row.category_code.clone(),
        grade: row.grade.parse().map_err(bad)?,
        suggested_grade: row.suggested_grade.as_deref().map(str::parse).transpose().map_err(bad)?,
        state: row.state.parse().map_err(bad)?,
        source: row.source.parse().map_err(bad)?,
        description: row.description.clone(),
        address: row.address.clone(),
        location: LatLng { lat: row.lat, lng: row.lng },
        areas: EventAreas {
            city: row.city_code.clone(),
            district: row.district_code.clone(),
            street: row.street_code.clone(),
            community: row.community_code.clone(),
            grid: row.grid_code.clone(),
            compound: row.compound_code.clone(),
            building: row.building_code.clone(),
        },
        assignees: on.assignees,
        resolved_by: row.resolved_by.clone(),
        resolved_parts: on.resolved_parts,
        due_at: row.due_at.map(|d| d.and_utc()),
        overdue: row.due_at.is_some_and(|d| d < crate::models::now()),
        warned: row.warned_at.is_some(),
        escalation_level: row.escalation_level.as_deref().map(str::parse).transpose().map_err(bad)?,
        extension_requested: row.extension_requested_at.is_some(),
        late_stages: row.late_stages,
        rework_count: row.rework_count,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

/// An event as answered, with who is on it.
pub fn view_of(conn: &mut DbConn, row: &EventRow) -> ApiResult<EventView> {
    event_view(row, events::on_event(conn, row)?)
}

/// Events as answered, with who is on them (one task query per 500 events).
pub fn views_of(conn: &mut DbConn, rows: &[EventRow]) -> ApiResult<Vec<EventView>> {
    rows.iter().zip(events::on_events(conn, rows)?).map(|(r, on)| event_view(r, on)).collect()
}

fn ctx_parts(state: &AppState) -> (std::sync::Arc<AreaIndex>, crate::config::LoopSettings) {
    (state.areas(), state.settings.event_loop)
}

fn idempotency_key(req: &HttpRequest) -> ApiResult<String> {
    optional_key(req)?.ok_or_else(|| {
        ApiError::field(
            "Idempotency-Key",
            "required",
            "send an Idempotency-Key header (1–128 characters) made on the device",
        )
    })
}

/// The Idempotency-Key header if sent (actions: phones send one, web consoles need not).
fn optional_key(req: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(raw) = req.headers().get("idempotency-key") else { return Ok(None) };
    let key = raw.to_str().map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 128 {
        return Err(ApiError::field(
            "Idempotency-Key",
            "required",
            "send an Idempotency-Key header (1–128 characters) made on the device",
        ));
    }
    Ok(Some(key.to_owned()))
}

pub async fn report(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: ValidJson<ReportBody>,
) -> ApiResult<HttpResponse> {
    let key = idempotency_key(&req)?;
    let b = body.0;
    let (lat, lng) = Point { lat: b.lat, lng: b.lng, crs: b.crs }.wgs84("location")?;
    let at = b.reporter_location.map(|p| p.wgs84("reporter_location")).transpose()?;
    let new = NewReport {
        category: b.category.trim().to_owned(),
        source: b.source.unwrap_or_else(|| Source::for_reporter(&caller.roles())),
        lat,
        lng,
        description: b.description,
        address: b.address,
        grade: b.grade,
        suggested_grade: None,
        at,
        evidence: b.evidence,
    };
    let (row, filed, on) = if state.settings.group_commit {
        state.group_commit.file(caller, new, key).await?
    } else {
        let (index, policy) = ctx_parts(&state);
        let answer = state
            .db
            .run(move |conn| {
                let (row, filed) = events::report(conn, Ctx { index: &index, policy: &policy }, &caller, &new, &key)?;
                let on = events::on_filed(conn, &row, filed)?;
                Ok((row, filed, on))
            })
            .await?;
        state.changed();
        answer
    };
    let body = ReportAnswer { event: event_view(&row, on)?, filed };
    Ok(match filed {
        Filed::Created => HttpResponse::Created().json(body),
        _ => HttpResponse::Ok().json(body),
    })
}

/// Staff over the event's area see who acted and where; others see what happened and when.
fn timeline_view(entries: Vec<EventLogRow>, staff: bool) -> ApiResult<Vec<TimelineEntry>> {
    let bad = events::internal;
    entries
        .into_iter()
        .map(|e| {
            Ok(TimelineEntry {
                seq: e.seq,
                from: e.from_state.as_deref().map(str::parse).transpose().map_err(bad)?,
                to: e.to_state.parse().map_err(bad)?,
                action: e.action,
                reason: e.reason,
                role: e.actor_role,
                at: e.created_at.and_utc(),
                actor: staff.then_some(e.actor_id),
                location: e.lat.zip(e.lng).filter(|_| staff).map(|(lat, lng)| LatLng { lat, lng }),
                detail: e.detail.as_deref().filter(|_| staff).and_then(|d| serde_json::from_str(d).ok()),
            })
        })
        .collect()
}

fn task_view(t: TaskRow, staff: bool) -> ApiResult<EventTask> {
    Ok(EventTask {
        state: t.state.parse().map_err(events::internal)?,
        why: if staff { serde_json::from_str(&t.why).ok() } else { None },
        user: t.user_id,
        lead: t.lead,
        department: t.department_id,
        assigned_at: t.created_at.and_utc(),
        updated_at: t.updated_at.and_utc(),
    })
}

pub fn order_view(o: SupervisionOrderRow) -> ApiResult<SupervisionOrder> {
    let state: gridwork_mobile_core::domain::supervision::OrderState = o.state.parse().map_err(events::internal)?;
    let due_at = o.due_at.map(|d| d.and_utc());
    Ok(SupervisionOrder {
        level: o.level.parse().map_err(events::internal)?,
        id: o.id,
        event_id: o.event_id,
        area_code: o.area_code,
        automatic: o.automatic,
        reason: o.reason,
        issued_by: o.issued_by,
        created_at: o.created_at.and_utc(),
        overdue: gridwork_mobile_core::domain::supervision::overdue(
            state,
            due_at.unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
            chrono::Utc::now(),
        ),
        state,
        due_at,
        reply: o.reply,
        reply_evidence: serde_json::from_str(&o.reply_evidence).map_err(|e| ApiError::internal(e.to_string()))?,
        replied_by: o.replied_by,
        replied_at: o.replied_at.map(|d| d.and_utc()),
        decided_by: o.decided_by,
        decided_at: o.decided_at.map(|d| d.and_utc()),
        send_back_reason: o.send_back_reason,
        escalated_to: o.escalated_to,
    })
}

fn link_view(l: EventLinkRow) -> EventLink {
    EventLink { event_id: l.event_id, other_id: l.other_id, kind: l.kind, created_at: l.created_at.and_utc() }
}

pub async fn get(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let index = state.areas();
    let body = state
        .db
        .run(move |conn| {
            let row = events::visible(conn, &caller, &id, &index)?;
            let staff = events::is_staff(&roles_over(&caller, row.area_code(), &index));
            let timeline = timeline_view(timeline::of(conn, &id)?, staff)?;
            let tasks: Vec<EventTask> = queries::tasks::for_event(conn, &id)?
                .into_iter()
                .map(|t| task_view(t, staff))
                .collect::<ApiResult<_>>()?;
            let names = if staff {
                let mut ids: Vec<String> = timeline.iter().filter_map(|s| s.actor.clone()).collect();
                ids.extend(tasks.iter().map(|t| t.user.clone()));
                ids.sort();
                ids.dedup();
                queries::users::by_ids(conn, &ids)?.into_iter().map(|u| (u.id, u.display_name)).collect()
            } else {
                std::collections::BTreeMap::new()
            };
            Ok(EventDetail {
                event: view_of(conn, &row)?,
                timeline,
                tasks,
                names,
                supervision_orders: queries::events::orders(conn, &id)?
                    .into_iter()
                    .map(order_view)
                    .collect::<ApiResult<_>>()?,
                links: queries::events::links(conn, &id)?.into_iter().map(link_view).collect(),
                evidence: crate::evidence::for_event(conn, &id, &caller.user.id, staff)?,
                hotline_calls: {
                    let full = crate::hotline::sees_callers(&caller, &row, &index);
                    queries::hotline::of_events(conn, std::slice::from_ref(&id))?
                        .iter()
                        .map(|c| crate::hotline::view(c, full))
                        .collect()
                },
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// The action body: the wire's `ActionRequest`, the one type the phone's queue sends.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct ActionBody(pub ActionRequest);

/// Its limits are checked where it becomes a [`Request`] (the type is the core's).
impl Validate for ActionBody {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

impl ActionBody {
    fn request(self, idempotency_key: Option<String>) -> ApiResult<Request> {
        let b = self.0;
        if b.departments.len() > MAX_DISPATCH_DEPARTMENTS {
            return Err(ApiError::field(
                "departments",
                "too_many",
                format!("at most {MAX_DISPATCH_DEPARTMENTS} departments"),
            ));
        }
        Ok(Request {
            at: b.location.map(|p| p.wgs84("location")).transpose()?,
            action: b.action,
            version: b.version,
            departments: b.departments,
            idempotency_key,
        })
    }
}

pub async fn act(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<ActionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let request = body.0.request(optional_key(&req)?)?;
    let (index, policy) = ctx_parts(&state);
    let body = state
        .db
        .run(move |conn| {
            let (row, applied) = events::act(conn, Ctx { index: &index, policy: &policy }, &caller, &id, &request)?;
            Ok(ActionAnswer { event: view_of(conn, &row)?, replayed: applied == events::actions::Applied::Before })
        })
        .await?;
    state.changed();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    #[validate(length(min = 1, max = 200, message = "name 1 to 200 events"))]
    pub events: Vec<String>,
    #[schema(value_type = gridwork_mobile_core::wire::ActionRequest)]
    pub action: Value,
}

/// The same action on many events (bulk reassignment, bulk return to the pool …). Each event is
/// its own transaction: the answer lists what happened to each.
pub async fn bulk(caller: Caller, state: web::Data<AppState>, body: ValidJson<BulkBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let Some(object) = b.action.as_object() else {
        return Err(ApiError::field("action", "invalid_type", "the action must be an object"));
    };
    crate::http::extract::check_tags(object, "action.")?;
    let parsed: ActionBody = serde_json::from_value(b.action)
        .map_err(|e| ApiError::field("action", "invalid", format!("not an action: {e}")))?;
    if parsed.0.version.is_some() {
        return Err(ApiError::field("action.version", "not_allowed", "bulk actions carry no version"));
    }
    let request = parsed.request(None)?;
    let (index, policy) = ctx_parts(&state);
    let results = state
        .db
        .run(move |conn| {
            let ctx = Ctx { index: &index, policy: &policy };
            Ok(b.events
                .iter()
                .map(|id| {
                    match events::act(conn, ctx, &caller, id, &request).and_then(|(row, _)| view_of(conn, &row)) {
                        Ok(view) => BulkItem {
                            id: id.clone(),
                            ok: true,
                            state: Some(view.state),
                            version: Some(view.version),
                            error: None,
                        },
                        Err(e) => {
                            BulkItem { id: id.clone(), ok: false, state: None, version: None, error: Some(e.body()) }
                        }
                    }
                })
                .collect::<Vec<_>>())
        })
        .await?;
    state.changed();
    let done = results.iter().filter(|r| r.ok).count();
    Ok(HttpResponse::Ok().json(BulkAnswer { done, failed: results.len() - done, results }))
}

#[derive(Debug, Deserialize, serde::Serialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitPart {
    #[validate(length(min = 1, max = 16, message = "category is required"))]
    pub category: String,
    #[validate(length(min = 1, max = 2000, message = "description must be 1 to 2000 characters"))]
    #[validate(custom(function = "crate::http::extract::not_blank"))]
    pub description: String,
    pub location: Option<Point>,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    #[validate(length(min = 2, max = 20, message = "split into 2 to 20 parts"), nested)]
    pub parts: Vec<SplitPart>,
    #[validate(length(min = 1, max = 500, message = "a reason is required"))]
    #[validate(custom(function = "crate::http::extract::not_blank"))]
    pub reason: String,
}

pub async fn split(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<SplitBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let b = body.0;
    let mut parts = vec![];
    for (i, p) in b.parts.into_iter().enumerate() {
        let point = p.location.map(|l| l.wgs84(&format!("parts[{i}].location"))).transpose()?;
        parts.push(Part { category: p.category, description: p.description, point });
    }
    let (index, policy) = ctx_parts(&state);
    let events = state
        .db
        .run(move |conn| {
            let original = events::visible(conn, &caller, &id, &index)?;
            let rows = events::intake::split(
                conn,
                Ctx { index: &index, policy: &policy },
                &caller,
                &original,
                &parts,
                &b.reason,
            )?;
            views_of(conn, &rows)
        })
        .await?;
    state.changed();
    Ok(HttpResponse::Created().json(SplitAnswer { events }))
}

/// `GET /events/{id}/candidates`: whom the event may be dispatched to, best first, with why —
/// only for those who may dispatch it (the machine's `may_dispatch`), so nobody else learns who
/// is on duty where.
pub async fn candidates(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (index, policy) = ctx_parts(&state);
    let body = state
        .db
        .run(move |conn| {
            let row = events::visible(conn, &caller, &id, &index)?;
            let category = events::category_of(conn, &row.category_code)?;
            let facts = events::facts_of(conn, &row, &category)?;
            let actor = events::actor_for(&caller, &row, &facts, &index);
            gridwork_mobile_core::domain::event::may_dispatch(&facts, &actor).map_err(ApiError::refusal)?;
            let max_load = policy.max_tasks_per_worker;
            let offers = events::dispatch::candidates(conn, &index, &row, max_load)?;
            let ids: Vec<String> = offers.iter().map(|o| o.user_id.clone()).collect();
            let names: std::collections::HashMap<String, String> =
                queries::users::by_ids(conn, &ids)?.into_iter().map(|u| (u.id, u.display_name)).collect();
            let first_free = offers.iter().position(|o| o.rule != events::dispatch::AT_LIMIT && o.department.is_none());
            let candidates = offers
                .into_iter()
                .enumerate()
                .map(|(i, o)| DispatchCandidate {
                    display_name: names.get(&o.user_id).cloned().unwrap_or_default(),
                    recommended: Some(i) == first_free,
                    user_id: o.user_id,
                    department: o.department,
                    in_grid: o.in_grid,
                    load: o.load,
                    distance_m: o.metres,
                    rule: o.rule.to_owned(),
                })
                .collect();
            Ok(DispatchCandidates { event_id: row.id, max_load, candidates })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// One state, or several separated by commas.
    pub state: Option<String>,
    /// Only events in this area (any level).
    pub area: Option<String>,
    pub category: Option<String>,
    /// Only events of this grade (`general`, `significant`, `serious`, `critical`).
    pub grade: Option<String>,
    /// Only events from this source (`resident`, `volunteer`, `grid_worker`, `hotline`, `sensor`, `department`).
    pub source: Option<String>,
    /// Only events given to this user (`me` for the caller).
    pub assignee: Option<String>,
    /// Only events given to me (a handler's task list).
    pub mine: Option<bool>,
    /// Only events whose current stage is past its deadline.
    pub overdue: Option<bool>,
    /// Only events whose handler asked for more time and awaits the answer.
    pub extension_requested: Option<bool>,
    /// Only events under a supervision order (督办) or escalated to a higher ops centre.
    pub supervised: Option<bool>,
    /// Reported at or after (RFC 3339).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Reported before (RFC 3339).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// What the caller may list: staff the events filed in their areas; everyone the events they
/// reported or are given.
pub fn scoped(caller: &Caller, index: &AreaIndex) -> EventFilter {
    let staff: Vec<Role> = VERIFIER_ROLES.iter().copied().chain([Role::DeptHandler]).collect();
    EventFilter { own: Some(caller.user.id.clone()), ..within_roles(caller, index, &staff) }
}

/// The events filed in the areas where the caller holds one of `roles` (nothing of their own
/// beyond that): the pool of a volunteer, the queue of a verifier.
pub fn within_roles(caller: &Caller, index: &AreaIndex, roles: &[Role]) -> EventFilter {
    let mut filter = EventFilter::default();
    for scope in caller.scopes_for(roles) {
        match scope.area_code() {
            None => filter.everywhere = true,
            Some(code) => {
                if let Some(area) = index.get(code.as_str()) {
                    filter.scope.push((area.level, code.to_string()));
                }
            }
        }
    }
    filter
}

/// `state=accepted,returned`: one state or several, each one of the machine's.
pub fn states_param(raw: Option<&str>) -> ApiResult<Vec<String>> {
    raw.map(|s| s.split(','))
        .into_iter()
        .flatten()
        .map(|s| Ok(s.trim().parse::<EventState>()?.as_str().to_owned()))
        .collect()
}

/// A user id given as a filter: a UUID, nothing else (it never reaches a pattern).
fn user_id_param(field: &'static str, raw: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(raw.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ApiError::field(field, "invalid", "a user id, or `me`"))
}

pub fn area_filter(index: &AreaIndex, code: &str) -> ApiResult<(AreaLevel, String)> {
    index
        .get(code.trim())
        .map(|a| (a.level, a.code.clone()))
        .ok_or_else(|| ApiError::field("area", "unknown_area", format!("no current area {code:?}")))
}

pub async fn list(caller: Caller, state: web::Data<AppState>, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 500"));
    }
    let index = state.areas();
    // Every filter below narrows what `scoped` allows.
    let mut filter = scoped(&caller, &index);
    if q.mine.unwrap_or(false) {
        filter.assignee = Some(caller.user.id.clone());
    }
    filter.limit = limit;
    filter.states = states_param(q.state.as_deref())?;
    filter.overdue_at = q.overdue.unwrap_or(false).then(crate::models::now);
    filter.extension_requested = q.extension_requested.unwrap_or(false);
    filter.supervised = q.supervised.unwrap_or(false);
    filter.within = q.area.as_deref().map(|a| area_filter(&index, a)).transpose()?;
    filter.category = q.category.map(|c| c.trim().to_owned());
    filter.grade = q.grade.as_deref().map(|g| g.trim().parse::<Grade>()).transpose()?.map(|g| g.as_str().to_owned());
    filter.source = q.source.as_deref().map(|s| s.trim().parse::<Source>()).transpose()?.map(|s| s.as_str().to_owned());
    if let Some(a) = q.assignee {
        let who = if a.trim() == "me" { caller.user.id.clone() } else { user_id_param("assignee", &a)? };
        if filter.assignee.as_ref().is_some_and(|mine| *mine != who) {
            // `mine=true` with someone else: the intersection is empty.
            return Ok(HttpResponse::Ok().json(EventPage { events: vec![], limit, next: None }));
        }
        filter.assignee = Some(who);
    }
    filter.created_from = q.from.map(|t| t.naive_utc());
    filter.created_to = q.to.map(|t| t.naive_utc());
    if let Some(c) = q.cursor {
        if uuid::Uuid::parse_str(&c).is_err() {
            return Err(ApiError::field("cursor", "invalid", "pass the `next` value of the previous page"));
        }
        filter.before_id = Some(c);
    }
    // One more than asked tells whether another page follows.
    filter.limit = limit + 1;
    let (events, more) = state
        .db
        .run(move |conn| {
            let mut rows = queries::events::list(conn, &filter)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(usize::try_from(limit).unwrap_or(0));
            Ok((views_of(conn, &rows)?, more))
        })
        .await?;
    let next = if more { events.last().map(|e| e.id.clone()) } else { None };
    Ok(HttpResponse::Ok().json(EventPage { events, limit, next }))
}
