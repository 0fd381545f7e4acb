//! Volunteers over HTTP: `POST /volunteers/sign-up` (public), `GET /me/volunteer-applications`,
//! `GET /volunteer-applications` and `POST /volunteer-applications/{id}/decision` (the street's
//! coordinators), `GET /me/service` and `GET /volunteers/ranking`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use gridwork_mobile_core::AreaCode;
use gridwork_mobile_core::domain::area::{AreaLevel, AreaTree};
use gridwork_mobile_core::domain::volunteer::ApplicationState;
use gridwork_mobile_core::wire::{
    ApplicationList, ApplicationView, CommunityChoice, CommunityChoices, DecisionRequest, Ranking, RankingRow,
    ServiceRecordView, ServiceSummary, SignUpRequest,
};
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ValidJson;
use crate::queries;
use crate::state::AppState;
use crate::volunteers::{self, DECIDERS};

pub type SignUpBody = SignUpRequest;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommunitiesQuery {
    /// Part of the community's or its street's name (or a code prefix) [default: all]
    pub q: Option<String>,
    /// 1 to 200 [default: 50]
    pub limit: Option<i64>,
}

/// The communities one may sign up for, by name, for the sign-up form (no sign-in: these are the
/// names of public administrative areas).
pub async fn communities(state: web::Data<AppState>, q: web::Query<CommunitiesQuery>) -> ApiResult<HttpResponse> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 200"));
    }
    let needle = q.q.as_deref().map(str::trim).unwrap_or_default().to_owned();
    if needle.chars().count() > 50 {
        return Err(ApiError::field("q", "too_long", "q is at most 50 characters"));
    }
    let index = state.areas();
    let mut out = vec![];
    for community in index.all().filter(|a| a.level == AreaLevel::Community) {
        let street = index.parent_of(&community.code);
        let district = street.and_then(|s| index.parent_of(&s.code));
        let hit = needle.is_empty()
            || community.name.contains(&needle)
            || community.code.starts_with(&needle)
            || street.is_some_and(|s| s.name.contains(&needle));
        if hit {
            out.push(CommunityChoice {
                code: community.code.clone(),
                name: community.name.clone(),
                street_name: street.map(|s| s.name.clone()),
                district_name: district.map(|d| d.name.clone()),
            });
        }
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out.truncate(usize::try_from(limit).unwrap_or(50));
    Ok(HttpResponse::Ok().json(CommunityChoices { communities: out }))
}

