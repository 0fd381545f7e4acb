//! The real `gridwork` binary, as an operator runs it: CLI, config layering, JSON logs,
//! demo, PostgreSQL by URL, and graceful shutdown on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gridwork_tests::{Backend, TestDb, gridwork_bin};
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn gridwork(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(gridwork_bin());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GRIDWORK_DATA_DIR", dir)
        .current_dir(dir);
    cmd
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn spawn(mut cmd: Command, port: u16) -> Self {
        let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut server = Self { child, port };
        server.wait_ready();
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                self.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
                panic!("gridwork exited early with {status}: {err}");
            }
            if http("GET", &self.url("/readyz"), None, None).0 == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("gridwork did not become ready");
    }

    fn terminate(mut self) -> (std::process::ExitStatus, String, String) {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success());
        let status = self.child.wait().unwrap();
        let mut out = String::new();
        let mut err = String::new();
        self.child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        self.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        (status, out, err)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tiny blocking HTTP/1.1 client, so these tests share nothing with the server's stack.
/// Status 0 means the connection could not be made or was cut.
fn http(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    http_with(method, url, token, body, "")
}

/// [`http`] with more header lines (each ending in `\r\n`).
fn http_with(method: &str, url: &str, token: Option<&str>, body: Option<&Value>, headers: &str) -> (u16, Value) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let Ok(mut stream) = TcpStream::connect(host) else { return (0, Value::Null) };
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{auth}{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(req.as_bytes()).is_err() {
        return (0, Value::Null);
    }
    let mut raw = String::new();
    if stream.read_to_string(&mut raw).is_err() {
        return (0, Value::Null);
    }
    parse_response(&raw)
}

