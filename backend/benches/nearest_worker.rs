//! The nearest available grid worker, as automatic dispatch asks for it, with 100,000 workers on
//! duty: the duty roster in memory (`roster::Roster::street` and the pick) beside a Redis
//! `GEOSEARCH` round trip over the same positions (Redis at 127.0.0.1:6379, or `REDIS_ADDR`), in
//! one run. Redis is asked two ways, each for the single nearest within 500 m (`ASC COUNT 1`; the
//! nearest worker is about 45 m away at this density): one city-wide key, and one key per street. Redis answers only "who is
//! nearest"; the roster's answer also weighs load, the grid rule and the task limit.
//!
//! With PostgreSQL at hand (`GRIDWORK_TEST_PG_URL`, default 127.0.0.1:5432), the same workers go into
//! a scratch database, and the database path dispatch took before the roster (the street's
//! on-duty workers and their loads, read for every event) is timed beside the roster's pick plus
//! the confirmation dispatch now asks the database for.
//!
//! `cargo bench -p gridwork-backend --bench nearest_worker`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use diesel::RunQueryDsl;
use geo::{MultiPolygon, Rect};
use gridwork::areas::{AreaIndex, AreaInput};
use gridwork::db::{Db, DbConn, DbUrl};
use gridwork::events::dispatch::{Candidate, Ruler, pick_grid_worker};
use gridwork::roster::{OnDuty, Roster};
use gridwork_mobile_core::{AreaCode, AreaLevel};

const WORKERS: usize = 100_000;
/// 10 districts × 15 streets × 4 communities × 20 grids = 12,000 grids of about 250 m.
const DISTRICTS: usize = 10;
const STREETS: usize = 15;
const COMMUNITIES: usize = 4;
const GRIDS: usize = 20;
const STEP: f64 = 0.0025;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![Rect::new((x0, y0), (x1, y1)).to_polygon()])
}

fn area(code: String, level: AreaLevel, parent: Option<String>, g: MultiPolygon<f64>) -> AreaInput {
    AreaInput { name: code.clone(), code, level, parent_code: parent, geometry: g }
}

/// A grid's code and box.
struct Grid {
    code: String,
    street: String,
    bbox: (f64, f64, f64, f64),
}

/// The city: a district is a column of streets; a street 8 × 10 grids.
fn city() -> (Vec<AreaInput>, Vec<Grid>) {
    let (x0, y0) = (120.0, 30.0);
    let (street_w, street_h) = (8.0 * STEP, 10.0 * STEP);
    let mut out = vec![area(
        "C".into(),
        AreaLevel::City,
        None,
        rect(x0, y0, x0 + DISTRICTS as f64 * street_w, y0 + STREETS as f64 * street_h),
    )];
    let mut grids = vec![];
    for d in 0..DISTRICTS {
        let dx = x0 + d as f64 * street_w;
        let dcode = format!("D{d:02}");
        out.push(area(
            dcode.clone(),
            AreaLevel::District,
            Some("C".into()),
            rect(dx, y0, dx + street_w, y0 + STREETS as f64 * street_h),
        ));
        for s in 0..STREETS {
            let sy = y0 + s as f64 * street_h;
            let scode = format!("{dcode}S{s:02}");
            out.push(area(
                scode.clone(),
                AreaLevel::Street,
                Some(dcode.clone()),
                rect(dx, sy, dx + street_w, sy + street_h),
            ));
            for k in 0..COMMUNITIES {
                // Communities are 4 × 5 grids: two across, two up.
                let (kx, ky) = (dx + (k % 2) as f64 * 4.0 * STEP, sy + (k / 2) as f64 * 5.0 * STEP);
                let kcode = format!("{scode}K{k}");
                out.push(area(
                    kcode.clone(),
                    AreaLevel::Community,
                    Some(scode.clone()),
                    rect(kx, ky, kx + 4.0 * STEP, ky + 5.0 * STEP),
                ));
                for g in 0..GRIDS {
                    let (gx, gy) = (kx + (g % 4) as f64 * STEP, ky + (g / 4) as f64 * STEP);
                    let gcode = format!("{kcode}G{g:02}");
                    out.push(area(
                        gcode.clone(),
                        AreaLevel::Grid,
                        Some(kcode.clone()),
                        rect(gx, gy, gx + STEP, gy + STEP),
                    ));
                    grids.push(Grid { code: gcode, street: scode.clone(), bbox: (gx, gy, gx + STEP, gy + STEP) });
                }
            }
        }
    }
    (out, grids)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() * n as f64) as usize).min(n - 1)
    }

    fn inside(&mut self, b: (f64, f64, f64, f64)) -> (f64, f64) {
        (b.0 + self.next() * (b.2 - b.0), b.1 + self.next() * (b.3 - b.1))
    }
}

