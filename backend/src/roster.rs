//! The duty roster: every on-duty grid worker with their streets, last position and open tasks,
//! kept in memory per process, so automatic dispatch ranks a street's workers without asking the
//! database (with 100,000 workers on duty a street holds hundreds).
//!
//! Memory proposes, the database decides: dispatch confirms the worker it picked from here
//! (active, on duty, a grant over the street, under the task limit) in its own transaction, and
//! falls back to reading the street from the database when the confirmation fails. So what is
//! kept can make a ranking a second old, never an assignment wrong.
//!
//! Kept current three ways. This process's own changes (duty switches, positions, tasks) are
//! applied after the work that made them commits (`Db::run` calls [`Roster::settle`]). Every
//! server reads what changed since its last look once a second (`worker_status` and `tasks` by
//! `updated_at`, with an overlap for transactions that commit late), which is how another
//! replica's or the CLI's changes arrive. And it is read whole at start, when the map changes,
//! after grants change anywhere (at most every [`RELOAD_AFTER_AUTH`]) and every
//! [`FULL_READ_EVERY`]. A roster not refreshed for [`STALE_AFTER`] is not used.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::QueryResult;
use gridwork_mobile_core::{AreaCode, AreaLevel, Role};
use rustc_hash::FxHashMap;

use crate::areas::AreaIndex;
use crate::db::DbConn;
use crate::events::dispatch::{Candidate, Rankable, Ruler, pick_grid_worker};
use crate::models::worker::WorkerStatusRow;
use crate::queries;

/// The role the roster keeps (automatic dispatch's own; departments' pools are small).
const ROLE: Role = Role::GridWorker;
/// How often every server looks for changes made elsewhere.
pub const LOOK_EVERY: Duration = Duration::from_secs(1);
/// A row stamped this long before the last look is read again: its transaction may have
/// committed after that look.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(3);
/// Unused when not refreshed for this long (the database is asked instead).
const STALE_AFTER: Duration = Duration::from_secs(5);
/// Read whole at least this often, whatever else happened.
const FULL_READ_EVERY: Duration = Duration::from_secs(300);
/// After a change to grants or accounts anywhere, read whole at most this often.
const RELOAD_AFTER_AUTH: Duration = Duration::from_secs(30);

/// One on-duty worker in one street: the grants that put them there (places in the index; most
/// workers hold one, kept inline so a street's entries are read in one sweep).
#[derive(Debug, Clone)]
struct Entry {
    user: String,
    area: u32,
    more_areas: Vec<u32>,
    /// NaN until the worker sends a position.
    lat: f64,
    lng: f64,
    load: i64,
}

impl Entry {
    fn holds(&self, area: u32) -> bool {
        self.area == area || self.more_areas.contains(&area)
    }
}

/// An entry as dispatch's rule sees it for one event.
#[derive(Debug, Clone, Copy)]
struct View<'a> {
    entry: &'a Entry,
    in_grid: bool,
    metres: Option<f64>,
}

impl Rankable for View<'_> {
    fn user_id(&self) -> &str {
        &self.entry.user
    }
    fn in_grid(&self) -> bool {
        self.in_grid
    }
    fn load(&self) -> i64 {
        self.entry.load
    }
    fn metres(&self) -> Option<f64> {
        self.metres
    }
}

impl View<'_> {
    fn candidate(&self) -> Candidate {
        Candidate {
            user_id: self.entry.user.clone(),
            in_grid: self.in_grid,
            load: self.entry.load,
            metres: self.metres,
        }
    }
}

