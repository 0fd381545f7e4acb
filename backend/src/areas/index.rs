//! The in-memory lookup index. A point is turned into one H3 cell at the finest indexed
//! resolution; its parents give the cell at every level. A cell wholly inside an area answers at
//! once; a cell that a boundary crosses keeps, per area, the cell centre's known status and the
//! few polygon edges that touch the cell, and the point is settled exactly by counting how often
//! the segment centre→point crosses those edges (robust orientation predicates). The answer is
//! therefore plain polygon containment, holes included, at any distance from a boundary.

use std::sync::Arc;

use arc_swap::ArcSwap;
use geo::{BoundingRect, Contains, Coord, MultiPolygon, Point};
use gridwork_mobile_core::domain::area::AreaTree;
use gridwork_mobile_core::{AreaCode, AreaLevel};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, LatLng, Resolution};
use robust::{Coord as RCoord, orient2d};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use super::levels;
use super::tiles::Tiles;

/// One area as the index needs it.
#[derive(Debug, Clone)]
pub struct AreaInput {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    pub parent_code: Option<String>,
    /// WGS-84, `x` = longitude, `y` = latitude.
    pub geometry: MultiPolygon<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaInfo {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    #[serde(skip)]
    pub parent: Option<u32>,
    #[serde(skip)]
    pub children: Vec<u32>,
}

/// The areas containing a point, top level first: at most seven, kept inline (a lookup allocates
/// nothing).
#[derive(Debug, Clone, Copy)]
pub struct Chain<'a> {
    areas: [&'a AreaInfo; 7],
    len: usize,
}

/// What fills a chain's unused slots (never read).
static UNUSED: AreaInfo =
    AreaInfo { code: String::new(), name: String::new(), level: AreaLevel::City, parent: None, children: Vec::new() };

impl Default for Chain<'_> {
    fn default() -> Self {
        Self { areas: [&UNUSED; 7], len: 0 }
    }
}

impl<'a> std::ops::Deref for Chain<'a> {
    type Target = [&'a AreaInfo];
    fn deref(&self) -> &Self::Target {
        &self.areas[..self.len]
    }
}

impl<'a> IntoIterator for Chain<'a> {
    type Item = &'a AreaInfo;
    type IntoIter = std::iter::Take<std::array::IntoIter<&'a AreaInfo, 7>>;
    fn into_iter(self) -> Self::IntoIter {
        self.areas.into_iter().take(self.len)
    }
}

#[derive(Debug, Clone, Copy)]
struct Edge {
    a: Coord<f64>,
    b: Coord<f64>,
}

/// One area's share of a cell that its boundary crosses: a reference point inside the cell whose
/// status is known, and the polygon edges that reach into the cell. 20 bytes: the reference point
/// is stored as f32 (its status is computed for exactly that rounded point, so rounding costs no
/// exactness) and the inside flag rides in the top bit of the edge count.
#[derive(Debug, Clone, Copy)]
struct Part {
    area: u32,
    edges_start: u32,
    len_inside: u32,
    center: [f32; 2],
    /// The area's bounding box, rounded outwards to f32: most crossed cells hold several small
    /// areas (buildings) and the box rules most out without touching their edges.
    bbox: [f32; 4],
}

const INSIDE_BIT: u32 = 1 << 31;

impl Part {
    fn new(area: u32, center: Coord<f64>, center_inside: bool, edges: (u32, u32), bbox: [f32; 4]) -> Self {
        let len_inside = edges.1 | if center_inside { INSIDE_BIT } else { 0 };
        #[allow(clippy::cast_possible_truncation)]
        let center = [center.x as f32, center.y as f32];
        Self { area, edges_start: edges.0, len_inside, center, bbox }
    }

    fn inside_only(area: u32) -> Self {
        Self {
            area,
            edges_start: 0,
            len_inside: INSIDE_BIT,
            center: [0.0, 0.0],
            bbox: [f32::MIN, f32::MIN, f32::MAX, f32::MAX],
        }
    }

    fn may_hold(&self, p: Coord<f64>) -> bool {
        let b = &self.bbox;
        p.x >= f64::from(b[0]) && p.y >= f64::from(b[1]) && p.x <= f64::from(b[2]) && p.y <= f64::from(b[3])
    }

    fn center(&self) -> Coord<f64> {
        Coord { x: f64::from(self.center[0]), y: f64::from(self.center[1]) }
    }

    fn center_inside(&self) -> bool {
        self.len_inside & INSIDE_BIT != 0
    }

