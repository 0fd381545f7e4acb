//! The photo pipeline on a 12-megapixel camera JPEG (4000 × 3000, textured so it compresses like
//! a photo): time per photo, and how far one run raises the process's peak resident memory.
//!
//! `cargo bench -p gridwork-mobile-core --features fixtures --bench photo`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gridwork_mobile_core::photo::{Limits, process};
use gridwork_mobile_core::photo_fixtures::camera_photo;

/// A field of /proc/self/status in bytes (VmRSS, VmHWM).
fn status_bytes(field: &str) -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn pipeline(c: &mut Criterion) {
    let photo = camera_photo();
    let limits = Limits::default();
    // Reset the process's peak RSS (Linux: "5" to clear_refs), then measure one run's rise.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_bytes("VmRSS:");
    let out = process(&photo, &limits).unwrap();
    let peak = status_bytes("VmHWM:").saturating_sub(before);
    println!(
        "12 MP JPEG ({} KB) → {}×{} JPEG ({} KB); peak memory above the baseline {:.1} MB",
        photo.len() / 1024,
        out.width,
        out.height,
        out.jpeg.len() / 1024,
        peak as f64 / 1_048_576.0
    );
    let mut group = c.benchmark_group("photo");
    group.sample_size(10);
    group.bench_function("process_12mp_jpeg", |b| b.iter(|| process(black_box(&photo), &limits).unwrap()));
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
