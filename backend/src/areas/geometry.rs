//! Geometry helpers for the area map: validity with a location, repair, CRS conversion, areas.

use geo::algorithm::line_intersection::{LineIntersection, line_intersection};
use geo::{BooleanOps, Coord, Line, LineString, MapCoords, MultiPolygon, Polygon, unary_union};
use gridwork_mobile_core::domain::crs::Crs;

/// A defect found in a geometry, with where it is (lng, lat) when that can be said.
#[derive(Debug, Clone, PartialEq)]
pub struct Defect {
    pub kind: &'static str,
    pub message: String,
    pub location: Option<(f64, f64)>,
}

pub fn to_wgs84(g: &MultiPolygon<f64>, crs: Crs) -> MultiPolygon<f64> {
    if crs == Crs::Wgs84 {
        return g.clone();
    }
    g.map_coords(|c| {
        let (x, y) = crs.to_wgs84(c.x, c.y);
        Coord { x, y }
    })
}

/// Area in m², from the planar ring areas scaled at each ring's latitude. Orientation-free and
/// stable on the slivers boolean operations produce (a geodesic area reads a clockwise or
/// degenerate ring as the rest of the globe); within 0.5% at city scale, which is what
/// tolerances and reports need.
pub fn area_m2(g: &MultiPolygon<f64>) -> f64 {
    fn ring_m2(ring: &LineString<f64>) -> f64 {
        let n = ring.0.len();
        if n < 4 {
            return 0.0;
        }
        let lat0 = ring.0.iter().map(|c| c.y).sum::<f64>() / n as f64;
        let kx = 111_320.0 * lat0.to_radians().cos();
        let ky = 110_574.0;
        let twice: f64 =
            ring.lines().map(|l| (l.start.x * kx) * (l.end.y * ky) - (l.end.x * kx) * (l.start.y * ky)).sum();
        (twice / 2.0).abs()
    }
    g.0.iter().map(|p| (ring_m2(p.exterior()) - p.interiors().iter().map(ring_m2).sum::<f64>()).max(0.0)).sum()
}

/// Coordinates must be finite and on the globe. Checked first: nothing else is meaningful otherwise.
pub fn coordinate_defects(g: &MultiPolygon<f64>) -> Vec<Defect> {
    let mut out = Vec::new();
    for poly in &g.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            if let Some(c) =
                ring.coords().find(|c| !c.x.is_finite() || !c.y.is_finite() || c.x.abs() > 180.0 || c.y.abs() > 90.0)
            {
                out.push(Defect {
                    kind: "coordinate_out_of_range",
                    message: format!("coordinate ({}, {}) is not a longitude/latitude pair", c.x, c.y),
                    location: None,
                });
                return out;
            }
        }
    }
    out
}

/// Where two segments meet, if they do (the start of a shared stretch for collinear ones).
fn meeting_point(a: Line<f64>, b: Line<f64>) -> Option<(f64, f64)> {
    match line_intersection(a, b)? {
        LineIntersection::SinglePoint { intersection, .. } => Some((intersection.x, intersection.y)),
        LineIntersection::Collinear { intersection } => Some((intersection.start.x, intersection.start.y)),
    }
}