/// What the roster found for one event: the worker picked (to be confirmed) and how many it
/// weighed.
#[derive(Debug, Clone)]
pub struct Pick {
    pub chosen: Option<(Candidate, &'static str)>,
    /// On duty with a grant on the event's grid.
    pub in_grid: usize,
    /// On duty in the street.
    pub on_duty: usize,
}

/// An on-duty worker given to [`Roster::fill`].
#[derive(Debug, Clone)]
pub struct OnDuty {
    pub user: String,
    /// Where their grants lie.
    pub areas: Vec<String>,
    /// (lat, lng) of their last position.
    pub at: Option<(f64, f64)>,
    pub load: i64,
}

/// An on-duty worker as the roster knows them.
#[derive(Debug, Clone, Default)]
struct Worker {
    areas: Vec<String>,
    lat: Option<f64>,
    lng: Option<f64>,
    load: i64,
}

#[derive(Debug, Default)]
struct State {
    /// The map the streets were worked out on; a lookup with another map is not answered.
    tree: Option<Arc<AreaIndex>>,
    workers: FxHashMap<String, Worker>,
    /// Street code → its workers, each once.
    streets: FxHashMap<String, Vec<Entry>>,
    /// Workers whose grant lies above the streets (a district, the city): few, checked per lookup.
    wide: Vec<Entry>,
    refreshed: Option<Instant>,
    read_whole: Option<Instant>,
    /// Rows stamped after this are yet to be read (less the overlap).
    looked: Option<NaiveDateTime>,
    auth_epoch: u64,
}

/// The street an area lies in; `None` for an area above the streets or unknown.
fn street_of(tree: &AreaIndex, code: &str) -> Option<String> {
    tree.ancestry(tree.index_of(code)?).iter().find(|a| a.level == AreaLevel::Street).map(|a| a.code.clone())
}

impl State {
    fn unplace(&mut self, user: &str) {
        let Some(w) = self.workers.remove(user) else { return };
        let Some(tree) = self.tree.clone() else { return };
        for area in &w.areas {
            match street_of(&tree, area) {
                Some(s) => {
                    if let Some(list) = self.streets.get_mut(&s) {
                        list.retain(|e| e.user != user);
                    }
                }
                None => self.wide.retain(|e| e.user != user),
            }
        }
    }

    fn place(&mut self, user: &str, w: Worker) {
        self.unplace(user);
        let Some(tree) = self.tree.clone() else { return };
        let mut by_street: FxHashMap<Option<String>, Vec<u32>> = FxHashMap::default();
        for area in &w.areas {
            if let Some(idx) = tree.index_of(area) {
                by_street.entry(street_of(&tree, area)).or_default().push(idx);
            }
        }
        for (street, areas) in by_street {
            let entry = Entry {
                user: user.to_owned(),
                area: areas[0],
                more_areas: areas[1..].to_vec(),
                lat: w.lat.unwrap_or(f64::NAN),
                lng: w.lng.unwrap_or(f64::NAN),
                load: w.load,
            };
            match street {
                Some(s) => self.streets.entry(s).or_default().push(entry),
                None => self.wide.push(entry),
            }
        }
        self.workers.insert(user.to_owned(), w);
    }

    /// Moves a known worker (position, load) without re-reading their grants.
    fn update(&mut self, user: &str, f: impl Fn(&mut Worker)) {
        let Some(mut w) = self.workers.get(user).cloned() else { return };
        f(&mut w);
        self.place(user, w);
    }
}

/// What the work on this thread changed, to apply once it has committed.
#[derive(Debug, Default)]
struct Touched {
    statuses: Vec<WorkerStatusRow>,
    /// Workers to read again.
    again: Vec<String>,
}

thread_local! {
    static TOUCHED: RefCell<Touched> = RefCell::new(Touched::default());
}

/// Said by the query that saves a worker's status.
pub fn status_saved(row: &WorkerStatusRow) {
    TOUCHED.with_borrow_mut(|t| t.statuses.push(row.clone()));
}

/// Said by the queries that write a worker's tasks (their open load may have changed), grants
/// or movements: they are read again.
pub fn worker_changed(user: &str) {
    TOUCHED.with_borrow_mut(|t| t.again.push(user.to_owned()));
}

/// Whether the work on this thread changed workers (uncommitted, perhaps): it must read the
/// database, which has its own changes, not the roster.
pub fn touched_here() -> bool {
    TOUCHED.with_borrow(|t| !t.statuses.is_empty() || !t.again.is_empty())
}

/// Forgets what this thread's work said (a new piece of work starts).
pub(crate) fn forget_touched() {
    TOUCHED.with_borrow_mut(|t| *t = Touched::default());
}

/// How a dispatch went with the roster (counted for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The roster's pick held in the database.
    Confirmed,
    /// The roster was behind (its pick no longer fit, or it found nobody): the database decided.
    Behind,
    /// The roster could not answer (off, stale, being read, or the work had changed workers).
    Unused,
}