fn parse_response(raw: &str) -> (u16, Value) {
    let status = raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn login(server: &Server, user: &str, password: &str) -> (u16, Value) {
    http("POST", &server.url("/api/v1/auth/login"), None, Some(&json!({"username": user, "password": password})))
}

#[test]
fn cli_creates_users_from_a_script_and_serve_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut add = gridwork(dir.path())
        .args(["user", "add", "boss", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"a-long-admin-password\n").unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user boss"));

    // A coordinator needs a scope: the CLI refuses clearly, with no panic.
    let out = gridwork(dir.path())
        .args(["user", "add", "nobody", "--role", "coordinator", "--password-stdin"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("must be held over an area"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out =
        gridwork(dir.path()).args(["role", "grant", "boss", "coordinator", "--scope", "420102003"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = gridwork(dir.path()).args(["user", "list"]).output().unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("boss") && listing.contains("coordinator@420102003") && listing.contains("admin"),
        "{listing}"
    );

    let port = free_port();
    let server = Server::spawn(
        {
            let mut c = gridwork(dir.path());
            c.args(["serve", "--log-format", "json", "--listen", &format!("127.0.0.1:{port}")]);
            c
        },
        port,
    );
    let (s, body) = login(&server, "boss", "a-long-admin-password");
    assert_eq!(s, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let (s, me) = http("GET", &server.url("/api/v1/me"), Some(&token), None);
    assert_eq!(s, 200);
    assert_eq!(me["roles"].as_array().unwrap().len(), 2);

    // Revoking sessions from the CLI signs the user out of the running server, which has the
    // session in memory by now: it reads the generations of migration 27 four times a second.
    let out = gridwork(dir.path()).args(["user", "revoke-sessions", "boss"]).output().unwrap();
    assert!(out.status.success());
    let revoked = std::time::Instant::now();
    while http("GET", &server.url("/api/v1/me"), Some(&token), None).0 != 401 {
        assert!(revoked.elapsed() < Duration::from_secs(2), "the CLI's revocation went unheard");
        std::thread::sleep(Duration::from_millis(10));
    }

    let (status, _, logs) = server.terminate();
    assert!(status.success(), "exit status {status}");
    // Structured logs: every line JSON, request ids present, no secret anywhere.
    let lines: Vec<Value> =
        logs.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    assert!(lines.iter().any(|l| l["request_id"].is_string() || l["span"]["request_id"].is_string()), "{logs}");
    assert!(!logs.contains("a-long-admin-password"));
    assert!(!logs.contains(&token));
}

#[test]
fn sigterm_lets_in_flight_requests_finish_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::spawn(
        {
            let mut c = gridwork(dir.path());
            c.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
            c
        },
        port,
    );
    // Start a request and hold it half-sent while the server is told to stop.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = json!({"username": "nobody.at.all", "password": "some-password"}).to_string();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused once stopping…
    assert_eq!(http("GET", &server.url("/healthz"), None, None).0, 0);
    // …but the request in flight completes.
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut raw = String::new();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.read_to_string(&mut raw).unwrap();
    let (status, body) = parse_response(&raw);
    assert_eq!(status, 401, "{raw}");
    assert_eq!(body["error"], "invalid_credentials");
    let (exit, _, _) = server.terminate_after_signal();
    assert!(exit.success(), "exit status {exit}");
}

/// An open event stream does not hold a stopping server: SIGTERM ends the stream and the server
/// exits well within its 30 s shutdown timeout.
#[test]
fn sigterm_ends_open_event_streams_and_stops_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::spawn(
        {
            let mut c = gridwork(dir.path());
            c.env_remove("GRIDWORK_DATA_DIR").args(["demo", "--listen", &format!("127.0.0.1:{port}")]);
            c
        },
        port,
    );
    let (s, body) = login(&server, "coordinator", "gridwork-demo");
    assert_eq!(s, 200, "{body}");
    let token = body["token"].as_str().unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!("GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut first = [0u8; 256];
    let n = stream.read(&mut first).unwrap();
    assert!(
        String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&first[..n])
    );
    let started = Instant::now();
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // The stream ends (the server closes it) …
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    // … and the process exits, in well under the 30 s shutdown timeout.
    let (exit, _, _) = server.terminate_after_signal();
    let took = started.elapsed();
    assert!(exit.success(), "exit status {exit}");
    assert!(took < Duration::from_secs(5), "stopping took {took:?}");
}

impl Server {
    fn terminate_after_signal(mut self) -> (std::process::ExitStatus, String, String) {
        let status = self.child.wait().unwrap();
        let mut err = String::new();
        self.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        (status, String::new(), err)
    }
}

#[test]
fn demo_prints_logins_and_serves_them_and_restarts_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..2 {
        let port = free_port();
        let server = Server::spawn(
            {
                let mut c = gridwork(dir.path());
                c.env_remove("GRIDWORK_DATA_DIR").args(["demo", "--listen", &format!("127.0.0.1:{port}")]);
                c
            },
            port,
        );
        let (s, body) = login(&server, "admin", "gridwork-demo");
        assert_eq!(s, 200, "round {round}: {body}");
        let (s, body) = login(&server, "worker.wang", "gridwork-demo");
        assert_eq!(s, 200, "{body}");
        // The demo city is mapped: a point in grid 420102003001001 resolves through all seven levels.
        let token = body["token"].as_str().unwrap();
        let (s, look) = http("GET", &server.url("/api/v1/areas/lookup?lat=30.585&lng=114.27175"), Some(token), None);
        assert_eq!(s, 200, "{look}");
        let levels: Vec<&str> =
            look["chain"].as_array().unwrap().iter().map(|a| a["level"].as_str().unwrap()).collect();
        assert_eq!(levels, ["city", "district", "street", "community", "grid", "compound", "building"], "{look}");
        assert_eq!(look["chain"][4]["code"], "420102003001001");
        let (status, out, _) = server.terminate();
        assert!(status.success());
        assert!(
            out.contains("worker.wang") && out.contains("gridwork-demo") && out.contains(&format!("127.0.0.1:{port}")),
            "{out}"
        );
    }
    assert!(dir.path().join("data/demo/gridwork.sqlite").exists());
}

#[test]
fn settings_layer_file_then_env_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (file_port, env_port) = (free_port(), free_port());
    let config = dir.path().join("gridwork.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{file_port}\"\nsession_ttl_hours = 3\n")).unwrap();
    // The file alone decides the port…
    let server = Server::spawn(
        {
            let mut c = gridwork(dir.path());
            c.args(["serve", "--config", config.to_str().unwrap()]);
            c
        },
        file_port,
    );
    drop(server);
    // …an environment variable beats it.
    let server = Server::spawn(
        {
            let mut c = gridwork(dir.path());
            c.env("GRIDWORK_LISTEN", format!("127.0.0.1:{env_port}")).args([
                "serve",
                "--config",
                config.to_str().unwrap(),
            ]);
            c
        },
        env_port,
    );
    drop(server);
    // A typo in the file is refused with the key named, not ignored.
    std::fs::write(&config, "listne = \"127.0.0.1:1\"\n").unwrap();
    let out = gridwork(dir.path()).args(["serve", "--config", config.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("listne"));
}

#[test]
fn help_documents_every_setting() {
    let dir = tempfile::tempdir().unwrap();
    let out = gridwork(dir.path()).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--listen",
        "GRIDWORK_LISTEN",
        "127.0.0.1:8080",
        "--data-dir",
        "GRIDWORK_DATA_DIR",
        "DATABASE_URL",
        "--config",
        "--log-format",
        "--session-ttl-hours",
        "--login-max-failures",
    ] {
        assert!(help.contains(needle), "serve --help lacks {needle}:\n{help}");
    }
}

#[test]
fn bad_database_urls_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = gridwork(dir.path())
        .env("DATABASE_URL", "mysql://root:hunter2@localhost/x")
        .args(["migrate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL"), "{err}");
    assert!(!err.contains("hunter2"), "the password leaked: {err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn serve_and_migrate_on_postgresql_by_url() {
    let Some(db) = TestDb::new(Backend::Postgres) else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = gridwork(dir.path()).env("DATABASE_URL", db.url.expose()).args(["migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    let port = free_port();
    let server = Server::spawn(
        {
            let mut c = gridwork(dir.path());
            c.env("DATABASE_URL", db.url.expose()).args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
            c
        },
        port,
    );
    let (s, body) = http("GET", &server.url("/readyz"), None, None);
    assert_eq!(s, 200);
    assert_eq!(body["database"], "postgres");
    assert!(!dir.path().join("gridwork.sqlite").exists(), "a PostgreSQL server must not create a SQLite file");
}

#[test]
fn the_privacy_report_prints_what_is_held_with_the_configured_retention() {
    let dir = tempfile::tempdir().unwrap();
    let out = gridwork(dir.path())
        .args(["privacy", "report", "--json", "--notification-retention-days", "90"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = report["holdings"].as_array().unwrap().iter().find(|h| h["kind"] == "notifications").unwrap();
    assert_eq!((notes["rows"].as_i64(), notes["retention_days"].as_i64()), (Some(0), Some(90)));
    let text = gridwork(dir.path()).args(["privacy", "report"]).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("location trails"), "{text:?}");
}

/// A resident erased through the running binary: nothing in its logs ever named him, and
/// `gridwork audit verify` still passes over the timelines he was on.
#[test]
fn an_erased_resident_is_in_no_log_and_the_audit_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::spawn(
        {
            let mut c = gridwork(dir.path());
            c.env_remove("GRIDWORK_DATA_DIR").args(["demo", "--listen", &format!("127.0.0.1:{port}")]);
            c
        },
        port,
    );
    let admin = login(&server, "admin", "gridwork-demo").1["token"].as_str().unwrap().to_owned();
    let body = json!({"username": "zhao.liu", "display_name": "赵六", "phone": "13912345678", "password": "zhao-liu-password"});
    let (s, user) = http("POST", &server.url("/api/v1/users"), Some(&admin), Some(&body));
    assert_eq!(s, 201, "{user}");
    let roles = server.url(&format!("/api/v1/users/{}/roles", user["id"].as_str().unwrap()));
    let (s, g) = http("POST", &roles, Some(&admin), Some(&json!({"role": "resident", "scope": "420102003001"})));
    assert_eq!(s, 201, "{g}");
    let (s, signed) = login(&server, "zhao.liu", "zhao-liu-password");
    assert_eq!(s, 200, "{signed}");
    let zhao = signed["token"].as_str().unwrap().to_owned();
    // A wrong password too: failures are logged as well.
    assert_eq!(login(&server, "zhao.liu", "not-his-password").0, 401);
    let report = json!({"category": "C-03-01", "lat": 30.585, "lng": 114.27175, "description": "井盖坏了 赵六 13912345678",
                        "reporter_location": {"lat": 30.585, "lng": 114.27175}});
    let (s, e) =
        http_with("POST", &server.url("/api/v1/events"), Some(&zhao), Some(&report), "Idempotency-Key: zhao-1\r\n");
    assert_eq!(s, 201, "{e}");
    let (s, request) = http("POST", &server.url("/api/v1/me/erasure-requests"), Some(&zhao), Some(&json!({})));
    assert_eq!(s, 201, "{request}");
    let decision = server.url(&format!("/api/v1/erasure-requests/{}/decision", request["id"].as_str().unwrap()));
    let (s, done) = http("POST", &decision, Some(&admin), Some(&json!({"decision": "carry_out"})));
    assert_eq!((s, done["state"].as_str()), (200, Some("erased")), "{done}");

    let (status, out, err) = server.terminate();
    assert!(status.success());
    for needle in ["赵六", "zhao.liu", "13912345678"] {
        assert!(!out.contains(needle) && !err.contains(needle), "{needle} in the logs:\n{out}\n{err}");
    }
    let verify = gridwork(dir.path()).args(["audit", "verify", "--data-dir", "data/demo"]).output().unwrap();
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{text}{}", String::from_utf8_lossy(&verify.stderr));
    assert!(text.contains(" 0 problems"), "{text}");
}