    fn edges_len(&self) -> u32 {
        self.len_inside & !INSIDE_BIT
    }
}

/// A level's cells. A cell wholly inside one area maps to `CELL_INSIDE | area`; any other cell
/// maps to its run of parts: `len << 32 | start`. Keeping the run in the table (not behind
/// another index) saves a dependent memory access per probe: lookups are bound by memory latency.
#[derive(Debug)]
struct LevelIndex {
    res: Resolution,
    cells: FxHashMap<u64, u64>,
    parts: Vec<Part>,
}

const CELL_INSIDE: u64 = 1 << 63;
const NO_AREA: u32 = u32::MAX;

#[derive(Debug, Default)]
pub struct AreaIndex {
    areas: Vec<AreaInfo>,
    by_code: FxHashMap<String, u32>,
    /// Tables by resolution, finest first (each named by the deepest level it holds): lookups
    /// stop at the first part that contains the point.
    levels: Vec<(AreaLevel, LevelIndex)>,
    /// The resolution points are converted at; coarser levels use that cell's parents.
    finest: Option<Resolution>,
    /// Each area's chain from the top down, precomputed: a lookup reads it in one access instead
    /// of chasing parents one dependent load at a time. `NO_AREA` pads.
    chains: Vec<[u32; 7]>,
    edges: Vec<Edge>,
    /// Answers most points without H3 (`tiles`).
    tiles: Option<Tiles>,
}

/// Areas with at most this many edges keep one copy of their outline that all their crossed
/// cells share; larger ones copy into each cell only the few edges that reach it.
const SHARED_OUTLINE_MAX_EDGES: usize = 32;

/// A bounding box rounded outwards to f32, so it never excludes a point the f64 box holds.
fn f32_box(g: &MultiPolygon<f64>) -> [f32; 4] {
    #[allow(clippy::cast_possible_truncation)]
    let down = |v: f64| {
        let f = v as f32;
        if f64::from(f) > v { f.next_down() } else { f }
    };
    #[allow(clippy::cast_possible_truncation)]
    let up = |v: f64| {
        let f = v as f32;
        if f64::from(f) < v { f.next_up() } else { f }
    };
    g.bounding_rect()
        .map_or([0.0, 0.0, -1.0, -1.0], |r| [down(r.min().x), down(r.min().y), up(r.max().x), up(r.max().y)])
}

/// The index shared by all workers; an import swaps in a new one atomically.
pub type SharedIndex = Arc<ArcSwap<AreaIndex>>;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("area {code}: {message}")]
    Geometry { code: String, message: String },
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    orient2d(RCoord { x: a.x, y: a.y }, RCoord { x: b.x, y: b.y }, RCoord { x: c.x, y: c.y })
}

/// Whether `p` is inside, given a reference point `c` whose status is known and every polygon edge
/// that may cross the segment c→p. Endpoints exactly on the line c→p count as lying on its
/// positive side (half-open rule), so a vertex on the segment is counted once, not twice.
/// `None` when p lies exactly on an edge.
fn settle(c: Coord<f64>, c_inside: bool, p: Coord<f64>, edges: &[Edge]) -> Option<bool> {
    let mut inside = c_inside;
    for e in edges {
        let side_a = orient(c, p, e.a) >= 0.0;
        let side_b = orient(c, p, e.b) >= 0.0;
        if side_a == side_b {
            continue;
        }
        let oc = orient(e.a, e.b, c);
        let op = orient(e.a, e.b, p);
        if op == 0.0 {
            return None;
        }
        if (oc > 0.0) != (op > 0.0) {
            inside = !inside;
        }
    }
    Some(inside)
}

fn ring_edges(geometry: &MultiPolygon<f64>) -> Vec<Edge> {
    let mut out = Vec::new();
    for poly in &geometry.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            out.extend(ring.lines().filter(|l| l.start != l.end).map(|l| Edge { a: l.start, b: l.end }));
        }
    }
    out
}

/// How far the region a lookup maps to a cell can reach beyond the cell's hexagon, as a factor
/// of its centre-to-vertex distance. Lookups convert a point once, at the finest resolution, and
/// take parents; the points whose fine cell has parent K are the union of K's descendants, an
/// outline that wanders around K's hexagon (aperture-7 cells do not nest exactly). Measured
/// worst case over 2.6 M random points for every resolution pair used: 1.32; 1.5 leaves margin,
/// and also covers H3's curved edges against straight lon/lat lines.
const PARENT_REGION_GROWTH: f64 = 1.5;

/// At the finest resolution a lookup uses the cell itself; 3% covers H3's curved edges.
const EXACT_CELL_GROWTH: f64 = 1.03;

/// A cell's hexagon grown by a factor (plus 1e-7°, 1 cm): a convex shape holding
/// every point a lookup maps to the cell, so every polygon edge that can cross a segment between
/// two such points touches it.
struct Hexagon {
    pts: Vec<Coord<f64>>,
    min: Coord<f64>,
    max: Coord<f64>,
}