/// Validity problems of each polygon (OGC rules: closed rings, no self-intersections, holes
/// inside, parts not overlapping).
pub fn validity_defects(g: &MultiPolygon<f64>) -> Vec<Defect> {
    let mut out = Vec::new();
    if g.0.is_empty() {
        out.push(Defect { kind: "empty_geometry", message: "the geometry has no polygon".into(), location: None });
        return out;
    }
    for (pi, poly) in g.0.iter().enumerate() {
        for problem in super::validity::polygon_errors(poly) {
            let message = if g.0.len() > 1 { format!("part {pi}: {problem}") } else { problem.to_string() };
            let (kind, location) = match problem {
                geo::algorithm::validation::InvalidPolygon::SelfIntersection(_) => {
                    let loc = std::iter::once(poly.exterior())
                        .chain(poly.interiors())
                        .find_map(super::validity::ring_self_intersection);
                    ("self_intersection", loc)
                }
                geo::algorithm::validation::InvalidPolygon::TooFewPointsInRing(_) => ("too_few_points", None),
                _ => ("invalid_rings", None),
            };
            let location = location.or_else(|| poly.exterior().0.first().map(|c| (c.x, c.y)));
            out.push(Defect { kind, message, location });
        }
    }
    if out.is_empty() {
        use geo::algorithm::validation::InvalidMultiPolygon;
        for problem in super::validity::multipolygon_errors(g) {
            let (kind, pair) = match &problem {
                InvalidMultiPolygon::ElementsTouchOnALine(a, b) => ("parts_touch_on_a_line", Some((a.0, b.0))),
                InvalidMultiPolygon::ElementsOverlaps(a, b) => ("overlapping_parts", Some((a.0, b.0))),
                InvalidMultiPolygon::InvalidPolygon(..) => ("invalid_rings", None),
            };
            let location = pair.and_then(|(a, b)| rings_meet(&g.0[a], &g.0[b]));
            out.push(Defect { kind, message: problem.to_string(), location });
        }
    }
    out
}

/// A point where the outlines of two polygons meet (to say where two parts touch or overlap).
fn rings_meet(a: &Polygon<f64>, b: &Polygon<f64>) -> Option<(f64, f64)> {
    use geo::{BoundingRect, Intersects};
    let bb = b.bounding_rect()?;
    let lines_b: Vec<Line<f64>> = b.exterior().lines().collect();
    for la in a.exterior().lines().filter(|l| l.bounding_rect().intersects(&bb)) {
        let ra = la.bounding_rect();
        for lb in lines_b.iter().filter(|l| l.bounding_rect().intersects(&ra)) {
            if let Some(at) = meeting_point(la, *lb) {
                return Some(at);
            }
        }
    }
    None
}

/// OGC validity, in O(n log n) (`validity`), not geo's quadratic check.
pub fn is_valid(g: &MultiPolygon<f64>) -> bool {
    use super::validity::{multipolygon_errors, polygon_errors};
    g.0.iter().all(|p| polygon_errors(p).is_empty()) && multipolygon_errors(g).is_empty()
}

/// Rebuilds the area a geometry's rings draw under the even-odd rule: a self-intersecting outline
/// becomes the valid polygon(s) it encloses, and a hole delivered as a separate part (as some
/// published district files do) is punched out of the part around it.
pub fn repair(g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    if is_valid(g) {
        return g.clone();
    }
    settle_touching_rings(g.union(&MultiPolygon::<f64>::new(vec![])))
}

/// The overlay may keep a ring that touches itself at a vertex (a figure-eight drawn through one
/// point), which OGC rules call invalid; split such rings into simple loops and nest them again.
fn settle_touching_rings(g: MultiPolygon<f64>) -> MultiPolygon<f64> {
    if is_valid(&g) { g } else { untangle(&g) }
}

/// Splits every ring at vertices it passes through twice, then rebuilds polygons: a loop inside
/// another becomes its hole, the rest become polygons of their own.
fn untangle(g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::{Area, Contains, InteriorPoint};
    let mut loops: Vec<LineString<f64>> = Vec::new();
    for poly in &g.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            loops.extend(split_ring(ring));
        }
    }
    let mut shells: Vec<(Polygon<f64>, f64)> = loops
        .into_iter()
        .map(|l| {
            let p = Polygon::new(l, vec![]);
            let a = p.unsigned_area();
            (p, a)
        })
        .filter(|(_, a)| *a > 0.0)
        .collect();
    shells.sort_by(|a, b| b.1.total_cmp(&a.1));
    // Even-odd nesting: a loop inside an odd number of larger loops is a hole.
    let mut out: Vec<Polygon<f64>> = Vec::new();
    for i in 0..shells.len() {
        let Some(probe) = shells[i].0.interior_point() else { continue };
        let containers: Vec<usize> = (0..i).filter(|&j| shells[j].0.contains(&probe)).collect();
        if containers.len().is_multiple_of(2) {
            out.push(shells[i].0.clone());
        } else if let Some(&owner) = containers.last() {
            let hole = shells[i].0.exterior().clone();
            let owner_ring = shells[owner].0.exterior().clone();
            if let Some(poly) = out.iter_mut().find(|p| *p.exterior() == owner_ring) {
                poly.interiors_push(hole);
            }
        }
    }
    MultiPolygon(out)
}