/// A minimal RESP client (the Redis protocol): enough for GEOADD, GEOSEARCH and DEL.
struct Redis {
    out: TcpStream,
    input: BufReader<TcpStream>,
}

#[derive(Debug)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Redis {
    fn connect() -> Option<Self> {
        let addr = std::env::var("REDIS_ADDR").unwrap_or_else(|_| "127.0.0.1:6379".into());
        let out = TcpStream::connect(addr).ok()?;
        out.set_nodelay(true).ok()?;
        Some(Self { input: BufReader::new(out.try_clone().ok()?), out })
    }

    fn encode(buf: &mut Vec<u8>, args: &[&str]) {
        buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            buf.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }

    fn read(&mut self) -> Reply {
        let mut line = String::new();
        self.input.read_line(&mut line).unwrap();
        let (kind, rest) = line.trim_end().split_at(1);
        match kind {
            "+" => Reply::Simple(rest.to_owned()),
            "-" => Reply::Error(rest.to_owned()),
            ":" => Reply::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut data = vec![0; n as usize + 2];
                std::io::Read::read_exact(&mut self.input, &mut data).unwrap();
                data.truncate(n as usize);
                Reply::Bulk(Some(data))
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                Reply::Array((0..n.max(0)).map(|_| self.read()).collect())
            }
            other => panic!("unexpected reply {other}{rest}"),
        }
    }

    /// Sends the commands together and reads every reply (pipelining).
    fn pipeline(&mut self, commands: &[Vec<String>]) -> Vec<Reply> {
        let mut buf = vec![];
        for c in commands {
            Self::encode(&mut buf, &c.iter().map(String::as_str).collect::<Vec<_>>());
        }
        self.out.write_all(&buf).unwrap();
        commands.iter().map(|_| self.read()).collect()
    }

    /// Whether `key` holds a member within 500 m of (lat, lng): the single nearest, asked the way a
    /// dispatcher would.
    fn nearest(&mut self, key: &str, (lat, lng): (f64, f64)) -> bool {
        let (lng, lat) = (format!("{lng}"), format!("{lat}"));
        let r = self.call(&["GEOSEARCH", key, "FROMLONLAT", &lng, &lat, "BYRADIUS", "500", "m", "ASC", "COUNT", "1"]);
        matches!(r, Reply::Array(a) if matches!(a.first(), Some(Reply::Bulk(Some(name))) if !name.is_empty()))
    }

    fn call(&mut self, args: &[&str]) -> Reply {
        let mut buf = vec![];
        Self::encode(&mut buf, args);
        self.out.write_all(&buf).unwrap();
        self.read()
    }
}

