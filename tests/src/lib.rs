//! Test harness: every storage test runs on a fresh SQLite file and on a fresh PostgreSQL
//! database, against a real server on a free port, over real HTTP.
//!
//! PostgreSQL comes from `GRIDWORK_TEST_PG_URL` (default: the local server). When it cannot be
//! reached the PostgreSQL variant is skipped with a notice, unless `GRIDWORK_TEST_REQUIRE_PG=1`
//! (CI), where it fails.

use std::path::PathBuf;
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};
use gridwork::accounts::{self, NewUser};
use gridwork::config::Settings;
use gridwork::db::{Db, DbUrl};
use gridwork::startup::Application;
use gridwork_mobile_core::{AreaCode, Password, Role, RoleGrant, Scope, Username};
use serde_json::{Value, json};

pub mod cluster;
pub mod cluster_scenario;
pub mod demo_server;
pub mod faults;
pub mod fcm;
pub mod mosquitto;
pub mod proxy;
pub mod s3;
pub mod wrk;

/// The value after `name` on the command line (the benchmark binaries' options).
pub fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == name {
            return it.next();
        }
    }
    None
}

/// Runs `f` three times; the median time and the last answer (the benchmark binaries' timing).
pub fn median_of_three<T>(mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<(std::time::Duration, T)> {
    let mut runs = vec![];
    let mut last = None;
    for _ in 0..3 {
        let t = std::time::Instant::now();
        last = Some(f()?);
        runs.push(t.elapsed());
    }
    runs.sort();
    Ok((runs[1], last.ok_or_else(|| anyhow::anyhow!("three runs"))?))
}

pub const PASSWORD: &str = "test-password-1";

/// Deterministic pseudo-random numbers (xorshift), so failures and load runs reproduce.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn pg_admin_url() -> String {
    std::env::var("GRIDWORK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn pg_required() -> bool {
    std::env::var("GRIDWORK_TEST_REQUIRE_PG").is_ok_and(|v| v == "1" || v == "true")
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// An isolated database, removed when dropped.
pub struct TestDb {
    pub url: DbUrl,
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    /// `None` when the backend is unavailable and not required (the caller skips).
    pub fn new(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                let url = DbUrl::sqlite_file(&dir.path().join("gridwork.sqlite"));
                Some(Self { url, backend, dir, pg_name: None })
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let mut conn = match diesel::PgConnection::establish(&admin) {
                    Ok(c) => c,
                    Err(e) if !pg_required() => {
                        eprintln!(
                            "SKIPPED (PostgreSQL unreachable at {admin}: {e}); set GRIDWORK_TEST_REQUIRE_PG=1 to fail instead"
                        );
                        return None;
                    }
                    Err(e) => panic!("PostgreSQL required but unreachable at {admin}: {e}"),
                };
                let name = format!("gw_test_{}", uuid::Uuid::new_v4().simple());
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
                let url = DbUrl::parse(&with_database(&admin, &name)).unwrap();
                Some(Self { url, backend, dir, pg_name: Some(name) })
            }
        }
    }

    pub fn pool(&self) -> Db {
        Db::connect(&self.url, &Default::default()).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = diesel::PgConnection::establish(&pg_admin_url())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
        }
    }
}

/// Tokens of the street crew (`TestApp::street_crew`).
#[derive(Debug, Clone)]
pub struct Crew {
    pub admin: String,
    pub coord: String,
    pub wang: String,
    pub li: String,
    pub chen: String,
}

