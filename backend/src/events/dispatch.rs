//! Automatic, explainable dispatch: who gets an event, and why.
//!
//! Grid-worker categories go to the least-loaded on-duty worker of the event's grid; if none is on
//! duty or all are at the task limit, to the on-duty worker of the same street with the best mix
//! of H3 distance and load. Department categories go to the least-loaded handler of the
//! department's pool covering the area. Volunteer-eligible events stay in the community pool for
//! volunteers to claim. Every choice carries the rule and the numbers behind it.

use std::collections::HashMap;

use gridwork_mobile_core::domain::category::HandlerKind;
use gridwork_mobile_core::{AreaCode, AreaLevel, Role};
use h3o::LatLng;
use serde_json::{Value, json};

use crate::areas::AreaIndex;
use crate::areas::levels::resolution;
use crate::catalog::Category;
use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::models::event::EventRow;
use crate::queries;
use crate::roster::Outcome;
use gridwork_mobile_core::domain::area::AreaTree;

/// One open task weighs as much as this many metres: a free worker 500 m away beats one next
/// door with a task, and one 2.5 km away beats one next door with five.
const LOAD_WEIGHT_M: f64 = 500.0;

/// A person dispatch picked, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub user_id: String,
    pub department_id: Option<String>,
    pub why: Value,
}

/// What dispatch decided for an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Assign(Vec<Choice>),
    /// Volunteer-eligible: left for the community's volunteers to claim.
    VolunteerPool {
        community: Option<String>,
    },
    /// Nobody fits: the ops centre dispatches by hand (the deadline keeps running).
    Nobody {
        why: Value,
    },
}

/// A field worker dispatch may pick.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub user_id: String,
    pub in_grid: bool,
    pub load: i64,
    /// From the worker's last position to the event ([`Ruler`]), if the worker has sent one.
    pub metres: Option<f64>,
}

/// What the rule reads of a worker: the roster hands over views of what it keeps, the database
/// path whole [`Candidate`]s.
pub trait Rankable {
    fn user_id(&self) -> &str;
    fn in_grid(&self) -> bool;
    fn load(&self) -> i64;
    fn metres(&self) -> Option<f64>;
}

impl Rankable for Candidate {
    fn user_id(&self) -> &str {
        &self.user_id
    }
    fn in_grid(&self) -> bool {
        self.in_grid
    }
    fn load(&self) -> i64 {
        self.load
    }
    fn metres(&self) -> Option<f64> {
        self.metres
    }
}

impl<T: Rankable> Rankable for &T {
    fn user_id(&self) -> &str {
        (*self).user_id()
    }
    fn in_grid(&self) -> bool {
        (*self).in_grid()
    }
    fn load(&self) -> i64 {
        (*self).load()
    }
    fn metres(&self) -> Option<f64> {
        (*self).metres()
    }
}

/// Distances from one event, as dispatch measures them: flat ground around the event (off by
/// less than 0.01 % within a street), so hundreds of workers cost no trigonometry each.
#[derive(Debug, Clone, Copy)]
pub struct Ruler {
    lat: f64,
    lng: f64,
    per_lng: f64,
}

const METRES_PER_DEGREE: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

impl Ruler {
    pub fn new(lat: f64, lng: f64) -> Self {
        Self { lat, lng, per_lng: METRES_PER_DEGREE * lat.to_radians().cos() }
    }

    pub fn metres(&self, lat: f64, lng: f64) -> f64 {
        let (dx, dy) = ((lng - self.lng) * self.per_lng, (lat - self.lat) * METRES_PER_DEGREE);
        dx.hypot(dy)
    }
}

fn free(c: &impl Rankable, max_load: i64) -> bool {
    c.load() < max_load
}

/// The street's measure: distance weighed with load; never-located workers last.
fn street_score(c: &impl Rankable) -> f64 {
    c.metres().map_or(f64::INFINITY, |m| m + c.load() as f64 * LOAD_WEIGHT_M)
}

fn grid_order<C: Rankable>(a: &C, b: &C) -> std::cmp::Ordering {
    a.load()
        .cmp(&b.load())
        .then(a.metres().unwrap_or(f64::INFINITY).total_cmp(&b.metres().unwrap_or(f64::INFINITY)))
        .then_with(|| a.user_id().cmp(b.user_id()))
}

