use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{service_records, users, volunteer_applications};
use crate::models::user::User;
use crate::models::volunteer::{ApplicationDecisionForm, ApplicationRow, ServiceRow};

pub fn insert_application(conn: &mut DbConn, row: &ApplicationRow) -> QueryResult<()> {
    diesel::insert_into(volunteer_applications::table).values(row).execute(conn).map(drop)
}

pub fn application(conn: &mut DbConn, id: &str) -> QueryResult<Option<(ApplicationRow, User)>> {
    volunteer_applications::table
        .inner_join(users::table)
        .filter(volunteer_applications::id.eq(id))
        .select((ApplicationRow::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// The user's sign-ups, newest first.
pub fn applications_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<(ApplicationRow, User)>> {
    volunteer_applications::table
        .inner_join(users::table)
        .filter(volunteer_applications::user_id.eq(user_id))
        .order(volunteer_applications::created_at.desc())
        .select((ApplicationRow::as_select(), User::as_select()))
        .load(conn)
}

/// Sign-ups for the given streets (all streets if `None`) in `state`, oldest first.
pub fn applications_in(
    conn: &mut DbConn,
    streets: Option<&[String]>,
    state: &str,
    limit: i64,
) -> QueryResult<Vec<(ApplicationRow, User)>> {
    let mut q = volunteer_applications::table
        .inner_join(users::table)
        .filter(volunteer_applications::state.eq(state))
        .order(volunteer_applications::created_at.asc())
        .limit(limit)
        .select((ApplicationRow::as_select(), User::as_select()))
        .into_boxed();
    if let Some(streets) = streets {
        q = q.filter(volunteer_applications::street_code.eq_any(streets));
    }
    q.load(conn)
}

/// Decides a pending sign-up; false if it was decided meanwhile.
pub fn decide(conn: &mut DbConn, id: &str, form: &ApplicationDecisionForm) -> QueryResult<bool> {
    diesel::update(
        volunteer_applications::table
            .filter(volunteer_applications::id.eq(id))
            .filter(volunteer_applications::state.eq("pending")),
    )
    .set(form)
    .execute(conn)
    .map(|n| n == 1)
}

/// Writes a service record unless the volunteer already has one for the event.
pub fn award(conn: &mut DbConn, row: &ServiceRow) -> QueryResult<bool> {
    let known = service_records::table
        .find((&row.user_id, &row.event_id))
        .select(service_records::user_id)
        .first::<String>(conn)
        .optional()?;
    if known.is_some() {
        return Ok(false);
    }
    diesel::insert_into(service_records::table).values(row).execute(conn).map(|n| n == 1)
}

/// A volunteer's records, newest first.
pub fn service_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<ServiceRow>> {
    service_records::table
        .filter(service_records::user_id.eq(user_id))
        .order(service_records::created_at.desc())
        .select(ServiceRow::as_select())
        .load(conn)
}

/// One volunteer's sums in a ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub user_id: String,
    pub display_name: String,
    pub points: i64,
    pub minutes: i64,
    pub tasks: i64,
}

/// Per volunteer who served in the community or street `area` (since `since`), most points
/// first. Summed here: a street's records of a year
/// are thousands of rows, and a grouped boxed query does not build on both backends.
pub fn ranking(
    conn: &mut DbConn,
    area: &str,
    street_level: bool,
    since: Option<chrono::NaiveDateTime>,
) -> QueryResult<Vec<Served>> {
    let mut q = service_records::table.inner_join(users::table).into_boxed();
    q = if street_level {
        q.filter(service_records::street_code.eq(area))
    } else {
        q.filter(service_records::community_code.eq(area))
    };
    if let Some(since) = since {
        q = q.filter(service_records::created_at.ge(since));
    }
    let rows: Vec<(String, String, i32, i32)> = q
        .select((service_records::user_id, users::display_name, service_records::points, service_records::minutes))
        .load(conn)?;
    let mut sums: std::collections::HashMap<String, (String, i64, i64, i64)> = std::collections::HashMap::new();
    for (user, name, points, minutes) in rows {
        let e = sums.entry(user).or_insert((name, 0, 0, 0));
        e.1 += i64::from(points);
        e.2 += i64::from(minutes);
        e.3 += 1;
    }
    let mut out: Vec<Served> = sums
        .into_iter()
        .map(|(user_id, (display_name, points, minutes, tasks))| Served {
            user_id,
            display_name,
            points,
            minutes,
            tasks,
        })
        .collect();
    out.sort_by(|a, b| {
        b.points.cmp(&a.points).then(b.minutes.cmp(&a.minutes)).then(a.display_name.cmp(&b.display_name))
    });
    Ok(out)
}