impl Outcome {
    const ALL: [Self; 3] = [Self::Confirmed, Self::Behind, Self::Unused];

    fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Behind => "behind",
            Self::Unused => "unused",
        }
    }
}

/// One per pool (`Db::roster`); `Db::run` lends it to the work it runs.
#[derive(Debug, Default)]
pub struct Roster {
    /// Off until a server switches it on (`--duty-roster`); a CLI process never keeps one.
    enabled: AtomicBool,
    state: RwLock<State>,
    /// Bumped by `invalidate`; a whole read begun before a bump is not kept.
    generation: AtomicU64,
    outcomes: [AtomicU64; 3],
}

impl Roster {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn start(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Release);
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops what is kept (a refresh failed): unused until read whole again.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *self.write() = State::default();
    }

    /// Whether the roster must be read whole: never read, another map, grants changed, or due.
    pub fn needs_whole_read(&self, tree: &Arc<AreaIndex>, auth_epoch: u64) -> bool {
        let s = self.read();
        let Some(read_whole) = s.read_whole else { return true };
        !s.tree.as_ref().is_some_and(|t| Arc::ptr_eq(t, tree))
            || read_whole.elapsed() >= FULL_READ_EVERY
            || (s.auth_epoch != auth_epoch && read_whole.elapsed() >= RELOAD_AFTER_AUTH)
    }

    /// Reads every on-duty worker on `tree`.
    pub fn read_whole(&self, conn: &mut DbConn, tree: Arc<AreaIndex>, auth_epoch: u64) -> QueryResult<()> {
        let generation = self.generation.load(Ordering::Acquire);
        let looked = crate::models::now();
        let rows = queries::workers::on_duty(conn, ROLE.as_str(), None)?;
        let loads = queries::tasks::open_loads(conn)?;
        let mut fresh = State {
            tree: Some(tree),
            refreshed: Some(Instant::now()),
            read_whole: Some(Instant::now()),
            looked: Some(looked),
            auth_epoch,
            ..State::default()
        };
        for (user, w) in workers_of(rows, &loads) {
            fresh.place(&user, w);
        }
        let mut s = self.write();
        if generation == self.generation.load(Ordering::Acquire) {
            *s = fresh;
        }
        Ok(())
    }

    /// Reads what changed since the last look (another replica's or the CLI's work).
    pub fn look(&self, conn: &mut DbConn) -> QueryResult<()> {
        let Some(since) = self.read().looked else { return Ok(()) };
        let now = crate::models::now();
        let statuses = queries::workers::statuses_since(conn, since - OVERLAP)?;
        let again = queries::tasks::users_since(conn, since - OVERLAP)?;
        self.apply(conn, statuses, again)?;
        let mut s = self.write();
        s.looked = Some(now);
        s.refreshed = Some(Instant::now());
        Ok(())
    }

    /// Applies what this process's work changed, once it is over. The statuses it saved are
    /// taken as they are only if the work succeeded (else they may not have been committed, and
    /// those workers are read again).
    pub fn settle(&self, conn: &mut DbConn, succeeded: bool) {
        let Touched { mut statuses, mut again } = TOUCHED.with_borrow_mut(std::mem::take);
        if !self.enabled() || (statuses.is_empty() && again.is_empty()) {
            return;
        }
        if !succeeded {
            again.extend(statuses.drain(..).map(|s| s.user_id));
        }
        if let Err(e) = self.apply(conn, statuses, again) {
            tracing::warn!(error = %e, "duty roster: could not apply a change; reading it whole");
            self.invalidate();
        }
    }

    /// Statuses apply as they are for workers already kept; workers new to duty, and those whose
    /// tasks, grants or account changed, are read again.
    fn apply(&self, conn: &mut DbConn, statuses: Vec<WorkerStatusRow>, mut again: Vec<String>) -> QueryResult<()> {
        if self.read().tree.is_none() {
            return Ok(());
        }
        {
            let mut s = self.write();
            for row in statuses {
                if !row.on_duty {
                    s.unplace(&row.user_id);
                } else if s.workers.contains_key(&row.user_id) {
                    s.update(&row.user_id, |w| {
                        w.lat = row.lat;
                        w.lng = row.lng;
                    });
                } else {
                    again.push(row.user_id);
                }
            }
        }
        again.sort_unstable();
        again.dedup();
        if again.is_empty() {
            return Ok(());
        }
        let rows = queries::workers::on_duty(conn, ROLE.as_str(), Some(&again))?;
        let loads = queries::tasks::open_load(conn, &again)?;
        let mut read = workers_of(rows, &loads);
        let mut s = self.write();
        for user in &again {
            match read.remove(user) {
                Some(w) => s.place(user, w),
                None => s.unplace(user),
            }
        }
        Ok(())
    }

    /// The state, if the roster may answer for `tree`: on, read from this very map, and (when fed
    /// by the database) refreshed lately.
    fn usable(&self, tree: &AreaIndex) -> Option<std::sync::RwLockReadGuard<'_, State>> {
        if !self.enabled() {
            return None;
        }
        let s = self.read();
        let same_map = s.tree.as_ref().is_some_and(|t| std::ptr::eq(t.as_ref(), tree));
        let stale = s.looked.is_some() && s.refreshed.is_none_or(|r| r.elapsed() >= STALE_AFTER);
        (same_map && !stale).then_some(s)
    }

    /// The street's on-duty workers (whose grant lies in, above or below it) as the rule sees
    /// them for an event at `ruler` in `grid`.
    fn views<'a>(
        s: &'a State,
        tree: &'a AreaIndex,
        street: &AreaCode,
        grid: &AreaCode,
        ruler: Ruler,
        exclude: &'a [String],
    ) -> impl Iterator<Item = View<'a>> + 'a {
        let own = s.streets.get(street.as_str()).map_or(&[][..], Vec::as_slice);
        let street_idx = tree.index_of(street.as_str());
        let grid_idx = tree.index_of(grid.as_str());
        let wide = s.wide.iter().filter(move |e| {
            street_idx.is_some_and(|st| std::iter::once(&e.area).chain(&e.more_areas).any(|&a| tree.holds(a, st)))
                && !own.iter().any(|o| o.user == e.user)
        });
        own.iter().chain(wide).filter(move |e| exclude.is_empty() || !exclude.contains(&e.user)).map(move |e| View {
            entry: e,
            in_grid: grid_idx.is_some_and(|g| e.holds(g)),
            metres: (!e.lat.is_nan()).then(|| ruler.metres(e.lat, e.lng)),
        })
    }

    /// Automatic dispatch's pick among the street's on-duty workers, in one pass over what is
    /// kept; `None` when the roster cannot answer (off, stale, another map): the caller reads the
    /// database.
    pub fn pick(
        &self,
        tree: &AreaIndex,
        street: &AreaCode,
        grid: &AreaCode,
        at: (f64, f64),
        exclude: &[String],
        max_load: i64,
    ) -> Option<Pick> {
        let s = self.usable(tree)?;
        let (mut in_grid, mut on_duty) = (0, 0);
        let views = Self::views(&s, tree, street, grid, Ruler::new(at.0, at.1), exclude).inspect(|v| {
            on_duty += 1;
            in_grid += usize::from(v.in_grid);
        });
        let chosen = pick_grid_worker(views, max_load).map(|(v, rule)| (v.candidate(), rule));
        Some(Pick { chosen, in_grid, on_duty })
    }

    /// Every on-duty worker of the street, for the ops centre's ranked list; `None` as for
    /// [`Roster::pick`].
    pub fn street(
        &self,
        tree: &AreaIndex,
        street: &AreaCode,
        grid: &AreaCode,
        at: (f64, f64),
        exclude: &[String],
    ) -> Option<Vec<Candidate>> {
        let s = self.usable(tree)?;
        Some(Self::views(&s, tree, street, grid, Ruler::new(at.0, at.1), exclude).map(|v| v.candidate()).collect())
    }

    /// Keeps exactly these workers on `tree`, as a whole read would (benchmarks). Not fed by the
    /// database, it never goes stale.
    pub fn fill(&self, tree: Arc<AreaIndex>, workers: Vec<OnDuty>) {
        let mut fresh = State {
            tree: Some(tree),
            refreshed: Some(Instant::now()),
            read_whole: Some(Instant::now()),
            ..State::default()
        };
        for w in workers {
            let (lat, lng) = w.at.map_or((None, None), |(lat, lng)| (Some(lat), Some(lng)));
            fresh.place(&w.user, Worker { areas: w.areas, lat, lng, load: w.load });
        }
        *self.write() = fresh;
    }

    pub fn count(&self, outcome: Outcome) {
        self.outcomes[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The roster's lines for `/metrics` (Prometheus text format).
    pub fn metrics(&self) -> String {
        let mut out = String::from(
            "# HELP gridwork_dispatch_roster_total Automatic dispatches by how the duty roster served them\n\
             # TYPE gridwork_dispatch_roster_total counter\n",
        );
        for o in Outcome::ALL {
            let n = self.outcomes[o as usize].load(Ordering::Relaxed);
            out.push_str(&format!("gridwork_dispatch_roster_total{{outcome=\"{}\"}} {n}\n", o.as_str()));
        }
        out.push_str(&format!(
            "# HELP gridwork_duty_roster_workers On-duty grid workers kept in memory\n\
             # TYPE gridwork_duty_roster_workers gauge\ngridwork_duty_roster_workers {}\n",
            self.len()
        ));
        out
    }

    /// How many on-duty workers are kept (metrics, tests).
    pub fn len(&self) -> usize {
        self.read().workers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Rows of (grant area, status) grouped per worker, with their loads.
fn workers_of(
    rows: Vec<(Option<String>, WorkerStatusRow)>,
    loads: &std::collections::HashMap<String, i64>,
) -> FxHashMap<String, Worker> {
    let mut out: FxHashMap<String, Worker> = FxHashMap::default();
    for (area, status) in rows {
        let w = out.entry(status.user_id.clone()).or_insert_with(|| Worker {
            areas: vec![],
            lat: status.lat,
            lng: status.lng,
            load: loads.get(&status.user_id).copied().unwrap_or(0),
        });
        if let Some(a) = area {
            w.areas.push(a);
        }
    }
    out
}

/// Starts the loop that keeps this server's roster current.
pub fn spawn(state: &crate::state::AppState) {
    let roster = state.db.roster().clone();
    if !roster.enabled() {
        return;
    }
    let (db, index, auth_epoch) = (state.db.clone(), state.index.clone(), state.db.auth_epoch().clone());
    let mut stopping = state.stopping.subscribe();
    tokio::spawn(async move {
        loop {
            let tree = index.load_full();
            let epoch = auth_epoch.load(Ordering::Acquire);
            let r = roster.clone();
            let looked = db
                .run(move |conn| {
                    if r.needs_whole_read(&tree, epoch) {
                        r.read_whole(conn, tree, epoch)?;
                    } else {
                        r.look(conn)?;
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = looked {
                tracing::warn!(error = %e.message, "duty roster: could not look for changes");
            }
            tokio::select! {
                () = tokio::time::sleep(LOOK_EVERY) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{MultiPolygon, Polygon, Rect};

    use crate::areas::AreaInput;

    fn square(code: &str, level: AreaLevel, parent: Option<&str>, x0: f64, x1: f64) -> AreaInput {
        let poly: Polygon<f64> = Rect::new((x0, 30.0), (x1, 30.1)).to_polygon();
        AreaInput {
            code: code.into(),
            name: code.into(),
            level,
            parent_code: parent.map(Into::into),
            geometry: MultiPolygon(vec![poly]),
        }
    }

    fn tree() -> Arc<AreaIndex> {
        Arc::new(
            AreaIndex::build(&[
                square("C", AreaLevel::City, None, 114.0, 114.4),
                square("D", AreaLevel::District, Some("C"), 114.0, 114.4),
                square("S1", AreaLevel::Street, Some("D"), 114.0, 114.2),
                square("S2", AreaLevel::Street, Some("D"), 114.2, 114.4),
                square("K1", AreaLevel::Community, Some("S1"), 114.0, 114.2),
                square("G1", AreaLevel::Grid, Some("K1"), 114.0, 114.1),
                square("G2", AreaLevel::Grid, Some("K1"), 114.1, 114.2),
            ])
            .unwrap(),
        )
    }

    fn worker(areas: &[&str], at: Option<(f64, f64)>, load: i64) -> Worker {
        Worker {
            areas: areas.iter().map(|a| (*a).to_owned()).collect(),
            lat: at.map(|p| p.1),
            lng: at.map(|p| p.0),
            load,
        }
    }

    fn roster(tree: &Arc<AreaIndex>) -> Roster {
        let r = Roster::new();
        r.start(true);
        {
            let mut s = r.write();
            s.tree = Some(tree.clone());
            s.refreshed = Some(Instant::now());
            s.place("a", worker(&["G1"], Some((114.05, 30.05)), 0));
            s.place("b", worker(&["G2", "G1"], Some((114.15, 30.05)), 2));
            s.place("d", worker(&["D"], None, 1));
            s.place("s2", worker(&["S2"], Some((114.3, 30.05)), 0));
        }
        r
    }

    fn code(c: &str) -> AreaCode {
        AreaCode::parse(c).unwrap()
    }

    fn names(c: &[Candidate]) -> Vec<(&str, bool, i64, bool)> {
        let mut out: Vec<_> = c.iter().map(|c| (c.user_id.as_str(), c.in_grid, c.load, c.metres.is_some())).collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn a_street_lists_its_workers_once_and_those_over_it() {
        let t = tree();
        let r = roster(&t);
        let got = r.street(&t, &code("S1"), &code("G1"), (30.05, 114.06), &[]).unwrap();
        // b holds two grids of the street: listed once, in the grid; d's district covers S1.
        assert_eq!(names(&got), [("a", true, 0, true), ("b", true, 2, true), ("d", false, 1, false)]);
        let got = r.street(&t, &code("S2"), &code("G1"), (30.05, 114.3), &["d".to_owned()]).unwrap();
        assert_eq!(names(&got), [("s2", false, 0, true)]);
    }

    #[test]
    fn moves_and_going_off_duty_apply_and_another_map_is_not_answered() {
        let t = tree();
        let r = roster(&t);
        {
            let mut s = r.write();
            s.update("a", |w| w.load = 5);
            s.unplace("b");
        }
        let got = r.street(&t, &code("S1"), &code("G1"), (30.05, 114.06), &[]).unwrap();
        assert_eq!(names(&got), [("a", true, 5, true), ("d", false, 1, false)]);
        assert_eq!(r.len(), 3);
        let other = tree();
        assert!(r.street(&other, &code("S1"), &code("G1"), (30.05, 114.06), &[]).is_none());
        r.start(false);
        assert!(r.street(&t, &code("S1"), &code("G1"), (30.05, 114.06), &[]).is_none());
    }

    #[test]
    fn the_one_pass_pick_is_the_rules_pick_over_the_street() {
        let t = tree();
        let r = roster(&t);
        for (street, grid, at, max_load) in [
            ("S1", "G1", (30.05, 114.06), 8),
            ("S1", "G1", (30.05, 114.06), 1),
            ("S1", "G2", (30.05, 114.16), 2),
            ("S1", "K1", (30.05, 114.19), 8),
            ("S2", "G1", (30.05, 114.3), 8),
        ] {
            let cands = r.street(&t, &code(street), &code(grid), at, &[]).unwrap();
            let want = pick_grid_worker(&cands, max_load).map(|(c, rule)| (c.clone(), rule));
            let got = r.pick(&t, &code(street), &code(grid), at, &[], max_load).unwrap();
            assert_eq!(got.chosen, want, "{street} {grid} {max_load}");
            assert_eq!((got.on_duty, got.in_grid), (cands.len(), cands.iter().filter(|c| c.in_grid).count()));
        }
    }

    #[test]
    fn a_roster_not_refreshed_lately_is_not_used() {
        let t = tree();
        let r = roster(&t);
        {
            let mut s = r.write();
            s.looked = Some(crate::models::now());
            s.refreshed = Instant::now().checked_sub(STALE_AFTER + Duration::from_secs(1));
        }
        assert!(r.street(&t, &code("S1"), &code("G1"), (30.05, 114.06), &[]).is_none());
    }
}