fn street_order<C: Rankable>(a: &C, b: &C) -> std::cmp::Ordering {
    street_score(a).total_cmp(&street_score(b)).then(a.load().cmp(&b.load())).then_with(|| a.user_id().cmp(b.user_id()))
}

/// Grid workers in the order dispatch prefers them, each with the rule that places it: free
/// workers of the event's grid (least loaded, then nearest), then free workers of the street by
/// distance weighed with load (never-located ones last), then those at the task limit. Pure, so
/// the rule is tested on its own; automatic dispatch takes the first free one.
pub fn rank_grid_workers(cands: &[Candidate], max_load: i64) -> Vec<(&Candidate, &'static str)> {
    let mut in_grid: Vec<&Candidate> = cands.iter().filter(|c| free(*c, max_load) && c.in_grid).collect();
    in_grid.sort_by(grid_order);
    let mut street: Vec<&Candidate> = cands.iter().filter(|c| free(*c, max_load) && !c.in_grid).collect();
    street.sort_by(street_order);
    let mut full: Vec<&Candidate> = cands.iter().filter(|c| !free(*c, max_load)).collect();
    full.sort_by(|a, b| (!a.in_grid, a.load, &a.user_id).cmp(&(!b.in_grid, b.load, &b.user_id)));
    in_grid
        .into_iter()
        .map(|c| (c, "grid_on_duty"))
        .chain(street.into_iter().map(|c| (c, "nearest_in_street")))
        .chain(full.into_iter().map(|c| (c, AT_LIMIT)))
        .collect()
}

/// The rule name of a worker who is at the task limit (listed, never picked automatically).
pub const AT_LIMIT: &str = "at_task_limit";

/// The choice among grid workers: the first free one of [`rank_grid_workers`], found in one pass
/// (a street may hold hundreds).
pub fn pick_grid_worker<C: Rankable>(cands: impl IntoIterator<Item = C>, max_load: i64) -> Option<(C, &'static str)> {
    let (mut grid, mut street): (Option<C>, Option<C>) = (None, None);
    for c in cands.into_iter().filter(|c| free(c, max_load)) {
        let best = if c.in_grid() { &mut grid } else { &mut street };
        let better = match best.as_ref() {
            None => true,
            Some(b) if c.in_grid() => grid_order(&c, b).is_lt(),
            Some(b) => street_order(&c, b).is_lt(),
        };
        if better {
            *best = Some(c);
        }
    }
    grid.map(|c| (c, "grid_on_duty")).or_else(|| street.map(|c| (c, "nearest_in_street")))
}

/// The H3 cell of a point at the finest area resolution, as stored.
pub fn cell_of(lat: f64, lng: f64) -> Option<i64> {
    let cell = LatLng::new(lat, lng).ok()?.to_cell(resolution(AreaLevel::Building));
    i64::try_from(u64::from(cell)).ok()
}

fn code(c: &Option<String>) -> Option<AreaCode> {
    c.as_deref().and_then(|c| AreaCode::parse(c).ok())
}

/// Plans the dispatch of an event. `exclude`: people who already handed it back.
pub fn plan(
    conn: &mut DbConn,
    tree: &AreaIndex,
    event: &EventRow,
    category: &Category,
    max_load: i64,
    exclude: &[String],
) -> ApiResult<Plan> {
    match category.handler_kind {
        HandlerKind::Volunteer => Ok(Plan::VolunteerPool { community: event.community_code.clone() }),
        HandlerKind::Department => {
            let Some(dept) = category.department_code.as_deref() else {
                return Ok(Plan::Nobody {
                    why: json!({"rule": "department_pool", "problem": "category has no department"}),
                });
            };
            department(conn, tree, event, dept, exclude).map(|c| match c {
                Ok(choice) => Plan::Assign(vec![choice]),
                Err(why) => Plan::Nobody { why },
            })
        }
        HandlerKind::GridWorker => grid_worker(conn, tree, event, max_load, exclude),
    }
}

/// The roster of the pool this work runs in, unless the work itself changed workers (an earlier
/// dispatch of the same batch): then it reads its own rows in the database.
fn kept_roster() -> Option<std::sync::Arc<crate::roster::Roster>> {
    crate::db::roster().filter(|_| !crate::roster::touched_here())
}

