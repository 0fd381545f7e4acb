//! Point-in-polygon in bulk: Gridwork's area index beside PostGIS's `ST_Contains` join, on the
//! same polygons (the Hangzhou 下城区 grids in `tests/data/boundaries`) and the same points, in one
//! run, each on one core. PostGIS gets a scratch database with a GiST index on the grids, the
//! points in a table, no parallel workers and no JIT; the time is the join's `count(*)`, median of
//! three. Gridwork's side is the batch endpoint's work (`AreaIndex::deepest` per point, and the
//! chain of codes it answers with) over the same points in memory. The counts of points found inside a
//! grid are printed side by side (they must agree).
//!
//! Installs Debian's `postgresql-15-postgis-3` when the extension is missing (needs root).
//!
//! ```text
//! cargo run --release -p gridwork-tests --bin postgisbench -- --points 1000000
//! ```

use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Array, BigInt, Double, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use geo::MultiPolygon;
use gridwork::areas::{AreaIndex, AreaInput};
use gridwork_mobile_core::AreaLevel;
use gridwork_tests::arg;

/// The grids' codes, GeoJSON geometries and outlines.
fn grids() -> anyhow::Result<Vec<(String, String, MultiPolygon<f64>)>> {
    let path = gridwork_tests::boundary_data("hangzhou_xiacheng/xiacheng_grids_wgs84.geojson");
    let fc: geojson::FeatureCollection = std::fs::read_to_string(&path)?.parse()?;
    let mut out = vec![];
    for f in fc.features {
        let code = match f.property("grid_code").context("grid_code")? {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let geometry = f.geometry.context("geometry")?;
        let text = geojson::GeoJson::Geometry(geometry.clone()).to_string();
        let g: geo::Geometry<f64> = geometry.try_into()?;
        let outline = match g {
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            geo::Geometry::MultiPolygon(m) => m,
            _ => anyhow::bail!("grid {code} is not a polygon"),
        };
        out.push((code, text, outline));
    }
    Ok(out)
}

/// `n` points spread over the district's box (the lookup bench's generator).
fn points(n: usize) -> Vec<(f64, f64)> {
    let bbox = (120.13, 30.26, 120.23, 30.35);
    let mut s: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n).map(|_| (bbox.0 + next() * (bbox.2 - bbox.0), bbox.1 + next() * (bbox.3 - bbox.1))).collect()
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn ensure_postgis(conn: &mut PgConnection) -> anyhow::Result<()> {
    if conn.batch_execute("CREATE EXTENSION IF NOT EXISTS postgis").is_ok() {
        return Ok(());
    }
    eprintln!("PostGIS missing: apt-get install -y postgresql-15-postgis-3");
    let ok = std::process::Command::new("apt-get")
        .args(["install", "-y", "-q", "postgresql-15-postgis-3"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .is_ok_and(|s| s.success());
    anyhow::ensure!(ok, "could not install postgresql-15-postgis-3");
    conn.batch_execute("CREATE EXTENSION IF NOT EXISTS postgis").context("CREATE EXTENSION postgis")
}

fn main() -> anyhow::Result<()> {
    let n: usize = arg("--points").map_or(Ok(1_000_000), |v| v.parse()).context("--points N")?;
    let admin = gridwork_tests::pg_admin_url();
    let mut root = PgConnection::establish(&admin).context("PostgreSQL")?;
    let name = format!("gw_postgisbench_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut root)?;
    let result = run(&admin, &name, n);
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut root)?;
    result
}

fn run(admin: &str, name: &str, n: usize) -> anyhow::Result<()> {
    let base = admin.rsplit_once('/').map_or(admin, |(r, _)| r);
    let mut conn = PgConnection::establish(&format!("{base}/{name}"))?;
    ensure_postgis(&mut conn)?;
    let grids = grids()?;
    let pts = points(n);
    println!("{} grids (Hangzhou 下城区), {} points over the district's box", grids.len(), pts.len());

    conn.batch_execute("CREATE TABLE grids (code text PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)")?;
    for (code, text, _) in &grids {
        diesel::sql_query("INSERT INTO grids VALUES ($1, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($2), 4326)))")
            .bind::<Text, _>(code)
            .bind::<Text, _>(text)
            .execute(&mut conn)?;
    }
    conn.batch_execute("CREATE TABLE pts (id bigint PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)")?;
    for (i, chunk) in pts.chunks(100_000).enumerate() {
        let ids: Vec<i64> = (0..chunk.len()).map(|k| (i * 100_000 + k) as i64).collect();
        let (xs, ys): (Vec<f64>, Vec<f64>) = chunk.iter().copied().unzip();
        diesel::sql_query(
            "INSERT INTO pts SELECT id, ST_SetSRID(ST_MakePoint(x, y), 4326) FROM unnest($1, $2, $3) AS u(id, x, y)",
        )
        .bind::<Array<BigInt>, _>(ids)
        .bind::<Array<Double>, _>(xs)
        .bind::<Array<Double>, _>(ys)
        .execute(&mut conn)?;
    }
    // One statement at a time: VACUUM refuses a multi-statement batch (one implicit transaction).
    for sql in [
        "CREATE INDEX grids_geom ON grids USING gist (geom)",
        // Points indexed too, so the planner may take each grid once and find its points: PostGIS
        // then prepares each polygon once for all its points (its fastest form of this join).
        "CREATE INDEX pts_geom ON pts USING gist (geom)",
        "VACUUM ANALYZE grids",
        "VACUUM ANALYZE pts",
        "SET max_parallel_workers_per_gather = 0",
        "SET jit = off",
    ] {
        conn.batch_execute(sql)?;
    }
    let count = |conn: &mut PgConnection, sql: &str| -> anyhow::Result<i64> {
        Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
    };
    let (scan, _) = gridwork_tests::median_of_three(|| count(&mut conn, "SELECT count(*) AS n FROM pts"))?;
    let plan: Vec<String> =
        diesel::sql_query("EXPLAIN SELECT count(*) AS n FROM pts p JOIN grids g ON ST_Contains(g.geom, p.geom)")
            .load::<PlanLine>(&mut conn)?
            .into_iter()
            .map(|l| l.line)
            .collect();
    println!("PostGIS plan:\n  {}", plan.join("\n  "));
    let (join, pg_rows) = gridwork_tests::median_of_three(|| {
        count(&mut conn, "SELECT count(*) AS n FROM pts p JOIN grids g ON ST_Contains(g.geom, p.geom)")
    })?;
    let per_sec = |d: Duration| n as f64 / d.as_secs_f64() / 1e6;
    println!(
        "PostGIS   ST_Contains join (GiST, one core): {:>8.1} ms  {:.2} M points/s  ({pg_rows} pairs)",
        join.as_secs_f64() * 1e3,
        per_sec(join)
    );
    println!("PostGIS   anchor: count(*) over the points:  {:>8.1} ms", scan.as_secs_f64() * 1e3);

    let inputs: Vec<AreaInput> = grids
        .into_iter()
        .map(|(code, _, geometry)| AreaInput {
            name: code.clone(),
            code,
            level: AreaLevel::Grid,
            parent_code: None,
            geometry,
        })
        .collect();
    let index = AreaIndex::build(&inputs).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (one, found) =
        gridwork_tests::median_of_three(|| Ok(pts.iter().filter(|p| index.deepest(p.0, p.1).is_some()).count()))?;
    println!(
        "Gridwork  one point at a time (deepest):     {:>8.1} ms  {:.2} M points/s  ({found} inside a grid)",
        one.as_secs_f64() * 1e3,
        per_sec(one)
    );
    // What the batch endpoint does per point: the deepest area, then its chain of codes.
    let (chain, chained) = gridwork_tests::median_of_three(|| {
        Ok(pts
            .iter()
            .map(|p| index.lookup(p.0, p.1).into_iter().map(|a| a.code.clone()).collect::<Vec<String>>().len())
            .sum::<usize>())
    })?;
    println!(
        "Gridwork  the batch endpoint's work (codes):  {:>8.1} ms  {:.2} M points/s  ({chained} codes)",
        chain.as_secs_f64() * 1e3,
        per_sec(chain)
    );
    println!(
        "Gridwork / PostGIS: {:.1}× as fast; inside a grid: {found} here, {pg_rows} pairs there ({})",
        join.as_secs_f64() / one.as_secs_f64(),
        if found as i64 == pg_rows { "the same" } else { "they differ" }
    );
    println!(
        "(index: {:.1} MB, {:.0} % of the extent answered by its tiles)",
        index.memory_bytes() as f64 / 1e6,
        index.tiles_answered_share() * 100.0
    );
    Ok(())
}