fn nearest(c: &mut Criterion) {
    let (inputs, grids) = city();
    let tree = Arc::new(AreaIndex::build(&inputs).unwrap());
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    // Each worker holds one grid and stands somewhere in its street.
    let streets: Vec<(String, (f64, f64, f64, f64))> = {
        let mut s: Vec<(String, (f64, f64, f64, f64))> = vec![];
        for g in &grids {
            match s.iter_mut().find(|(code, _)| *code == g.street) {
                Some((_, b)) => *b = (b.0.min(g.bbox.0), b.1.min(g.bbox.1), b.2.max(g.bbox.2), b.3.max(g.bbox.3)),
                None => s.push((g.street.clone(), g.bbox)),
            }
        }
        s
    };
    let street_box = |code: &str| streets.iter().find(|(c, _)| c == code).unwrap().1;
    let (workers, worker_streets): (Vec<OnDuty>, Vec<String>) = (0..WORKERS)
        .map(|i| {
            let g = &grids[rng.below(grids.len())];
            let (lng, lat) = rng.inside(street_box(&g.street));
            let w = OnDuty {
                user: format!("w{i:06}"),
                areas: vec![g.code.clone()],
                at: Some((lat, lng)),
                load: rng.below(6) as i64,
            };
            (w, g.street.clone())
        })
        .unzip();
    let roster = Roster::new();
    roster.start(true);
    roster.fill(tree.clone(), workers.clone());
    eprintln!("{} grids, {} streets, {} workers on duty in the roster", grids.len(), streets.len(), roster.len());

    // The events: a random point in a random grid.
    let events: Vec<(AreaCode, AreaCode, (f64, f64))> = (0..4096)
        .map(|_| {
            let g = &grids[rng.below(grids.len())];
            let (lng, lat) = rng.inside(g.bbox);
            (AreaCode::parse(&g.street).unwrap(), AreaCode::parse(&g.code).unwrap(), (lat, lng))
        })
        .collect();

    let mut group = c.benchmark_group("nearest_worker_100k");
    group.sample_size(30);
    let mut i = 0usize;
    // What automatic dispatch asks (one pass over the street's workers).
    group.bench_function("roster_pick", |b| {
        b.iter(|| {
            let (street, grid, at) = &events[i % events.len()];
            i += 1;
            let pick = roster.pick(&tree, street, grid, *at, &[], 8).unwrap();
            black_box(pick.chosen.map(|(c, _)| c.user_id.len()))
        });
    });
    // The ops centre's ranked list: every worker of the street, then the rule's pick.
    let mut i = 0usize;
    group.bench_function("roster_street_list_and_pick", |b| {
        b.iter(|| {
            let (street, grid, at) = &events[i % events.len()];
            i += 1;
            let cands = roster.street(&tree, street, grid, *at, &[]).unwrap();
            black_box(pick_grid_worker(&cands, 8).map(|(c, _)| c.user_id.len()))
        });
    });

    match Redis::connect() {
        None => eprintln!("Redis not reachable: the GEOSEARCH side is skipped"),
        Some(mut redis) => {
            let key = "gridwork:bench:workers";
            let mut keys: Vec<String> = streets.iter().map(|(s, _)| format!("gridwork:bench:street:{s}")).collect();
            keys.push(key.to_owned());
            let dels: Vec<Vec<String>> = keys.iter().map(|k| vec!["DEL".to_owned(), k.clone()]).collect();
            redis.pipeline(&dels);
            let mut adds: Vec<Vec<String>> = vec![];
            for (chunk, chunk_streets) in workers.chunks(1000).zip(worker_streets.chunks(1000)) {
                let mut city = vec!["GEOADD".to_owned(), key.to_owned()];
                for (w, street) in chunk.iter().zip(chunk_streets) {
                    let (lat, lng) = w.at.unwrap();
                    city.extend([format!("{lng}"), format!("{lat}"), w.user.clone()]);
                    adds.push(vec![
                        "GEOADD".into(),
                        format!("gridwork:bench:street:{street}"),
                        format!("{lng}"),
                        format!("{lat}"),
                        w.user.clone(),
                    ]);
                }
                adds.push(city);
            }
            for chunk in adds.chunks(5000) {
                for r in redis.pipeline(chunk) {
                    if let Reply::Error(e) = r {
                        panic!("Redis refused GEOADD: {e}");
                    }
                }
            }
            match redis.call(&["ZCARD", key]) {
                Reply::Int(n) => eprintln!("Redis holds {n} positions in {key}"),
                other => panic!("{other:?}"),
            }
            let mut i = 0usize;
            group.bench_function("redis_geosearch_city_500m", |b| {
                b.iter(|| {
                    let (_, _, at) = &events[i % events.len()];
                    i += 1;
                    black_box(redis.nearest(key, *at))
                });
            });
            let mut i = 0usize;
            group.bench_function("redis_geosearch_street_key", |b| {
                b.iter(|| {
                    let (street, _, at) = &events[i % events.len()];
                    i += 1;
                    black_box(redis.nearest(&format!("gridwork:bench:street:{street}"), *at))
                });
            });
            // The anchor: a round trip that does nothing.
            group.bench_function("redis_ping", |b| {
                b.iter(|| black_box(matches!(redis.call(&["PING"]), Reply::Simple(ref s) if s == "PONG")));
            });
            redis.pipeline(&dels);
        }
    }
    match Scratch::create() {
        None => eprintln!("PostgreSQL not reachable: the database side is skipped"),
        Some(scratch) => {
            let mut conn = scratch.db.get().unwrap();
            scratch.fill(&mut conn, &workers);
            // Before the roster: dispatch read the street's on-duty workers with their grants and
            // positions, then their open tasks, and ranked them.
            let mut i = 0usize;
            group.bench_function("database_street_read_and_pick", |b| {
                b.iter(|| {
                    let (street, grid, at) = &events[i % events.len()];
                    i += 1;
                    black_box(database_pick(&mut conn, &tree, street, grid, *at))
                });
            });
            // With the roster: its pick, then the database's word on that one worker.
            let mut i = 0usize;
            group.bench_function("roster_pick_and_confirm", |b| {
                b.iter(|| {
                    let (street, grid, at) = &events[i % events.len()];
                    i += 1;
                    let pick = roster.pick(&tree, street, grid, *at, &[], 8).unwrap();
                    let user = pick.chosen.map(|(c, _)| c.user_id).unwrap_or_default();
                    let grants = gridwork::queries::workers::on_duty(
                        &mut conn,
                        "grid_worker",
                        Some(std::slice::from_ref(&user)),
                    )
                    .unwrap();
                    let load = gridwork::queries::tasks::open_load(&mut conn, &[user]).unwrap();
                    black_box((grants.len(), load.len()))
                });
            });
            drop(conn);
            scratch.drop_database();
        }
    }
    group.finish();
}