/// The on-duty grid workers of the event's street (and whose grant holds the street), with load
/// and distance; `None` when the event lies in no grid.
fn street_workers(
    conn: &mut DbConn,
    tree: &AreaIndex,
    event: &EventRow,
    exclude: &[String],
) -> ApiResult<Option<Vec<Candidate>>> {
    let (Some(grid), Some(street)) = (code(&event.grid_code), code(&event.street_code)) else {
        return Ok(None);
    };
    if let Some(cands) = kept_roster().and_then(|r| r.street(tree, &street, &grid, (event.lat, event.lng), exclude)) {
        return Ok(Some(cands));
    }
    Ok(Some(street_from_database(conn, tree, event, &grid, &street, exclude)?))
}

/// Whether a grant on `area` puts a grid worker in `street`: it lies in the street or above it.
fn reaches(tree: &AreaIndex, area: &AreaCode, street: &AreaCode) -> bool {
    tree.is_within(area, street) || tree.is_within(street, area)
}

fn street_from_database(
    conn: &mut DbConn,
    tree: &AreaIndex,
    event: &EventRow,
    grid: &AreaCode,
    street: &AreaCode,
    exclude: &[String],
) -> ApiResult<Vec<Candidate>> {
    let mut seen: HashMap<String, Candidate> = HashMap::new();
    let ruler = Ruler::new(event.lat, event.lng);
    for (area, status) in queries::workers::on_duty_in(conn, "grid_worker", &tree.line_of(street.as_str()))? {
        let Some(area) = area.as_deref().and_then(|a| AreaCode::parse(a).ok()) else { continue };
        if exclude.contains(&status.user_id) || !reaches(tree, &area, street) {
            continue;
        }
        let in_grid = &area == grid;
        let metres = match (status.lat, status.lng) {
            (Some(lat), Some(lng)) => Some(ruler.metres(lat, lng)),
            _ => None,
        };
        let entry = seen.entry(status.user_id.clone()).or_insert(Candidate {
            user_id: status.user_id.clone(),
            in_grid,
            load: 0,
            metres,
        });
        entry.in_grid |= in_grid;
    }
    let ids: Vec<String> = seen.keys().cloned().collect();
    let loads = queries::tasks::open_load(conn, &ids)?;
    let mut cands: Vec<Candidate> = seen.into_values().collect();
    for c in &mut cands {
        c.load = loads.get(&c.user_id).copied().unwrap_or(0);
    }
    Ok(cands)
}

/// The database's word on a worker the roster proposed: still active, on duty, holding a grant
/// in or over the street, and under the task limit (the load as it stands now, this
/// transaction's own tasks included).
fn confirmed(
    conn: &mut DbConn,
    tree: &AreaIndex,
    street: &AreaCode,
    user: &str,
    max_load: i64,
) -> ApiResult<Option<i64>> {
    let grants = queries::workers::on_duty(conn, "grid_worker", Some(&[user.to_owned()]))?;
    let holds = grants
        .iter()
        .filter_map(|(a, _)| a.as_deref().and_then(|a| AreaCode::parse(a).ok()))
        .any(|a| reaches(tree, &a, street));
    if !holds {
        return Ok(None);
    }
    let load = queries::tasks::open_load(conn, &[user.to_owned()])?.get(user).copied().unwrap_or(0);
    Ok((load < max_load).then_some(load))
}