/// A running server on a free port over its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub test_db: TestDb,
    pub handle: actix_web::dev::ServerHandle,
    /// The server's state, for what tests drive directly (the scheduler with a fake clock).
    pub state: gridwork::state::AppState,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Option<Self> {
        let test_db = TestDb::new(backend)?;
        let mut settings = Settings::for_database(test_db.url.clone(), test_db.dir.path().to_path_buf());
        settings.listen = "127.0.0.1:0".parse().unwrap();
        settings.workers = 2;
        settings.shutdown_timeout = Duration::from_secs(1);
        // Tests run the deadline scheduler themselves, with a fake clock.
        settings.event_loop.scheduler_interval = None;
        // Every test client comes from 127.0.0.1; the limits have their own test.
        settings.hardening.limits = gridwork::http::hardening::RateLimits::OFF;
        tweak(&mut settings);
        Some(Self::start(settings, test_db).await)
    }

    pub async fn start(settings: Settings, test_db: TestDb) -> Self {
        gridwork::telemetry::init(gridwork::telemetry::LogFormat::Text, Some("warn"));
        let app = Application::build(settings).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let db = app.state().db.clone();
        let state = app.state().clone();
        let handle = app.server_handle();
        tokio::spawn(app.into_server());
        Self { base, client: reqwest::Client::new(), db, test_db, handle, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A second server on the same database with the same settings (a replica behind a load
    /// balancer): its own pool, cache and listener, nothing shared with `self` but the database.
    pub async fn replica(&self) -> TestApp {
        let shadow = TestDb {
            url: self.test_db.url.clone(),
            backend: self.test_db.backend,
            dir: tempfile::tempdir().unwrap(),
            pg_name: None,
        };
        Self::start(self.state.settings.as_ref().clone(), shadow).await
    }

    /// Creates a user with one role straight in the database (as `gridwork user add` does).
    pub async fn user(&self, name: &str, role: Role, scope: Option<&str>) -> String {
        self.user_in_dept(name, role, scope, None).await
    }

    pub async fn user_in_dept(&self, name: &str, role: Role, scope: Option<&str>, dept: Option<&str>) -> String {
        let (name, scope, dept) = (name.to_owned(), scope.map(str::to_owned), dept.map(str::to_owned));
        self.db
            .run(move |conn| {
                let new = NewUser {
                    username: Username::parse(&name).unwrap(),
                    display_name: name.clone(),
                    phone: Some("13900001111".into()),
                    password: Password::parse(PASSWORD).unwrap(),
                };
                let user = accounts::create_user(conn, &new, None)?;
                let scope = scope.map_or(Scope::Everywhere, |s| Scope::Area(AreaCode::parse(&s).unwrap()));
                accounts::grant_role(conn, &user.id, &RoleGrant::new(role, scope, dept).unwrap(), None)?;
                Ok(user.id)
            })
            .await
            .unwrap()
    }

    /// Creates an administrator `root`, imports the generated demo city through the API and
    /// returns root's token.
    pub async fn demo_city(&self) -> String {
        self.user("root", Role::Admin, None).await;
        let admin = self.login("root").await;
        let req = self
            .client
            .post(self.url("/api/v1/areas/import"))
            .bearer_auth(&admin)
            .json(&gridwork::areas::demo_city::feature_collection());
        let (s, b) = self.send(req).await;
        assert_eq!(s, 200, "{b}");
        admin
    }

    /// The demo city and a street crew in it: coordinator `coord` of street 420102003, grid
    /// workers `wang` (grid 420102003001001) and `li.na` (its community), resident `chen`.
    pub async fn street_crew(&self) -> Crew {
        let admin = self.demo_city().await;
        self.user("coord", Role::Coordinator, Some("420102003")).await;
        self.user("wang", Role::GridWorker, Some("420102003001001")).await;
        self.user("li.na", Role::GridWorker, Some("420102003001")).await;
        self.user("chen", Role::Resident, Some("420100")).await;
        Crew {
            admin,
            coord: self.login("coord").await,
            wang: self.login("wang").await,
            li: self.login("li.na").await,
            chen: self.login("chen").await,
        }
    }

    /// Puts a field worker on duty at a point (WGS-84 lat, lng).
    pub async fn on_duty(&self, token: &str, at: (f64, f64)) {
        let (s, b) = self.put("/api/v1/me/duty", token, json!({"on_duty": true})).await;
        assert_eq!(s, 200, "{b}");
        let ping = json!({"pings": [{"lat": at.0, "lng": at.1, "recorded_at": chrono::Utc::now().to_rfc3339()}]});
        let (s, b) = self.post("/api/v1/me/location", token, ping).await;
        assert_eq!((s, b["accepted"].as_i64()), (200, Some(1)), "{b}");
    }

    /// The id of a user by name.
    pub async fn id_of(&self, name: &str) -> String {
        let name = name.to_owned();
        self.db.run(move |conn| Ok(gridwork::queries::users::by_username(conn, &name)?.unwrap().id)).await.unwrap()
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let res = self.client.put(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        status_json(res).await
    }

    pub async fn login_raw(&self, name: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": name, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, name: &str) -> String {
        let res = self.login_raw(name, PASSWORD).await;
        assert_eq!(res.status(), 200, "login of {name} failed");
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let res = self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        status_json(res).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let res = self.client.post(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        status_json(res).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        status_json(req.send().await.unwrap()).await
    }

    /// `POST /evidence` as a phone sends it: the file plus text fields.
    pub async fn upload_photo(&self, token: &str, bytes: Vec<u8>, fields: &[(&str, String)]) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("photo.jpg").mime_str("image/jpeg").unwrap(),
        );
        for (k, v) in fields {
            form = form.text((*k).to_owned(), v.clone());
        }
        self.send(self.client.post(self.url("/api/v1/evidence")).bearer_auth(token).multipart(form)).await
    }

    /// A fresh after-photo of the event, taken there and now; its evidence id, for a resolve.
    pub async fn after_photo(&self, token: &str, event_id: &str) -> String {
        let (s, e) = self.get(&format!("/api/v1/events/{event_id}"), token).await;
        assert_eq!(s, 200, "{e}");
        let fields = [
            ("kind", "after".to_owned()),
            ("event_id", event_id.to_owned()),
            ("taken_at", chrono::Utc::now().to_rfc3339()),
            ("lat", e["location"]["lat"].to_string()),
            ("lng", e["location"]["lng"].to_string()),
        ];
        let (s, b) = self.upload_photo(token, unique_jpeg(), &fields).await;
        assert_eq!(s, 201, "{b}");
        b["id"].as_str().unwrap().to_owned()
    }
}

/// A small image whose stored copy no other call's matches (so uploads are never deduplicated):
/// the 32 bits of a per-call number as black and white 8×8 blocks, which survive JPEG.
pub fn unique_jpeg() -> Vec<u8> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B1) ^ std::process::id();
    let mut img = gridwork_mobile_core::photo_fixtures::two_tone(64, 48);
    for bit in 0..32u32 {
        let level = if n >> bit & 1 == 1 { 255 } else { 0 };
        let (bx, by) = (bit % 8 * 8, bit / 8 * 8);
        for (x, y) in (0..8).flat_map(|x| (0..8).map(move |y| (x, y))) {
            img.put_pixel(bx + x, by + y, image::Rgb([level, level, level]));
        }
    }
    gridwork_mobile_core::photo_fixtures::encode(&img, image::ImageFormat::Png)
}