/// The database path as dispatch ran it before the roster (the same queries and rule).
fn database_pick(conn: &mut DbConn, tree: &AreaIndex, street: &AreaCode, grid: &AreaCode, at: (f64, f64)) -> usize {
    let ruler = Ruler::new(at.0, at.1);
    let rows = gridwork::queries::workers::on_duty_in(conn, "grid_worker", &tree.line_of(street.as_str())).unwrap();
    let ids: Vec<String> = rows.iter().map(|(_, s)| s.user_id.clone()).collect();
    let loads = gridwork::queries::tasks::open_load(conn, &ids).unwrap();
    let cands: Vec<Candidate> = rows
        .into_iter()
        .map(|(area, s)| Candidate {
            in_grid: area.as_deref() == Some(grid.as_str()),
            load: loads.get(&s.user_id).copied().unwrap_or(0),
            metres: s.lat.zip(s.lng).map(|(lat, lng)| ruler.metres(lat, lng)),
            user_id: s.user_id,
        })
        .collect();
    pick_grid_worker(&cands, 8).map_or(0, |(c, _)| c.user_id.len())
}

/// A scratch PostgreSQL database holding the same workers (`GRIDWORK_TEST_PG_URL` names the
/// server, as for the tests).
struct Scratch {
    admin: String,
    name: String,
    db: Db,
}

impl Scratch {
    fn create() -> Option<Self> {
        use diesel::Connection;
        let admin = std::env::var("GRIDWORK_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let mut root = diesel::PgConnection::establish(&admin).ok()?;
        let name = format!("gw_nearest_{}", std::process::id());
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut root).ok()?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut root).ok()?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(r, _)| r);
        let db = Db::connect(&DbUrl::parse(&format!("{base}/{name}")).ok()?, &Default::default()).ok()?;
        let mut conn = db.get().ok()?;
        gridwork::db::migrate::run_pending(&mut conn).ok()?;
        drop(conn);
        Some(Self { admin, name, db })
    }

    /// The workers as accounts with one grid grant each, on duty where they stand (no open tasks).
    fn fill(&self, conn: &mut DbConn, workers: &[OnDuty]) {
        use diesel::sql_types::{Array, Double, Text};
        let DbConn::Postgres(conn) = conn else { panic!("a PostgreSQL scratch database") };
        for chunk in workers.chunks(20_000) {
            let ids: Vec<String> = chunk.iter().map(|w| w.user.clone()).collect();
            let areas: Vec<String> = chunk.iter().map(|w| w.areas[0].clone()).collect();
            let lats: Vec<f64> = chunk.iter().map(|w| w.at.unwrap().0).collect();
            let lngs: Vec<f64> = chunk.iter().map(|w| w.at.unwrap().1).collect();
            diesel::sql_query(
                "INSERT INTO users (id, username, display_name, password_hash, is_active, created_at, updated_at)
                 SELECT u, u, u, 'x', TRUE, now(), now() FROM unnest($1) AS t(u)",
            )
            .bind::<Array<Text>, _>(&ids)
            .execute(conn)
            .unwrap();
            diesel::sql_query(
                "INSERT INTO role_assignments (id, user_id, role, area_code, created_at)
                 SELECT 'r' || u, u, 'grid_worker', a, now() FROM unnest($1, $2) AS t(u, a)",
            )
            .bind::<Array<Text>, _>(&ids)
            .bind::<Array<Text>, _>(&areas)
            .execute(conn)
            .unwrap();
            diesel::sql_query(
                "INSERT INTO worker_status (user_id, on_duty, lat, lng, located_at, updated_at)
                 SELECT u, TRUE, la, ln, now(), now() FROM unnest($1, $2, $3) AS t(u, la, ln)",
            )
            .bind::<Array<Text>, _>(&ids)
            .bind::<Array<Double>, _>(&lats)
            .bind::<Array<Double>, _>(&lngs)
            .execute(conn)
            .unwrap();
        }
        diesel::sql_query("ANALYZE").execute(conn).unwrap();
    }

    fn drop_database(self) {
        use diesel::Connection;
        drop(self.db);
        if let Ok(mut root) = diesel::PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut root);
        }
    }
}

criterion_group!(benches, nearest);
criterion_main!(benches);
