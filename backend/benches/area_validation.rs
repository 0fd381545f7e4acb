//! Validating outlines: the import's validity check on rings of 5,000 to 1,000,000 vertices,
//! against geo's own `Validation` (the check the import used before, quadratic in vertices) as
//! the anchor measured in the same run.
//!
//! `cargo bench -p gridwork-backend --bench area_validation`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};
use gridwork::areas::geometry;

/// A wavy district outline of `n` vertices (a real survey's detail, no self-intersection).
fn outline(n: usize) -> MultiPolygon<f64> {
    let mut pts: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            let r = 0.05 * (1.0 + 0.3 * (7.0 * a).sin() + 0.02 * (977.0 * a).sin());
            Coord { x: 114.3 + r * a.cos(), y: 30.6 + r * a.sin() }
        })
        .collect();
    pts.push(pts[0]);
    MultiPolygon(vec![Polygon::new(LineString(pts), vec![])])
}

fn validation(c: &mut Criterion) {
    let mut group = c.benchmark_group("validate_outline");
    group.sample_size(10);
    for n in [5_000, 20_000, 100_000, 1_000_000] {
        let g = outline(n);
        assert!(geometry::validity_defects(&g).is_empty());
        group.bench_with_input(BenchmarkId::new("gridwork", n), &g, |b, g| {
            b.iter(|| geometry::validity_defects(black_box(g)).len());
        });
        // The anchor: geo's check, only where it finishes in seconds.
        if n <= 20_000 {
            group.bench_with_input(BenchmarkId::new("geo_validation", n), &g, |b, g| {
                b.iter(|| black_box(g).is_valid());
            });
        }
    }
    group.finish();
}

criterion_group!(benches, validation);
criterion_main!(benches);
