//! A `gridwork demo` server process for the load generator and the field simulator, and the
//! admin calls they make on it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// A memory field of a process's `/proc/PID/status` (`VmRSS:` now, `VmHWM:` at its peak) in MB;
/// `pid` `"self"` for this process.
pub fn memory_mb(pid: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The password of the users the tools create.
pub const PASSWORD: &str = "load-test-password-1";

pub struct Server {
    pub child: Child,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

/// Starts `gridwork demo` on a free port over `url` (an empty data folder of its own).
pub fn start_server(url: &str, fcm: Option<&crate::fcm::FcmDouble>) -> anyhow::Result<Server> {
    start_server_with(url, fcm, &[])
}

/// [`start_server`] with more settings in its environment (`GRIDWORK_MQTT_URL` …).
pub fn start_server_with(
    url: &str,
    fcm: Option<&crate::fcm::FcmDouble>,
    env: &[(&str, String)],
) -> anyhow::Result<Server> {
    let bin = std::env::current_exe()?.with_file_name("gridwork");
    if !bin.exists() {
        bail!("{} is missing: cargo build --release -p gridwork-backend --bin gridwork", bin.display());
    }
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut cmd = Command::new(bin);
    if let Some(fcm) = fcm {
        cmd.env("GRIDWORK_FCM_CREDENTIALS", &fcm.credentials).env("GRIDWORK_FCM_ENDPOINT", &fcm.url);
    }
    let child = cmd
        .args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--database-url", url])
        .env("GRIDWORK_DATA_DIR", dir.path())
        .env("GRIDWORK_DB_POOL_SIZE", "16")
        // One machine plays every phone: per-address limits would measure themselves.
        .env("GRIDWORK_LIMIT_REPORTS_PER_MINUTE", "0")
        .env("GRIDWORK_LIMIT_SIGN_INS_PER_MINUTE", "0")
        .env("GRIDWORK_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    Ok(Server { child, base: format!("http://127.0.0.1:{port}"), _dir: dir })
}

pub async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not become ready")
}

pub async fn login(client: &reqwest::Client, base: &str, user: &str, password: &str) -> anyhow::Result<String> {
    let r: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    r["token"].as_str().map(str::to_owned).with_context(|| format!("login of {user} failed: {r}"))
}

/// Creates a user with one role through the admin API and signs them in.
pub async fn phone_user(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    name: &str,
    role: &str,
    scope: &str,
) -> anyhow::Result<String> {
    let r: Value = client
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(admin)
        .json(&json!({"username": name, "display_name": name, "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let id = r["id"].as_str().with_context(|| format!("creating {name}: {r}"))?;
    let g = client
        .post(format!("{base}/api/v1/users/{id}/roles"))
        .bearer_auth(admin)
        .json(&json!({"role": role, "scope": scope}))
        .send()
        .await?;
    if !g.status().is_success() {
        bail!("granting {role} to {name}: {}", g.text().await?);
    }
    login(client, base, name, PASSWORD).await
}