impl Hexagon {
    fn of_cell(cell: CellIndex, center: Coord<f64>, growth: f64) -> Self {
        let pts: Vec<Coord<f64>> = cell
            .boundary()
            .iter()
            .map(|v| {
                let (dx, dy) = (v.lng() - center.x, v.lat() - center.y);
                let n = (dx * dx + dy * dy).sqrt().max(1e-12);
                let grow = growth + 1e-7 / n;
                Coord { x: center.x + dx * grow, y: center.y + dy * grow }
            })
            .collect();
        let mut min = Coord { x: f64::INFINITY, y: f64::INFINITY };
        let mut max = Coord { x: f64::NEG_INFINITY, y: f64::NEG_INFINITY };
        for p in &pts {
            min = Coord { x: min.x.min(p.x), y: min.y.min(p.y) };
            max = Coord { x: max.x.max(p.x), y: max.y.max(p.y) };
        }
        Self { pts, min, max }
    }

    fn contains(&self, p: Coord<f64>) -> bool {
        let n = self.pts.len();
        let mut sign = 0.0f64;
        for i in 0..n {
            let o = orient(self.pts[i], self.pts[(i + 1) % n], p);
            if o != 0.0 {
                if sign != 0.0 && (o > 0.0) != (sign > 0.0) {
                    return false;
                }
                sign = o;
            }
        }
        true
    }

    fn touches(&self, e: &Edge) -> bool {
        let (x0, x1) = if e.a.x <= e.b.x { (e.a.x, e.b.x) } else { (e.b.x, e.a.x) };
        let (y0, y1) = if e.a.y <= e.b.y { (e.a.y, e.b.y) } else { (e.b.y, e.a.y) };
        if x1 < self.min.x || x0 > self.max.x || y1 < self.min.y || y0 > self.max.y {
            return false;
        }
        if self.contains(e.a) || self.contains(e.b) {
            return true;
        }
        let n = self.pts.len();
        (0..n).any(|i| segments_cross(e.a, e.b, self.pts[i], self.pts[(i + 1) % n]))
    }
}

fn segments_cross(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    (o1 >= 0.0) != (o2 >= 0.0) && (o3 >= 0.0) != (o4 >= 0.0) || o1 == 0.0 || o2 == 0.0 || o3 == 0.0 || o4 == 0.0
}

/// Buckets edges on a coarse lon/lat grid so that finding the edges near a cell does not scan
/// every edge of a long boundary.
struct EdgeGrid {
    origin: Coord<f64>,
    step: f64,
    buckets: FxHashMap<(i32, i32), Vec<u32>>,
}

impl EdgeGrid {
    fn new(edges: &[Edge], step: f64) -> Self {
        let origin = edges.first().map_or(Coord { x: 0.0, y: 0.0 }, |e| e.a);
        let mut grid = Self { origin, step, buckets: FxHashMap::default() };
        for (i, e) in edges.iter().enumerate() {
            let (lo, hi) = grid.span(e.a.x.min(e.b.x), e.a.y.min(e.b.y), e.a.x.max(e.b.x), e.a.y.max(e.b.y));
            for gx in lo.0..=hi.0 {
                for gy in lo.1..=hi.1 {
                    grid.buckets.entry((gx, gy)).or_default().push(u32::try_from(i).unwrap_or(u32::MAX));
                }
            }
        }
        grid
    }

    #[allow(clippy::cast_possible_truncation)]
    fn key(&self, x: f64, y: f64) -> (i32, i32) {
        (((x - self.origin.x) / self.step).floor() as i32, ((y - self.origin.y) / self.step).floor() as i32)
    }

