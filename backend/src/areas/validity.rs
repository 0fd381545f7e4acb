//! OGC validity of outlines in O(n log n): geo's `Validation` finds ring self-intersections by
//! comparing every segment with every other (a 40,000-vertex district took 34 s), so the ring
//! test here is a sweep over segments sorted by x, and the part-against-part checks run only for
//! parts whose bounding boxes meet. The answers are geo's: the same error values, the same
//! rules for which touching segments count.

use geo::algorithm::validation::{CoordIndex, GeometryIndex, InvalidMultiPolygon, InvalidPolygon, RingRole};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{BoundingRect, Coord, Intersects, Line, LineString, MultiPolygon, Polygon, Relate};

/// Where two segments of `ring` meet other than at the vertex they share, if anywhere. Segments
/// are swept left to right; each is compared only with those whose x-range it overlaps.
pub fn ring_self_intersection(ring: &LineString<f64>) -> Option<(f64, f64)> {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    let mut order: Vec<usize> = (0..lines.len()).collect();
    let min_x = |l: &Line<f64>| l.start.x.min(l.end.x);
    let max_x = |l: &Line<f64>| l.start.x.max(l.end.x);
    order.sort_by(|a, b| min_x(&lines[*a]).total_cmp(&min_x(&lines[*b])));
    // Segments whose x-range still reaches the sweep position.
    let mut active: Vec<usize> = Vec::new();
    for &i in &order {
        let a = lines[i];
        let x = min_x(&a);
        active.retain(|&j| max_x(&lines[j]) >= x);
        let (a_lo, a_hi) = (a.start.y.min(a.end.y), a.start.y.max(a.end.y));
        for &j in &active {
            let b = lines[j];
            if b.start.y.max(b.end.y) < a_lo || b.start.y.min(b.end.y) > a_hi {
                continue;
            }
            // geo's rule: neighbours sharing a vertex (in ring order) do not count.
            if a.start == b.end || a.end == b.start || !a.intersects(&b) {
                continue;
            }
            return Some(meeting_point(a, b));
        }
        active.push(i);
    }
    None
}

fn meeting_point(a: Line<f64>, b: Line<f64>) -> (f64, f64) {
    use geo::algorithm::line_intersection::{LineIntersection, line_intersection};
    match line_intersection(a, b) {
        Some(LineIntersection::SinglePoint { intersection, .. }) => (intersection.x, intersection.y),
        Some(LineIntersection::Collinear { intersection }) => (intersection.start.x, intersection.start.y),
        None => (a.start.x, a.start.y),
    }
}

fn too_few_points(ring: &LineString<f64>) -> bool {
    let mut distinct = ring.0.clone();
    distinct.dedup();
    distinct.len() < 4
}

/// The validity errors of a polygon, as `geo::Validation` reports them.
pub fn polygon_errors(poly: &Polygon<f64>) -> Vec<InvalidPolygon> {
    let mut out = Vec::new();
    if poly.exterior().0.is_empty() {
        return out;
    }
    for (idx, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
        if ring.0.is_empty() {
            continue;
        }
        let role = if idx == 0 { RingRole::Exterior } else { RingRole::Interior(idx - 1) };
        if too_few_points(ring) {
            out.push(InvalidPolygon::TooFewPointsInRing(role));
        }
        if ring_self_intersection(ring).is_some() {
            out.push(InvalidPolygon::SelfIntersection(role));
        }
        if let Some(i) = ring.0.iter().position(|c: &Coord<f64>| !c.x.is_finite() || !c.y.is_finite()) {
            out.push(InvalidPolygon::NonFiniteCoord(role, CoordIndex(i)));
        }
    }
    let exterior = Polygon::new(poly.exterior().clone(), vec![]);
    let holes: Vec<Polygon<f64>> = poly.interiors().iter().map(|r| Polygon::new(r.clone(), vec![])).collect();
    for (i, hole) in holes.iter().enumerate() {
        if hole.exterior().0.is_empty() {
            continue;
        }
        let m = exterior.relate(hole.exterior());
        if !m.is_contains() {
            out.push(InvalidPolygon::InteriorRingNotContainedInExteriorRing(RingRole::Interior(i)));
        }
        if m.get(CoordPos::OnBoundary, CoordPos::Inside) == Dimensions::OneDimensional {
            out.push(InvalidPolygon::IntersectingRingsOnALine(RingRole::Exterior, RingRole::Interior(i)));
        }
        let bb = hole.bounding_rect();
        for (j, other) in holes.iter().enumerate().skip(i + 1) {
            if bb.zip(other.bounding_rect()).is_none_or(|(a, b)| !a.intersects(&b)) {
                continue;
            }
            let m = hole.relate(other);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                out.push(InvalidPolygon::IntersectingRingsOnAnArea(RingRole::Interior(i), RingRole::Interior(j)));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                out.push(InvalidPolygon::IntersectingRingsOnALine(RingRole::Interior(i), RingRole::Interior(j)));
            }
        }
    }
    out
}

