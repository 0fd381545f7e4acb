use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{event_milestones, events, open_data_areas};

pub fn published(conn: &mut DbConn) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    open_data_areas::table
        .order(open_data_areas::area_code.asc())
        .select((open_data_areas::area_code, open_data_areas::published_at))
        .load(conn)
}

/// Publishes an area (again: nothing changes).
pub fn publish(conn: &mut DbConn, area: &str, by: &str, at: NaiveDateTime) -> QueryResult<()> {
    if open_data_areas::table.find(area).count().get_result::<i64>(conn)? > 0 {
        return Ok(());
    }
    diesel::insert_into(open_data_areas::table)
        .values((
            open_data_areas::area_code.eq(area),
            open_data_areas::published_by.eq(by),
            open_data_areas::published_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

pub fn unpublish(conn: &mut DbConn, area: &str) -> QueryResult<usize> {
    diesel::delete(open_data_areas::table.find(area)).execute(conn)
}

/// What open data shows of an event (before its point is coarsened).
#[derive(Debug, Clone, Queryable)]
pub struct OpenEvent {
    pub id: String,
    pub category_code: String,
    pub grade: String,
    pub state: String,
    pub source: String,
    pub lat: f64,
    pub lng: f64,
    pub district_code: Option<String>,
    pub street_code: Option<String>,
    pub community_code: Option<String>,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

/// Events filed in [from, to) inside `area` (at its level's column), oldest first, at most `limit`.
pub fn events_in(
    conn: &mut DbConn,
    column: gridwork_mobile_core::AreaLevel,
    area: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OpenEvent>> {
    use gridwork_mobile_core::AreaLevel as L;
    let mut q = events::table
        .left_join(event_milestones::table.on(event_milestones::event_id.eq(events::id)))
        .filter(events::created_at.ge(from))
        .filter(events::created_at.lt(to))
        .order((events::created_at.asc(), events::id.asc()))
        .limit(limit)
        .select((
            events::id,
            events::category_code,
            events::grade,
            events::state,
            events::source,
            events::lat,
            events::lng,
            events::district_code,
            events::street_code,
            events::community_code,
            events::created_at,
            event_milestones::closed_at.nullable(),
        ))
        .into_boxed();
    let a = area.to_owned();
    q = match column {
        L::City => q.filter(events::city_code.eq(a)),
        L::District => q.filter(events::district_code.eq(a)),
        L::Street => q.filter(events::street_code.eq(a)),
        L::Community => q.filter(events::community_code.eq(a)),
        L::Grid => q.filter(events::grid_code.eq(a)),
        L::Compound => q.filter(events::compound_code.eq(a)),
        L::Building => q.filter(events::building_code.eq(a)),
    };
    q.load(conn)
}