fn grid_worker(
    conn: &mut DbConn,
    tree: &AreaIndex,
    event: &EventRow,
    max_load: i64,
    exclude: &[String],
) -> ApiResult<Plan> {
    let (Some(grid), Some(street)) = (code(&event.grid_code), code(&event.street_code)) else {
        return Ok(Plan::Nobody { why: json!({"rule": "grid_on_duty", "problem": "the event lies in no grid"}) });
    };
    let roster = kept_roster();
    let kept = roster.as_ref().and_then(|r| r.pick(tree, &street, &grid, (event.lat, event.lng), exclude, max_load));
    let mut outcome = if kept.is_some() { Outcome::Behind } else { Outcome::Unused };
    let mut street_pick = None;
    if let Some(p) = kept
        && let Some((mut c, rule)) = p.chosen
        && let Some(load) = confirmed(conn, tree, &street, &c.user_id, max_load)?
    {
        c.load = load;
        street_pick = Some((Some((c, rule)), p.in_grid, p.on_duty));
        outcome = Outcome::Confirmed;
    }
    // The roster could not answer, or was behind (its pick no longer fits, or it found nobody):
    // the database decides.
    let (picked, in_grid_total, on_duty) = match street_pick {
        Some(p) => p,
        None => {
            let cands = street_from_database(conn, tree, event, &grid, &street, exclude)?;
            let picked = pick_grid_worker(&cands, max_load).map(|(c, rule)| (c.clone(), rule));
            (picked, cands.iter().filter(|c| c.in_grid).count(), cands.len())
        }
    };
    if let Some(r) = roster {
        r.count(outcome);
    }
    match picked {
        Some((c, rule)) => Ok(Plan::Assign(vec![Choice {
            user_id: c.user_id.clone(),
            department_id: None,
            why: json!({
                "rule": rule,
                "grid": grid.as_str(),
                "street": street.as_str(),
                "load": c.load,
                "max_load": max_load,
                "distance_m": c.metres.map(f64::round),
                "on_duty_in_grid": in_grid_total,
                "on_duty_in_street": on_duty,
            }),
        }])),
        None => Ok(Plan::Nobody {
            why: json!({
                "rule": "nearest_in_street",
                "problem": if on_duty == 0 { "no grid worker on duty in the street" } else { "every grid worker on duty in the street is at the task limit" },
                "grid": grid.as_str(),
                "street": street.as_str(),
                "on_duty_in_street": on_duty,
                "max_load": max_load,
            }),
        }),
    }
}

/// The least-loaded handler of the department's pool covering the event's area.
pub fn department(
    conn: &mut DbConn,
    tree: &AreaIndex,
    event: &EventRow,
    dept_code: &str,
    exclude: &[String],
) -> ApiResult<Result<Choice, Value>> {
    let Some(dept) = queries::departments::by_code(conn, dept_code)? else {
        return Ok(Err(json!({"rule": "department_pool", "department": dept_code, "problem": "no such department"})));
    };
    let pool: Vec<String> = super::holders_over(conn, tree, event, Role::DeptHandler, Some(&dept.id))?
        .into_iter()
        .filter(|user| !exclude.contains(user))
        .collect();
    let loads = queries::tasks::open_load(conn, &pool)?;
    let best = pool.iter().min_by_key(|u| (loads.get(*u).copied().unwrap_or(0), (*u).clone()));
    Ok(match best {
        Some(user) => Ok(Choice {
            user_id: user.clone(),
            department_id: Some(dept.id.clone()),
            why: json!({
                "rule": "department_pool",
                "department": dept.code,
                "pool": pool.len(),
                "load": loads.get(user).copied().unwrap_or(0),
            }),
        }),
        None => Err(json!({
            "rule": "department_pool",
            "department": dept.code,
            "problem": "no handler of the department covers the area",
        })),
    })
}

/// Someone an ops centre may give the event to, and why they are where they are in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub user_id: String,
    /// For a department's pool: the department's code (dispatch names the department).
    pub department: Option<String>,
    pub in_grid: bool,
    pub load: i64,
    pub metres: Option<f64>,
    /// `grid_on_duty`, `nearest_in_street`, `at_task_limit` or `department_pool`.
    pub rule: &'static str,
}

/// Everyone an ops centre may dispatch the event to, best first: the street's on-duty grid
/// workers in automatic dispatch's order (the first is whom it would pick), then each department
/// serving the area with its least-loaded handler.
pub fn candidates(conn: &mut DbConn, tree: &AreaIndex, event: &EventRow, max_load: i64) -> ApiResult<Vec<Offer>> {
    let mut out = vec![];
    if let Some(cands) = street_workers(conn, tree, event, &[])? {
        for (c, rule) in rank_grid_workers(&cands, max_load) {
            out.push(Offer {
                user_id: c.user_id.clone(),
                department: None,
                in_grid: c.in_grid,
                load: c.load,
                metres: c.metres.map(f64::round),
                rule,
            });
        }
    }
    let area = event.area_code().and_then(|a| AreaCode::parse(a).ok());
    for dept in queries::departments::list(conn)? {
        let serves = match (&area, AreaCode::parse(&dept.area_code)) {
            (Some(a), Ok(d)) => tree.is_within(a, &d),
            _ => false,
        };
        if !serves {
            continue;
        }
        if let Ok(choice) = department(conn, tree, event, &dept.code, &[])? {
            out.push(Offer {
                load: choice.why["load"].as_i64().unwrap_or(0),
                user_id: choice.user_id,
                department: Some(dept.code.clone()),
                in_grid: false,
                metres: None,
                rule: "department_pool",
            });
        }
    }
    Ok(out)
}

