//! Lookups per second and index memory, on real Hangzhou data and on a generated megacity
//! (13 districts, 10,400 grids, 104,000 buildings).
//!
//! `cargo bench -p gridwork-backend --bench area_lookup`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use gridwork::areas::{AreaIndex, AreaInput};
use gridwork_mobile_core::AreaLevel;

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<usize>().ok()))
        .map_or(0, |pages| pages * 4096)
}

/// A rectangle whose sides carry `per_side` vertices, like a real surveyed outline.
fn rect(x0: f64, y0: f64, x1: f64, y1: f64, per_side: usize) -> MultiPolygon<f64> {
    let mut pts = Vec::new();
    let n = per_side.max(1);
    for i in 0..n {
        pts.push(Coord { x: x0 + (x1 - x0) * i as f64 / n as f64, y: y0 });
    }
    for i in 0..n {
        pts.push(Coord { x: x1, y: y0 + (y1 - y0) * i as f64 / n as f64 });
    }
    for i in 0..n {
        pts.push(Coord { x: x1 - (x1 - x0) * i as f64 / n as f64, y: y1 });
    }
    for i in 0..n {
        pts.push(Coord { x: x0, y: y1 - (y1 - y0) * i as f64 / n as f64 });
    }
    pts.push(pts[0]);
    MultiPolygon(vec![Polygon::new(LineString(pts), vec![])])
}

fn area(code: String, level: AreaLevel, parent: Option<String>, geometry: MultiPolygon<f64>) -> AreaInput {
    AreaInput { name: code.clone(), code, level, parent_code: parent, geometry }
}

/// 104 × 100 grids of about 0.002° (≈ 0.04 km²) around Wuhan; districts are strips of 8 columns,
/// streets bands of 10 rows, communities blocks of 4 × 5 grids; each grid holds 2 compounds of 5
/// buildings.
/// Areas and the bounding box to draw random points from.
type City = (Vec<AreaInput>, (f64, f64, f64, f64));

fn megacity() -> City {
    let (x0, y0, step) = (114.10, 30.40, 0.002);
    let (cols, rows) = (104usize, 100usize);
    let at = |c: usize, r: usize| (x0 + c as f64 * step, y0 + r as f64 * step);
    let mut out = Vec::new();
    let (cx1, cy1) = at(cols, rows);
    out.push(area("C".into(), AreaLevel::City, None, rect(x0, y0, cx1, cy1, 400)));
    for d in 0..13 {
        let dcode = format!("D{d:02}");
        let (a, b) = (at(d * 8, 0), at(d * 8 + 8, rows));
        out.push(area(dcode.clone(), AreaLevel::District, Some("C".into()), rect(a.0, a.1, b.0, b.1, 120)));
        for s in 0..10 {
            let scode = format!("{dcode}S{s}");
            let (a, b) = (at(d * 8, s * 10), at(d * 8 + 8, s * 10 + 10));
            out.push(area(scode.clone(), AreaLevel::Street, Some(dcode.clone()), rect(a.0, a.1, b.0, b.1, 40)));
            for k in 0..4 {
                let (kc, kr) = (d * 8 + (k % 2) * 4, s * 10 + (k / 2) * 5);
                let ccode = format!("{scode}K{k}");
                let (a, b) = (at(kc, kr), at(kc + 4, kr + 5));
                out.push(area(ccode.clone(), AreaLevel::Community, Some(scode.clone()), rect(a.0, a.1, b.0, b.1, 20)));
                for g in 0..20 {
                    let (gc, gr) = (kc + g % 4, kr + g / 4);
                    let gcode = format!("{ccode}G{g:02}");
                    let (a, b) = (at(gc, gr), at(gc + 1, gr + 1));
                    out.push(area(gcode.clone(), AreaLevel::Grid, Some(ccode.clone()), rect(a.0, a.1, b.0, b.1, 6)));
                    for h in 0..2 {
                        let hx0 = a.0 + step * (0.05 + 0.5 * h as f64);
                        let (hx1, hy0, hy1) = (hx0 + step * 0.4, a.1 + step * 0.05, b.1 - step * 0.05);
                        let hcode = format!("{gcode}H{h}");
                        out.push(area(
                            hcode.clone(),
                            AreaLevel::Compound,
                            Some(gcode.clone()),
                            rect(hx0, hy0, hx1, hy1, 3),
                        ));
                        for i in 0..5 {
                            let by0 = hy0 + (hy1 - hy0) * (0.04 + 0.19 * i as f64);
                            let by1 = by0 + (hy1 - hy0) * 0.12;
                            let (bx0, bx1) = (hx0 + (hx1 - hx0) * 0.15, hx1 - (hx1 - hx0) * 0.15);
                            out.push(area(
                                format!("{hcode}B{i}"),
                                AreaLevel::Building,
                                Some(hcode.clone()),
                                rect(bx0, by0, bx1, by1, 1),
                            ));
                        }
                    }
                }
            }
        }
    }
    (out, (x0, y0, cx1, cy1))
}

