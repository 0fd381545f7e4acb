//! A plain latitude/longitude raster over the map that answers most lookups in one memory read.
//!
//! Every boundary of every area, at every level, is drawn onto the raster conservatively: a tile
//! that any edge comes within [`MARGIN`] of is *mixed*. A tile no edge touches lies wholly inside
//! the same areas as its centre, so it keeps the index's own answer for its centre (the deepest
//! area, or none). A point in such a tile is answered from it; a point in a mixed tile goes on to
//! the H3 index, which is exact everywhere. Neighbouring untouched tiles of a row share an answer
//! (no boundary runs between them), so the index is asked once per run, not once per tile.
//!
//! Why: turning a point into an H3 cell costs a few hundred nanoseconds of trigonometry; most
//! points of a city lie well inside their building, compound or grid.

use geo::{BoundingRect, Coord, MultiPolygon};

/// A tile that an edge comes near: the H3 index answers.
const MIXED: u32 = u32::MAX;
/// A tile inside no area.
const OUTSIDE: u32 = u32::MAX - 1;
/// Not yet known while building.
const PENDING: u32 = u32::MAX - 2;
/// How near (degrees, about 0.1 mm) an edge may come for a tile to count as touched: far above the
/// rounding of a tile's bounds, so a point that rounds into a neighbouring tile cannot cross an
/// edge on the way.
const MARGIN: f64 = 1e-9;
/// At most this many tiles (4 bytes each): 48 MB.
const MAX_TILES: usize = 12 << 20;
/// Tiles per side of the deepest level's median area: smaller tiles leave fewer points mixed.
const TILES_PER_AREA_SIDE: f64 = 24.0;
const METRES_PER_DEGREE: f64 = 111_320.0;

#[derive(Debug)]
pub(super) struct Tiles {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    dx: f64,
    dy: f64,
    cols: usize,
    rows: usize,
    tiles: Vec<u32>,
}

impl Tiles {
    /// The raster for these outlines; `finest` are the deepest level's outlines (they set the
    /// tile size); `deepest` is the index's answer for a point. `None` for an empty map.
    pub(super) fn build<'a>(
        outlines: impl Iterator<Item = &'a MultiPolygon<f64>> + Clone,
        finest: impl Iterator<Item = &'a MultiPolygon<f64>>,
        deepest: impl Fn(f64, f64) -> Option<u32>,
    ) -> Option<Self> {
        let boxes: Vec<geo::Rect<f64>> = outlines.clone().filter_map(BoundingRect::bounding_rect).collect();
        let first = boxes.first()?;
        let (mut x0, mut y0, mut x1, mut y1) = (first.min().x, first.min().y, first.max().x, first.max().y);
        for b in &boxes {
            (x0, y0, x1, y1) = (x0.min(b.min().x), y0.min(b.min().y), x1.max(b.max().x), y1.max(b.max().y));
        }
        let cos = ((y0 + y1) / 2.0).to_radians().cos().max(0.01);
        let mut sides: Vec<f64> = finest
            .filter_map(BoundingRect::bounding_rect)
            .map(|r| (r.width() * cos * METRES_PER_DEGREE * r.height() * METRES_PER_DEGREE).sqrt())
            .filter(|s| s.is_finite() && *s > 0.0)
            .collect();
        sides.sort_by(f64::total_cmp);
        let median = *sides.get(sides.len() / 2)?;
        let (w, h) = ((x1 - x0) * cos * METRES_PER_DEGREE, (y1 - y0) * METRES_PER_DEGREE);
        let mut side = (median / TILES_PER_AREA_SIDE).max(1.0);
        // Within the memory bound, whatever the extent.
        side = side.max((w * h / MAX_TILES as f64).sqrt() * 1.01);
        let (dx, dy) = (side / (cos * METRES_PER_DEGREE), side / METRES_PER_DEGREE);
        let cols = (((x1 - x0) / dx).ceil() as usize).max(1);
        let rows = (((y1 - y0) / dy).ceil() as usize).max(1);
        if cols.checked_mul(rows)? > MAX_TILES * 2 {
            return None;
        }
        let mut t = Self { x0, y0, x1, y1, dx, dy, cols, rows, tiles: vec![PENDING; cols * rows] };
        for g in outlines {
            for poly in &g.0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    for seg in ring.0.windows(2) {
                        t.touch(seg[0], seg[1]);
                    }
                }
            }
        }
        t.fill(deepest);
        Some(t)
    }

    fn col(&self, x: f64) -> usize {
        (((x - self.x0) / self.dx).floor().max(0.0) as usize).min(self.cols - 1)
    }

    fn row(&self, y: f64) -> usize {
        (((y - self.y0) / self.dy).floor().max(0.0) as usize).min(self.rows - 1)
    }

    /// Marks every tile the segment comes within `MARGIN` of (a supercover, column by column).
    fn touch(&mut self, a: Coord<f64>, b: Coord<f64>) {
        let (xa, xb) = (a.x.min(b.x) - MARGIN, a.x.max(b.x) + MARGIN);
        let y_at = |x: f64| {
            if (b.x - a.x).abs() < f64::EPSILON {
                return (a.y.min(b.y), a.y.max(b.y));
            }
            let t = ((x - a.x) / (b.x - a.x)).clamp(0.0, 1.0);
            let y = a.y + t * (b.y - a.y);
            (y, y)
        };
        for c in self.col(xa)..=self.col(xb) {
            let left = (self.x0 + c as f64 * self.dx).max(xa);
            let right = (self.x0 + (c + 1) as f64 * self.dx).min(xb);
            let (l0, l1) = y_at(left);
            let (r0, r1) = y_at(right);
            let (lo, hi) = (l0.min(r0) - MARGIN, l1.max(r1) + MARGIN);
            for r in self.row(lo)..=self.row(hi) {
                self.tiles[r * self.cols + c] = MIXED;
            }
        }
    }

    fn fill(&mut self, deepest: impl Fn(f64, f64) -> Option<u32>) {
        for r in 0..self.rows {
            let mut c = 0;
            while c < self.cols {
                if self.tiles[r * self.cols + c] != PENDING {
                    c += 1;
                    continue;
                }
                let x = self.x0 + (c as f64 + 0.5) * self.dx;
                let y = self.y0 + (r as f64 + 0.5) * self.dy;
                let answer = deepest(x, y).unwrap_or(OUTSIDE);
                while c < self.cols && self.tiles[r * self.cols + c] == PENDING {
                    self.tiles[r * self.cols + c] = answer;
                    c += 1;
                }
            }
        }
    }

    /// The answer for a point if its tile knows it: `Some(None)` inside no area (also beyond the
    /// map's extent), `None` when the H3 index must decide (a mixed tile, or not a number).
    #[inline]
    pub(super) fn get(&self, x: f64, y: f64) -> Option<Option<u32>> {
        if !(x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1) {
            // Beyond every outline's box (or NaN, which the index refuses on its own).
            return (x.is_finite() && y.is_finite()).then_some(None);
        }
        match self.tiles[self.row(y) * self.cols + self.col(x)] {
            MIXED => None,
            OUTSIDE => Some(None),
            a => Some(Some(a)),
        }
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.tiles.capacity() * 4
    }

    /// Share of tiles that answer on their own (statistics).
    pub(super) fn answered_share(&self) -> f64 {
        self.tiles.iter().filter(|&&t| t != MIXED).count() as f64 / self.tiles.len() as f64
    }
}