fn split_ring(ring: &LineString<f64>) -> Vec<LineString<f64>> {
    let mut out = Vec::new();
    let mut path: Vec<Coord<f64>> = Vec::new();
    for &p in ring.0.iter().take(ring.0.len().saturating_sub(1)) {
        if let Some(pos) = path.iter().position(|q| *q == p) {
            let mut lp: Vec<Coord<f64>> = path.split_off(pos);
            lp.push(p);
            if lp.len() >= 4 {
                out.push(LineString(lp));
            }
        }
        path.push(p);
    }
    if let Some(first) = path.first().copied() {
        path.push(first);
        if path.len() >= 4 {
            out.push(LineString(path));
        }
    }
    out
}

/// Dissolves parts that share edges or overlap into one valid multipolygon.
pub fn merge(parts: &[Polygon<f64>]) -> MultiPolygon<f64> {
    if parts.len() == 1 {
        return MultiPolygon(parts.to_vec());
    }
    settle_touching_rings(unary_union(parts.iter()))
}

/// Area (m²) of `a` outside `b`.
pub fn outside_m2(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    area_m2(&a.difference(b))
}

pub fn overlap_m2(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    area_m2(&a.intersection(b))
}

/// A circle of `radius_m` around a point, for buildings known only by a point.
pub fn circle(lng: f64, lat: f64, radius_m: f64) -> Polygon<f64> {
    let dlat = radius_m / 111_320.0;
    let dlng = radius_m / (111_320.0 * lat.to_radians().cos().max(1e-6));
    let mut pts: Vec<Coord<f64>> = (0..32)
        .map(|i| {
            let t = f64::from(i) / 32.0 * std::f64::consts::TAU;
            Coord { x: lng + dlng * t.cos(), y: lat + dlat * t.sin() }
        })
        .collect();
    if let Some(first) = pts.first().copied() {
        pts.push(first);
    }
    Polygon::new(LineString(pts), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Validation;
    use geo::polygon;

    #[test]
    fn bowties_are_found_located_and_repaired() {
        let bowtie = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)];
        let g = MultiPolygon(vec![bowtie]);
        let defects = validity_defects(&g);
        assert_eq!(defects[0].kind, "self_intersection");
        let (x, y) = defects[0].location.unwrap();
        assert!((x - 0.5).abs() < 1e-9 && (y - 0.5).abs() < 1e-9);
        let fixed = repair(&g);
        assert!(fixed.is_valid());
        assert_eq!(fixed.0.len(), 2);
        assert!(validity_defects(&fixed).is_empty());
    }

    #[test]
    fn rings_through_one_vertex_twice_are_untangled() {
        // A square with a small loop hanging off its corner (2,2): drawn as one ring.
        let ring = LineString::from(vec![
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 2.0),
            (3.0, 2.0),
            (3.0, 3.0),
            (2.0, 3.0),
            (2.0, 2.0),
            (0.0, 2.0),
            (0.0, 0.0),
        ]);
        let g = MultiPolygon(vec![Polygon::new(ring, vec![])]);
        assert!(!g.is_valid());
        let fixed = repair(&g);
        assert!(fixed.is_valid(), "{fixed:?}");
        assert_eq!(fixed.0.len(), 2);
        assert!((geo::Area::unsigned_area(&fixed) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn merging_adjacent_parts_dissolves_the_shared_edge() {
        let a = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)];
        let b = polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.0)];
        let m = merge(&[a, b]);
        assert_eq!(m.0.len(), 1);
        assert!(m.is_valid());
    }

    #[test]
    fn out_of_range_coordinates_are_caught() {
        let bad = polygon![(x: 0.0, y: 0.0), (x: 181.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
        assert_eq!(coordinate_defects(&MultiPolygon(vec![bad]))[0].kind, "coordinate_out_of_range");
    }
}