pub async fn sign_up(state: web::Data<AppState>, body: ValidJson<SignUpBody>) -> ApiResult<HttpResponse> {
    let index = state.areas();
    // Parsing hashes the password: off the async threads, like every database call.
    let parsed = {
        let index = index.clone();
        web::block(move || volunteers::parse_sign_up(&body.0, &index))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))??
    };
    let view = state
        .db
        .run(move |conn| {
            let (row, user) = volunteers::sign_up(conn, &index, &parsed)?;
            volunteers::view(row, &user, &index, true)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

pub type ApplyBody = gridwork_mobile_core::wire::ApplyRequest;

/// A signed-in person asks to volunteer with their own account.
pub async fn apply(caller: Caller, state: web::Data<AppState>, body: ValidJson<ApplyBody>) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let view = state
        .db
        .run(move |conn| {
            let (row, user) = volunteers::apply(conn, &caller, &index, &body.0)?;
            volunteers::view(row, &user, &index, true)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The caller's own sign-ups, newest first (with the decision and its reason).
pub async fn mine(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let index = state.areas();
    let applications = state
        .db
        .run(move |conn| {
            queries::volunteers::applications_of(conn, &caller.user.id)?
                .into_iter()
                .map(|(row, user)| volunteers::view(row, &user, &index, true))
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(ApplicationList { applications }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApplicationsQuery {
    /// `pending`, `approved` or `declined` [default: pending]
    pub state: Option<String>,
    /// 1 to 500 [default: 100]
    pub limit: Option<i64>,
}

/// Sign-ups in the caller's streets, oldest first. The phone numbers shown are personal data:
/// each one read is written to the audit log.
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<ApplicationsQuery>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&DECIDERS)?;
    let wanted: ApplicationState = q.state.as_deref().unwrap_or("pending").parse()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "limit must be 1 to 500"));
    }
    let index = state.areas();
    let everywhere = caller.holds_over(&DECIDERS, None, &*index);
    // The streets the caller's scopes reach: the streets below each, or the street above a
    // community scope (its rows are then narrowed to that community).
    let mut streets: Vec<String> = vec![];
    for area in caller.scopes_for(&DECIDERS).into_iter().filter_map(|s| s.area_code()) {
        for code in index.subtree(area) {
            if index.get(code.as_str()).is_some_and(|a| a.level == AreaLevel::Street) {
                streets.push(code.as_str().to_owned());
            }
        }
        if let Some(parent) = index.parent_of(area.as_str()).filter(|p| p.level == AreaLevel::Street) {
            streets.push(parent.code.clone());
        }
    }
    let applications = state
        .db
        .run(move |conn| {
            let rows = queries::volunteers::applications_in(
                conn,
                (!everywhere).then_some(streets.as_slice()),
                wanted.as_str(),
                limit,
            )?;
            let mut out = vec![];
            for (row, user) in rows {
                if !volunteers::decides_for(&caller, &row.community_code, &index) {
                    continue;
                }
                queries::audit::record(conn, Some(&caller.user.id), "phone.read", &user.id, "volunteer sign-up")?;
                out.push(volunteers::view(row, &user, &index, true)?);
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ApplicationList { applications }))
}

pub type DecisionBody = DecisionRequest;

pub async fn decide(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<DecisionBody>,
) -> ApiResult<HttpResponse> {
    caller.require_any(&DECIDERS)?;
    let id = path.into_inner();
    let index = state.areas();
    let view: ApplicationView = state
        .db
        .run(move |conn| {
            let (row, user) = volunteers::decide(conn, &caller, &index, &id, &body.0)?;
            volunteers::view(row, &user, &index, false)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn hours(minutes: i64) -> f64 {
    // One decimal, as service hours are certified.
    (minutes as f64 / 6.0).round() / 10.0
}

/// The caller's service: points, hours and the records, newest first.
pub async fn my_service(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let rows = state.db.run(move |conn| Ok(queries::volunteers::service_of(conn, &caller.user.id)?)).await?;
    let points = rows.iter().map(|r| i64::from(r.points)).sum();
    let minutes = rows.iter().map(|r| i64::from(r.minutes)).sum();
    let records = rows
        .into_iter()
        .map(|r| ServiceRecordView {
            event_id: r.event_id,
            community_code: r.community_code,
            points: r.points,
            minutes: r.minutes,
            claimed_at: r.claimed_at.and_utc(),
            resolved_at: r.resolved_at.and_utc(),
            awarded_at: r.created_at.and_utc(),
        })
        .collect::<Vec<_>>();
    let tasks = i64::try_from(records.len()).unwrap_or(i64::MAX);
    Ok(HttpResponse::Ok().json(ServiceSummary { points, minutes, hours: hours(minutes), tasks, records }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RankingQuery {
    /// A community or street code.
    pub area: String,
    /// Only service awarded from then on (RFC 3339) [default: all time]
    pub since: Option<DateTime<Utc>>,
}

/// The volunteers who served in a community or street, most points first.
pub async fn ranking(
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<RankingQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let index = state.areas();
    let area = AreaCode::parse(q.area.trim())?;
    let level = index.get(area.as_str()).map(|a| a.level);
    if !matches!(level, Some(AreaLevel::Community | AreaLevel::Street)) {
        return Err(ApiError::field("area", "not_ranked", "rankings are per community or street"));
    }
    if !volunteers::may_see_ranking(&caller, &area, &index) {
        return Err(ApiError::forbidden("the ranking of another area"));
    }
    let street_level = level == Some(AreaLevel::Street);
    let (code, since) = (area.as_str().to_owned(), q.since);
    let rows = state
        .db
        .run(move |conn| Ok(queries::volunteers::ranking(conn, &code, street_level, since.map(|s| s.naive_utc()))?))
        .await?;
    let mut out: Vec<RankingRow> = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if prev.points == r.points => prev.rank,
            _ => i64::try_from(i).unwrap_or(i64::MAX) + 1,
        };
        let hours = hours(r.minutes);
        out.push(RankingRow {
            rank,
            user_id: r.user_id,
            display_name: r.display_name,
            points: r.points,
            hours,
            tasks: r.tasks,
        });
    }
    Ok(HttpResponse::Ok().json(Ranking { area_code: area.as_str().to_owned(), since, rows: out }))
}