    fn span(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> ((i32, i32), (i32, i32)) {
        (self.key(x0, y0), self.key(x1, y1))
    }

    fn near(&self, h: &Hexagon, out: &mut Vec<u32>) {
        out.clear();
        let (lo, hi) = self.span(h.min.x, h.min.y, h.max.x, h.max.y);
        for gx in lo.0..=hi.0 {
            for gy in lo.1..=hi.1 {
                if let Some(v) = self.buckets.get(&(gx, gy)) {
                    out.extend_from_slice(v);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// Cells of one level while the index is being built.
type Building = FxHashMap<u64, Vec<Part>>;

impl LevelIndex {
    /// Packs the cells; each cell's parts are ordered deepest level first, then by area, so that
    /// the first part that holds a point is the answer.
    fn finish(res: Resolution, building: Building, areas: &[AreaInfo]) -> Self {
        let mut cells = FxHashMap::with_capacity_and_hasher(building.len(), Default::default());
        let mut parts = Vec::new();
        for (key, mut v) in building {
            v.sort_by_key(|p| (std::cmp::Reverse(areas[p.area as usize].level), p.area));
            if let [only] = v.as_slice()
                && only.edges_len() == 0
                && only.center_inside()
            {
                cells.insert(key, CELL_INSIDE | u64::from(only.area));
                continue;
            }
            let start = parts.len() as u64;
            parts.extend_from_slice(&v);
            cells.insert(key, (v.len() as u64) << 32 | start);
        }
        parts.shrink_to_fit();
        Self { res, cells, parts }
    }
}

impl AreaIndex {
    /// Builds the index. Parents are linked by code, in any order.
    pub fn build(inputs: &[AreaInput]) -> Result<Self, IndexError> {
        let mut index = AreaIndex::default();
        for input in inputs {
            let idx = u32::try_from(index.areas.len()).unwrap_or(u32::MAX);
            index.by_code.insert(input.code.clone(), idx);
            index.areas.push(AreaInfo {
                code: input.code.clone(),
                name: input.name.clone(),
                level: input.level,
                parent: None,
                children: Vec::new(),
            });
        }
        for (i, input) in inputs.iter().enumerate() {
            if let Some(parent) = input.parent_code.as_ref().and_then(|p| index.by_code.get(p).copied()) {
                index.areas[i].parent = Some(parent);
                index.areas[parent as usize].children.push(u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        index.chains = (0..index.areas.len())
            .map(|i| {
                // Parents are one level up, so a chain has at most 7 links; the bound also stops
                // a malformed cycle.
                let mut up = Vec::with_capacity(7);
                let mut cur = Some(u32::try_from(i).unwrap_or(NO_AREA));
                while let Some(a) = cur.filter(|_| up.len() < 7) {
                    up.push(a);
                    cur = index.areas[a as usize].parent;
                }
                let mut chain = [NO_AREA; 7];
                for (slot, a) in chain.iter_mut().zip(up.into_iter().rev()) {
                    *slot = a;
                }
                chain
            })
            .collect();
        let finest = inputs.iter().map(|i| levels::resolution(i.level)).max();
        // Levels that share a resolution share one table: one probe answers all of them.
        let mut per_level: Vec<(AreaLevel, LevelIndex)> = Vec::new();
        let mut open: Option<(AreaLevel, Resolution, Building)> = None;
        for level in AreaLevel::ALL.into_iter().rev() {
            let members: Vec<usize> = (0..inputs.len()).filter(|&i| inputs[i].level == level).collect();
            if members.is_empty() {
                continue;
            }
            let res = levels::resolution(level);
            if open.as_ref().is_some_and(|(_, r, _)| *r != res)
                && let Some((deepest, r, cells)) = open.take()
            {
                per_level.push((deepest, LevelIndex::finish(r, cells, &index.areas)));
            }
            let (_, _, cells) = open.get_or_insert_with(|| (level, res, FxHashMap::default()));
            // Points are converted at the finest resolution: its cells are exact hexagons, and
            // only coarser tables see the wider region of a parent.
            let grow = if Some(res) == finest { EXACT_CELL_GROWTH } else { PARENT_REGION_GROWTH };
            for i in members {
                index.add_area(u32::try_from(i).unwrap_or(u32::MAX), &inputs[i], res, grow, cells)?;
            }
        }
        if let Some((deepest, r, cells)) = open {
            per_level.push((deepest, LevelIndex::finish(r, cells, &index.areas)));
        }
        index.finest = finest;
        index.levels = per_level;
        index.edges.shrink_to_fit();
        let deepest_level = inputs.iter().map(|i| i.level).max();
        let tiles = Tiles::build(
            inputs.iter().map(|i| &i.geometry),
            inputs.iter().filter(|i| Some(i.level) == deepest_level).map(|i| &i.geometry),
            |x, y| index.deepest_by_cell(x, y),
        );
        index.tiles = tiles;
        Ok(index)
    }

    fn add_area(
        &mut self,
        idx: u32,
        input: &AreaInput,
        res: Resolution,
        grow: f64,
        cells: &mut Building,
    ) -> Result<(), IndexError> {
        let geo_err = |message: String| IndexError::Geometry { code: input.code.clone(), message };
        let mut tiler = TilerBuilder::new(res).containment_mode(ContainmentMode::Covers).build();
        tiler.add_batch(input.geometry.0.iter().cloned()).map_err(|e| geo_err(e.to_string()))?;
        let cover: Vec<CellIndex> = tiler.into_coverage().collect();
        let edges = ring_edges(&input.geometry);
        let cell_size = res.edge_length_km() / 111.0 * 2.0;
        let grid = EdgeGrid::new(&edges, cell_size.max(1e-5) * 4.0);
        let bbox = f32_box(&input.geometry);
        let shared = (edges.len() <= SHARED_OUTLINE_MAX_EDGES).then(|| {
            let start = u32::try_from(self.edges.len()).unwrap_or(u32::MAX);
            self.edges.extend_from_slice(&edges);
            (start, u32::try_from(edges.len()).unwrap_or(u32::MAX))
        });
        let mut seen: FxHashSet<u64> = cover.iter().map(|c| u64::from(*c)).collect();
        let mut queue: Vec<CellIndex> = cover;
        let mut near = Vec::new();
        while let Some(cell) = queue.pop() {
            let center: Coord<f64> = {
                let ll = LatLng::from(cell);
                Coord { x: ll.lng(), y: ll.lat() }
            };
            let hex = Hexagon::of_cell(cell, center, grow);
            grid.near(&hex, &mut near);
            let local: Vec<Edge> = near.iter().map(|&i| edges[i as usize]).filter(|e| hex.touches(e)).collect();
            let key = u64::from(cell);
            if local.is_empty() {
                if input.geometry.contains(&Point(center)) {
                    cells.entry(key).or_default().push(Part::inside_only(idx));
                }
                continue;
            }
            let (center, center_inside) = reference_point(&input.geometry, center, &local);
            let range = match shared {
                Some(r) => r,
                None => {
                    let start = u32::try_from(self.edges.len()).unwrap_or(u32::MAX);
                    self.edges.extend_from_slice(&local);
                    (start, u32::try_from(local.len()).unwrap_or(u32::MAX))
                }
            };
            let part = Part::new(idx, center, center_inside, range, bbox);
            cells.entry(key).or_default().push(part);
            // A crossed cell's neighbours are classified too, so no cell the polygon reaches is
            // missed where H3's geodesic cell edges and planar polygon edges disagree.
            for n in cell.grid_disk::<Vec<_>>(1) {
                if seen.insert(u64::from(n)) {
                    queue.push(n);
                }
            }
        }
        Ok(())
    }

    /// The chain of areas containing the point, from the top level down to the deepest one.
    pub fn lookup(&self, lng: f64, lat: f64) -> Chain<'_> {
        match self.deepest(lng, lat) {
            Some(idx) => self.ancestry(idx),
            None => Chain::default(),
        }
    }

    /// The deepest area containing the point (exact), without building the chain.
    pub fn deepest(&self, lng: f64, lat: f64) -> Option<u32> {
        match self.tiles.as_ref().and_then(|t| t.get(lng, lat)) {
            Some(known) => known,
            None => self.deepest_by_cell(lng, lat),
        }
    }

    /// The same answer through the point's H3 cells (exact everywhere; the tiles' fallback).
    fn deepest_by_cell(&self, lng: f64, lat: f64) -> Option<u32> {
        let finest = self.finest?;
        let base = LatLng::new(lat, lng).ok()?.to_cell(finest);
        let p = Coord { x: lng, y: lat };
        // Look every level's cell up before examining any: the probes are independent, so their
        // cache misses overlap instead of queueing one behind another.
        let mut found = [None::<u64>; 7];
        for (slot, (_, level)) in found.iter_mut().zip(&self.levels) {
            // One point-to-cell conversion, then parents (bit operations). A parent's region (the
            // union of its descendants) is not its hexagon; see `PARENT_REGION_GROWTH`.
            *slot = base.parent(level.res).and_then(|cell| level.cells.get(&u64::from(cell)).copied());
        }
        for (value, (_, level)) in found.into_iter().zip(&self.levels) {
            let Some(value) = value else { continue };
            if value & CELL_INSIDE != 0 {
                return u32::try_from(value & !CELL_INSIDE).ok();
            }
            let (start, len) = ((value & 0xffff_ffff) as usize, (value >> 32) as usize);
            for part in &level.parts[start..start + len] {
                if !part.may_hold(p) {
                    continue;
                }
                let n = part.edges_len();
                let hit = if n == 0 {
                    part.center_inside()
                } else {
                    let s = part.edges_start as usize;
                    settle(part.center(), part.center_inside(), p, &self.edges[s..s + n as usize]).unwrap_or(false)
                };
                // Parts come deepest level first; among overlapping siblings (within the import
                // tolerance) the first imported, so the answer is deterministic.
                if hit {
                    return Some(part.area);
                }
            }
        }
        None
    }

    pub fn ancestry(&self, idx: u32) -> Chain<'_> {
        let mut chain = Chain::default();
        if let Some(c) = self.chains.get(idx as usize) {
            for &a in c.iter().take_while(|&&a| a != NO_AREA) {
                chain.areas[chain.len] = &self.areas[a as usize];
                chain.len += 1;
            }
        }
        chain
    }

    /// The area's place in the index (stable while this index is served).
    pub fn index_of(&self, code: &str) -> Option<u32> {
        self.by_code.get(code).copied()
    }

    /// Whether `ancestor` is `area` or lies above it (by places in the index).
    pub fn holds(&self, ancestor: u32, area: u32) -> bool {
        self.chains.get(area as usize).is_some_and(|c| c.contains(&ancestor))
    }

    pub fn get(&self, code: &str) -> Option<&AreaInfo> {
        self.by_code.get(code).map(|&i| &self.areas[i as usize])
    }

    pub fn parent_of(&self, code: &str) -> Option<&AreaInfo> {
        self.get(code)?.parent.map(|p| &self.areas[p as usize])
    }

    pub fn children_of(&self, code: &str) -> Vec<&AreaInfo> {
        self.get(code).map(|a| a.children.iter().map(|&c| &self.areas[c as usize]).collect()).unwrap_or_default()
    }

    /// The codes of `code`, the areas above it and every area below it: where a grant must lie to
    /// reach into or over the area (empty for an unknown code).
    pub fn line_of(&self, code: &str) -> Vec<&str> {
        let Some(&start) = self.by_code.get(code) else { return vec![] };
        let mut out = vec![];
        let mut up = self.areas[start as usize].parent;
        while let Some(p) = up {
            out.push(self.areas[p as usize].code.as_str());
            up = self.areas[p as usize].parent;
        }
        out.extend(self.under(start).into_iter().map(|i| self.areas[i as usize].code.as_str()));
        out
    }

    /// `start` and every area below it.
    fn under(&self, start: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            out.push(i);
            stack.extend(self.areas[i as usize].children.iter().copied());
        }
        out
    }

    pub fn all(&self) -> impl Iterator<Item = &AreaInfo> {
        self.areas.iter()
    }

    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// Approximate heap bytes held by the index (hash tables at capacity, parts, edges, names).
    pub fn memory_bytes(&self) -> usize {
        let mut total = self.edges.capacity() * std::mem::size_of::<Edge>();
        total += self.areas.capacity() * std::mem::size_of::<AreaInfo>();
        for a in &self.areas {
            total += a.code.capacity() + a.name.capacity() + a.children.capacity() * 4;
        }
        total += self.by_code.capacity() * (std::mem::size_of::<(String, u32)>() + 1);
        total += self.chains.capacity() * std::mem::size_of::<[u32; 7]>();
        for (_, level) in &self.levels {
            total += level.cells.capacity() * (std::mem::size_of::<(u64, u64)>() + 1);
            total += level.parts.capacity() * std::mem::size_of::<Part>();
        }
        total + self.tiles.as_ref().map_or(0, Tiles::memory_bytes)
    }

    /// The share of the map's extent answered by the tiles alone (statistics).
    pub fn tiles_answered_share(&self) -> f64 {
        self.tiles.as_ref().map_or(0.0, Tiles::answered_share)
    }

    /// Per level: cells, boundary parts, and edge copies those parts hold.
    pub fn level_stats(&self) -> Vec<(AreaLevel, usize, usize, usize)> {
        self.levels
            .iter()
            .map(|(l, idx)| {
                (*l, idx.cells.len(), idx.parts.len(), idx.parts.iter().map(|p| p.edges_len() as usize).sum())
            })
            .collect()
    }
}

/// A reference point for a crossed cell: the cell centre, nudged if it lies exactly on an edge.
fn reference_point(geometry: &MultiPolygon<f64>, center: Coord<f64>, local: &[Edge]) -> (Coord<f64>, bool) {
    // Parts keep the point as f32: decide on exactly the rounded point that will be stored.
    #[allow(clippy::cast_possible_truncation)]
    let round = |c: Coord<f64>| Coord { x: f64::from(c.x as f32), y: f64::from(c.y as f32) };
    let center = round(center);
    let mut c = center;
    let scale = geometry.bounding_rect().map_or(1e-6, |r| (r.width() + r.height()) * 1e-9 + 1e-12);
    for i in 0..16 {
        let on_edge = local.iter().any(|e| orient(e.a, e.b, c) == 0.0 && within_box(e, c));
        if !on_edge {
            break;
        }
        c = round(Coord {
            x: center.x + scale.max(1e-5) * f64::from(i + 1),
            y: center.y + scale.max(1e-5) * 0.7 * f64::from(i + 1),
        });
    }
    (c, geometry.contains(&Point(c)))
}

fn within_box(e: &Edge, c: Coord<f64>) -> bool {
    c.x >= e.a.x.min(e.b.x) && c.x <= e.a.x.max(e.b.x) && c.y >= e.a.y.min(e.b.y) && c.y <= e.a.y.max(e.b.y)
}

impl AreaTree for AreaIndex {
    fn is_within(&self, area: &AreaCode, ancestor: &AreaCode) -> bool {
        if area == ancestor {
            return true;
        }
        let Some(&target) = self.by_code.get(ancestor.as_str()) else { return false };
        let mut cur = self.by_code.get(area.as_str()).and_then(|&i| self.areas[i as usize].parent);
        while let Some(i) = cur {
            if i == target {
                return true;
            }
            cur = self.areas[i as usize].parent;
        }
        false
    }

    fn subtree(&self, root: &AreaCode) -> Vec<AreaCode> {
        let Some(&start) = self.by_code.get(root.as_str()) else { return vec![root.clone()] };
        self.under(start).into_iter().filter_map(|i| AreaCode::parse(&self.areas[i as usize].code).ok()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon, polygon};

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
    }

    fn input(code: &str, level: AreaLevel, parent: Option<&str>, g: MultiPolygon<f64>) -> AreaInput {
        AreaInput { code: code.into(), name: code.into(), level, parent_code: parent.map(Into::into), geometry: g }
    }

    #[test]
    fn settle_counts_crossings_and_vertices_once() {
        let sq = square(0.0, 0.0, 1.0, 1.0);
        let edges = ring_edges(&MultiPolygon(vec![sq]));
        let c = Coord { x: 0.5, y: 0.5 };
        assert_eq!(settle(c, true, Coord { x: 0.9, y: 0.9 }, &edges), Some(true));
        assert_eq!(settle(c, true, Coord { x: 1.1, y: 0.5 }, &edges), Some(false));
        // Through a vertex exactly: (0.5,0.5) → (1.5,1.5) passes the corner (1,1).
        assert_eq!(settle(c, true, Coord { x: 1.5, y: 1.5 }, &edges), Some(false));
        assert_eq!(settle(c, true, Coord { x: 1.0, y: 0.5 }, &edges), None);
    }

    #[test]
    fn tiles_answer_like_the_cells_near_every_edge_and_for_areas_smaller_than_a_tile() {
        let outer =
            LineString::from(vec![(114.30, 30.50), (114.40, 30.50), (114.40, 30.60), (114.30, 30.60), (114.30, 30.50)]);
        let hole =
            LineString::from(vec![(114.34, 30.54), (114.36, 30.54), (114.36, 30.56), (114.34, 30.56), (114.34, 30.54)]);
        let mut inputs = vec![
            input("D", AreaLevel::District, None, MultiPolygon(vec![Polygon::new(outer, vec![hole])])),
            input("S", AreaLevel::Street, Some("D"), MultiPolygon(vec![square(114.30, 30.50, 114.35, 30.60)])),
            // A slanted grid, so edges cross tiles at every angle.
            input(
                "G",
                AreaLevel::Grid,
                Some("S"),
                MultiPolygon(vec![Polygon::new(
                    LineString::from(vec![
                        (114.31, 30.51),
                        (114.345, 30.52),
                        (114.33, 30.59),
                        (114.305, 30.56),
                        (114.31, 30.51),
                    ]),
                    vec![],
                )]),
            ),
        ];
        // Buildings of 3 m and of 30 cm: far smaller than a tile (the grid's size / 24).
        for (k, size) in [(0, 0.00003), (1, 0.000003)] {
            let (x, y) = (114.32 + 0.001 * f64::from(k), 30.53);
            inputs.push(input(
                &format!("B{k}"),
                AreaLevel::Building,
                Some("G"),
                MultiPolygon(vec![square(x, y, x + size, y + size)]),
            ));
        }
        let index = AreaIndex::build(&inputs).unwrap();
        assert!(index.tiles_answered_share() > 0.5, "{}", index.tiles_answered_share());
        let b1 = index.get("B1").map(|_| index.by_code["B1"]);
        assert_eq!(index.deepest(114.321 + 0.0000015, 30.5300015), b1, "inside the 30 cm building");
        assert_eq!(index.deepest(114.321 + 0.0000035, 30.5300015), Some(index.by_code["G"]), "just beside it");
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let vertices: Vec<Coord<f64>> =
            inputs.iter().flat_map(|i| i.geometry.0.iter().flat_map(|p| p.exterior().0.clone())).collect();
        for _ in 0..200_000 {
            // Anywhere, or within 5 cm of an edge (consecutive vertices; a ring's last and the next
            // ring's first make a chord, which does no harm).
            let p = if next() < 0.5 {
                Coord { x: 114.29 + next() * 0.12, y: 30.49 + next() * 0.12 }
            } else {
                let i = (next() * (vertices.len() - 1) as f64) as usize;
                let (a, b) = (vertices[i], vertices[i + 1]);
                let t = next();
                let jitter = (next() - 0.5) * 1e-6;
                Coord { x: a.x + t * (b.x - a.x) + jitter, y: a.y + t * (b.y - a.y) - jitter }
            };
            assert_eq!(index.deepest(p.x, p.y), index.deepest_by_cell(p.x, p.y), "{p:?}");
        }
        assert_eq!(index.deepest(f64::NAN, 30.55), None);
    }

    #[test]
    fn lookups_match_containment_with_holes_and_near_boundaries() {
        let outer =
            LineString::from(vec![(114.30, 30.50), (114.40, 30.50), (114.40, 30.60), (114.30, 30.60), (114.30, 30.50)]);
        let hole =
            LineString::from(vec![(114.34, 30.54), (114.36, 30.54), (114.36, 30.56), (114.34, 30.56), (114.34, 30.54)]);
        let district = MultiPolygon(vec![Polygon::new(outer, vec![hole])]);
        let west = MultiPolygon(vec![square(114.30, 30.50, 114.35, 30.60)]);
        let inputs = vec![
            input("D", AreaLevel::District, None, district.clone()),
            input("S1", AreaLevel::Street, Some("D"), west.clone()),
        ];
        let index = AreaIndex::build(&inputs).unwrap();
        let codes = |lng, lat| index.lookup(lng, lat).iter().map(|a| a.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes(114.31, 30.51), ["D", "S1"]);
        assert_eq!(codes(114.38, 30.51), ["D"]);
        assert!(codes(114.355, 30.55).is_empty(), "in the hole");
        assert!(codes(114.45, 30.55).is_empty(), "outside");
        // 1 cm either side of the street's east edge (≈ 1e-7° of longitude).
        assert_eq!(codes(114.35 - 1e-7, 30.58), ["D", "S1"]);
        assert_eq!(codes(114.35 + 1e-7, 30.58), ["D"]);
        // Either side of the hole's east edge.
        assert!(codes(114.36 - 1e-7, 30.55).is_empty());
        assert_eq!(codes(114.36 + 1e-7, 30.55), ["D"]);
        // A sweep against plain containment.
        for i in 0..200 {
            for j in 0..200 {
                let (lng, lat) = (114.295 + f64::from(i) * 0.00055, 30.495 + f64::from(j) * 0.00055);
                let p = Point::new(lng, lat);
                let want = if west.contains(&p) {
                    2
                } else if district.contains(&p) {
                    1
                } else {
                    0
                };
                assert_eq!(codes(lng, lat).len(), want, "at {lng},{lat}");
            }
        }
    }

    #[test]
    fn tree_answers_scope_questions() {
        let inputs = vec![
            input("D", AreaLevel::District, None, MultiPolygon(vec![square(0.0, 0.0, 1.0, 1.0)])),
            input("S", AreaLevel::Street, Some("D"), MultiPolygon(vec![square(0.0, 0.0, 0.5, 0.5)])),
            input("C", AreaLevel::Community, Some("S"), MultiPolygon(vec![square(0.0, 0.0, 0.1, 0.1)])),
        ];
        let index = AreaIndex::build(&inputs).unwrap();
        let code = |s: &str| AreaCode::parse(s).unwrap();
        assert!(index.is_within(&code("C"), &code("D")));
        assert!(index.is_within(&code("C"), &code("C")));
        assert!(!index.is_within(&code("D"), &code("C")));
        assert!(!index.is_within(&code("X"), &code("D")));
        let mut sub: Vec<String> = index.subtree(&code("S")).into_iter().map(String::from).collect();
        sub.sort();
        assert_eq!(sub, ["C", "S"]);
    }

    #[test]
    fn a_line_is_the_area_above_and_below_but_not_beside() {
        let inputs = vec![
            input("D", AreaLevel::District, None, MultiPolygon(vec![square(0.0, 0.0, 1.0, 1.0)])),
            input("S", AreaLevel::Street, Some("D"), MultiPolygon(vec![square(0.0, 0.0, 0.5, 0.5)])),
            input("S2", AreaLevel::Street, Some("D"), MultiPolygon(vec![square(0.5, 0.5, 1.0, 1.0)])),
            input("C", AreaLevel::Community, Some("S"), MultiPolygon(vec![square(0.0, 0.0, 0.1, 0.1)])),
            input("G", AreaLevel::Grid, Some("C"), MultiPolygon(vec![square(0.0, 0.0, 0.05, 0.05)])),
        ];
        let index = AreaIndex::build(&inputs).unwrap();
        let mut line = index.line_of("S");
        line.sort_unstable();
        assert_eq!(line, ["C", "D", "G", "S"]);
        assert!(index.line_of("nowhere").is_empty());
    }
}