pub async fn status_json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body with status {status}: {text:?}"));
    (status, body)
}

/// Asserts the one error shape: code, message, fields object and request id.
pub fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "unexpected status; body: {body}");
    assert_eq!(body["error"], want_code, "unexpected error code; body: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "error without message: {body}");
    assert!(body["fields"].is_object(), "error without fields object: {body}");
    assert!(body["request_id"].as_str().is_some_and(|m| !m.is_empty()), "error without request id: {body}");
}

/// A file of the real boundary data kept with the tests (`tests/data/boundaries/`, sources and
/// licences in its README).
pub fn boundary_data(rel: &str) -> PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/boundaries").join(rel);
    assert!(p.exists(), "{} is missing", p.display());
    p
}

impl TestApp {
    /// Imports a file through the API as the given admin token; returns (status, body).
    pub async fn import(&self, token: &str, file: &std::path::Path, query: &str) -> (u16, Value) {
        let body = std::fs::read(file).unwrap();
        let req = self
            .client
            .post(self.url(&format!("/api/v1/areas/import?{query}")))
            .bearer_auth(token)
            .header("content-type", "application/geo+json")
            .body(body);
        self.send(req).await
    }
}

/// Path of the built `gridwork` binary (built by the test script before the tests run).
pub fn gridwork_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir.join("gridwork");
    assert!(bin.exists(), "{} is missing: run `cargo build -p gridwork-backend` first", bin.display());
    bin
}

/// Generates one test per backend: `mod name { fn sqlite(); fn postgres(); }`.
#[macro_export]
macro_rules! both_backends {
    ($($(#[doc = $doc:expr])* async fn $name:ident($app:ident : TestApp) $body:block)*) => {
        $(
            $(#[doc = $doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: $crate::TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(app) = $crate::TestApp::spawn($crate::Backend::Sqlite).await {
                        run(app).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres).await {
                        run(app).await;
                    }
                }
            }
        )*
    };
}

/// Like `both_backends!`, for tests that set up more than the app first: the body gets the
/// `Backend` and spawns the app itself (and returns early when `TestApp::spawn_with` says the
/// backend is unavailable).
#[macro_export]
macro_rules! per_backend {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($backend: $crate::Backend) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($crate::Backend::Postgres).await;
                }
            }
        )*
    };
}