/// Resolves departments named by a coordinator to one handler each (the first leads).
pub fn departments(conn: &mut DbConn, tree: &AreaIndex, event: &EventRow, codes: &[String]) -> ApiResult<Vec<Choice>> {
    let mut out = vec![];
    for (i, code) in codes.iter().enumerate() {
        match department(conn, tree, event, code.trim(), &[])? {
            Ok(choice) => out.push(choice),
            Err(why) => {
                return Err(ApiError::field(
                    &format!("departments[{i}]"),
                    "no_handler",
                    why["problem"].as_str().unwrap_or("no handler").to_owned(),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, in_grid: bool, load: i64, metres: Option<f64>) -> Candidate {
        Candidate { user_id: id.into(), in_grid, load, metres }
    }

    #[test]
    fn the_ranking_lists_the_grid_then_the_street_then_those_at_the_limit() {
        let cands = vec![
            cand("street-far", false, 0, Some(2000.0)),
            cand("full", true, 8, Some(40.0)),
            cand("own", true, 2, Some(800.0)),
            cand("street-near-busy", false, 2, Some(400.0)),
            cand("never-located", false, 0, None),
        ];
        let ranked: Vec<(&str, &str)> =
            rank_grid_workers(&cands, 8).into_iter().map(|(c, r)| (c.user_id.as_str(), r)).collect();
        assert_eq!(
            ranked,
            [
                ("own", "grid_on_duty"),
                // 400 m + 2 tasks × 500 m = 1,400 m beats 2,000 m.
                ("street-near-busy", "nearest_in_street"),
                ("street-far", "nearest_in_street"),
                ("never-located", "nearest_in_street"),
                ("full", AT_LIMIT),
            ]
        );
        assert_eq!(pick_grid_worker(&cands, 8).map(|(c, _)| c.user_id.as_str()), Some("own"));
        let all_full = vec![cand("a", true, 8, Some(40.0))];
        assert_eq!(pick_grid_worker(&all_full, 8), None);
    }

    #[test]
    fn the_grid_worker_wins_unless_overloaded_then_distance_and_load_decide() {
        let cands = vec![
            cand("near", false, 0, Some(120.0)),
            cand("own-busy", true, 5, Some(1600.0)),
            cand("own-free", true, 1, Some(3600.0)),
        ];
        let (c, rule) = pick_grid_worker(&cands, 8).unwrap();
        assert_eq!((c.user_id.as_str(), rule), ("own-free", "grid_on_duty"));

        // Both grid workers at the limit: the street's nearest free one.
        let cands = vec![
            cand("own", true, 8, Some(40.0)),
            cand("far-idle", false, 0, Some(2500.0)),
            cand("near-busy", false, 6, Some(200.0)),
            cand("unlocated", false, 0, None),
        ];
        let (c, rule) = pick_grid_worker(&cands, 8).unwrap();
        // near-busy scores 200 m + 6 × 500 m = 3,200 m, far-idle 2,500 m.
        assert_eq!((c.user_id.as_str(), rule), ("far-idle", "nearest_in_street"));

        let only_unlocated = vec![cand("own", true, 8, None), cand("unlocated", false, 2, None)];
        assert_eq!(pick_grid_worker(&only_unlocated, 8).unwrap().0.user_id, "unlocated");
        assert!(pick_grid_worker(&[cand("own", true, 8, Some(0.0))], 8).is_none());
    }

    #[test]
    fn the_one_pass_pick_is_the_rankings_first_free_worker() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..500 {
            let cands: Vec<Candidate> = (0..next(12))
                .map(|i| {
                    let metres = (next(5) > 0).then(|| (next(40) * 100) as f64);
                    cand(&format!("w{}", next(6) * 100 + i), next(3) == 0, next(5) as i64, metres)
                })
                .collect();
            let first_free = rank_grid_workers(&cands, 4).into_iter().find(|(_, rule)| *rule != AT_LIMIT);
            let picked = pick_grid_worker(&cands, 4);
            assert_eq!(picked.map(|(c, r)| (&c.user_id, r)), first_free.map(|(c, r)| (&c.user_id, r)), "{cands:?}");
        }
    }
}