fn hangzhou() -> Option<City> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/boundaries/hangzhou_xiacheng");
    let files = [
        ("xiacheng_district_wgs84.geojson", "adcode", AreaLevel::District, None),
        ("xiacheng_streets_wgs84.geojson", "street_code", AreaLevel::Street, Some("330103")),
        ("xiacheng_communities_wgs84.geojson", "community_code", AreaLevel::Community, None),
        ("xiacheng_grids_wgs84.geojson", "grid_code", AreaLevel::Grid, None),
    ];
    let mut out = Vec::new();
    for (file, code_prop, level, fixed_parent) in files {
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        let fc: geojson::FeatureCollection = text.parse().ok()?;
        for f in fc.features {
            let code = match f.property(code_prop)? {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let parent = fixed_parent
                .map(str::to_owned)
                .or_else(|| f.property("parent").and_then(|p| p.as_str()).map(str::to_owned));
            let parent = if level == AreaLevel::District { None } else { parent };
            let g: geo::Geometry<f64> = f.geometry?.try_into().ok()?;
            let geometry = match g {
                geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
                geo::Geometry::MultiPolygon(m) => m,
                _ => return None,
            };
            out.push(area(code, level, parent, geometry));
        }
    }
    Some((out, (120.13, 30.26, 120.23, 30.35)))
}

fn points(bbox: (f64, f64, f64, f64), n: usize) -> Vec<(f64, f64)> {
    let mut s: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n).map(|_| (bbox.0 + next() * (bbox.2 - bbox.0), bbox.1 + next() * (bbox.3 - bbox.1))).collect()
}

fn bench_city(c: &mut Criterion, name: &str, inputs: &[AreaInput], bbox: (f64, f64, f64, f64)) {
    let before = rss_bytes();
    let started = std::time::Instant::now();
    let index = AreaIndex::build(inputs).unwrap();
    let built = started.elapsed();
    let rss = rss_bytes().saturating_sub(before);
    let levels: Vec<String> =
        index.level_stats().iter().map(|(l, c, p, e)| format!("{l}: {c} cells {p} parts {e} edges")).collect();
    eprintln!(
        "{name}: {} areas, built in {:.2?}, index ≈ {:.1} MB (estimate), RSS +{:.1} MB, {:.0} % of the extent in tiles that answer alone; {}",
        index.len(),
        built,
        index.memory_bytes() as f64 / 1e6,
        rss as f64 / 1e6,
        index.tiles_answered_share() * 100.0,
        levels.join("; ")
    );
    let pts = points(bbox, 100_000);
    let hits = pts.iter().filter(|p| index.deepest(p.0, p.1).is_some()).count();
    eprintln!("{name}: {hits} of {} random points inside some area", pts.len());
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(pts.len() as u64));
    group.sample_size(20);
    group.bench_function("lookup_deepest", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for p in &pts {
                n = n.wrapping_add(index.deepest(black_box(p.0), black_box(p.1)).unwrap_or(0));
            }
            n
        });
    });
    group.bench_function("lookup_chain", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &pts {
                n += index.lookup(black_box(p.0), black_box(p.1)).len();
            }
            n
        });
    });
    group.finish();
}

fn lookups(c: &mut Criterion) {
    let (inputs, bbox) = hangzhou().expect("the Hangzhou files in tests/data/boundaries/ parse");
    bench_city(c, "hangzhou_xiacheng", &inputs, bbox);
    let (inputs, bbox) = megacity();
    bench_city(c, "megacity_104k_buildings", &inputs, bbox);
}

criterion_group!(benches, lookups);
criterion_main!(benches);