/// The part-against-part errors of a multipolygon whose parts are each valid: parts may touch at
/// points, not overlap or share an edge. Parts whose boxes are apart are not compared.
pub fn multipolygon_errors(g: &MultiPolygon<f64>) -> Vec<InvalidMultiPolygon> {
    let boxes: Vec<_> = g.0.iter().map(BoundingRect::bounding_rect).collect();
    let mut out = Vec::new();
    for (i, a) in g.0.iter().enumerate() {
        for (j, b) in g.0.iter().enumerate().skip(i + 1) {
            if boxes[i].zip(boxes[j]).is_none_or(|(x, y)| !x.intersects(&y)) {
                continue;
            }
            let m = a.relate(b);
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                out.push(InvalidMultiPolygon::ElementsOverlaps(GeometryIndex(i), GeometryIndex(j)));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                out.push(InvalidMultiPolygon::ElementsTouchOnALine(GeometryIndex(i), GeometryIndex(j)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Validation;
    use geo::wkt;

    fn same_as_geo(p: &Polygon<f64>) {
        assert_eq!(polygon_errors(p), p.validation_errors(), "{p:?}");
    }

    #[test]
    fn answers_as_geo_does_on_its_cases() {
        same_as_geo(&wkt!(POLYGON((0. 0., 4. 0., 4. 4., 0. 4., 0. 0.))));
        // A bow tie, a spike, a repeated point, a ring of too few points.
        same_as_geo(&wkt!(POLYGON((0. 0., 4. 4., 4. 0., 0. 4., 0. 0.))));
        same_as_geo(&wkt!(POLYGON((0. 0., 4. 0., 4. 4., 6. 4., 4. 4., 0. 4., 0. 0.))));
        same_as_geo(&wkt!(POLYGON((0. 0., 4. 0., 4. 0., 4. 4., 0. 4., 0. 0.))));
        same_as_geo(&wkt!(POLYGON((0. 0., 4. 0., 0. 0.))));
        // Holes: touching the shell at a point, outside it, overlapping each other, sharing an edge.
        same_as_geo(&wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.), (0. 5., 2. 4., 2. 6., 0. 5.))));
        same_as_geo(&wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.), (20. 20., 21. 20., 21. 21., 20. 20.))));
        same_as_geo(
            &wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.), (1. 1., 5. 1., 5. 5., 1. 5., 1. 1.), (3. 3., 7. 3., 7. 7., 3. 7., 3. 3.))),
        );
        same_as_geo(
            &wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.), (1. 1., 5. 1., 5. 5., 1. 5., 1. 1.), (5. 1., 8. 1., 8. 5., 5. 5., 5. 1.))),
        );
    }

    #[test]
    fn answers_as_geo_does_on_random_rings() {
        // Random star-shaped and random walks: many self-intersecting, some not.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for case in 0..400 {
            let n = 4 + case % 20;
            let mut pts: Vec<Coord<f64>> = (0..n)
                .map(|i| {
                    if case % 2 == 0 {
                        let a = std::f64::consts::TAU * i as f64 / n as f64;
                        let r = 1.0 + next();
                        Coord { x: (r * a.cos() * 8.0).round() / 8.0, y: (r * a.sin() * 8.0).round() / 8.0 }
                    } else {
                        Coord { x: (next() * 6.0).round(), y: (next() * 6.0).round() }
                    }
                })
                .collect();
            pts.push(pts[0]);
            same_as_geo(&Polygon::new(LineString(pts), vec![]));
        }
    }

    #[test]
    fn multipolygon_parts_as_geo_does() {
        let m = wkt!(MULTIPOLYGON(((0. 0., 2. 0., 2. 2., 0. 2., 0. 0.)), ((2. 0., 4. 0., 4. 2., 2. 2., 2. 0.)), ((1. 1., 3. 1., 3. 3., 1. 3., 1. 1.)), ((4. 2., 5. 2., 5. 3., 4. 3., 4. 2.))));
        let geo_parts: Vec<_> = m
            .validation_errors()
            .into_iter()
            .filter(|e| !matches!(e, InvalidMultiPolygon::InvalidPolygon(..)))
            .collect();
        assert_eq!(multipolygon_errors(&m), geo_parts);
        assert_eq!(multipolygon_errors(&m).len(), 3);
    }
}
