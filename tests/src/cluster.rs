//! A real cluster on one machine: several `gridwork serve` processes on one PostgreSQL database
//! behind HAProxy (Debian's `haproxy`, started with a configuration of the test's own), with
//! replicas that can be SIGKILLed and restarted on the same port.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub struct Replica {
    pub port: u16,
    child: Option<Child>,
}

pub struct Cluster {
    bin: PathBuf,
    pub database_url: String,
    pub lb_port: u16,
    replicas: Vec<Replica>,
    env: Vec<(String, String)>,
    haproxy: Child,
    pub dir: tempfile::TempDir,
}

/// `GET /readyz` answered 200.
fn ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /readyz HTTP/1.0\r\nHost: x\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub fn haproxy_binary() -> Option<&'static str> {
    ["/usr/sbin/haproxy", "/usr/bin/haproxy"].into_iter().find(|p| Path::new(p).exists())
}

/// HAProxy as a phone-facing balancer would be set up: round robin, health checks on `/readyz`
/// every 200 ms, a connection refused by a dead replica retried on another (`redispatch`); a
/// request already sent to a replica that dies is *not* retried by HAProxy: the phone resends
/// it with its idempotency key, as it would over a broken mobile network.
fn haproxy_config(lb_port: u16, ports: &[u16]) -> String {
    let mut servers = String::new();
    for (i, p) in ports.iter().enumerate() {
        servers.push_str(&format!("    server r{i} 127.0.0.1:{p} check\n"));
    }
    format!(
        "global\n    maxconn 4096\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 60s\n    timeout server 60s\n    \
         timeout tunnel 1h\n    retries 3\n    option redispatch\n\
         frontend phones\n    bind 127.0.0.1:{lb_port}\n    default_backend gridwork\n\
         backend gridwork\n    balance roundrobin\n    option httpchk GET /readyz\n    \
         default-server inter 200ms fall 2 rise 2\n{servers}"
    )
}

impl Cluster {
    /// `n` replicas of `bin` on `database_url` (already migrated and seeded) behind HAProxy;
    /// returns once HAProxy answers and every replica is ready.
    pub fn start(bin: &Path, database_url: &str, n: usize, env: &[(&str, String)]) -> anyhow::Result<Self> {
        let haproxy = haproxy_binary().context("HAProxy is needed (scripts/test installs Debian's haproxy)")?;
        let dir = tempfile::tempdir()?;
        let ports = (0..n).map(|_| free_port()).collect::<anyhow::Result<Vec<u16>>>()?;
        let lb_port = free_port()?;
        let conf = dir.path().join("haproxy.cfg");
        std::fs::write(&conf, haproxy_config(lb_port, &ports))?;
        let haproxy = Command::new(haproxy)
            .arg("-db")
            .arg("-f")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting haproxy")?;
        let mut cluster = Self {
            bin: bin.to_owned(),
            database_url: database_url.to_owned(),
            lb_port,
            replicas: ports.into_iter().map(|port| Replica { port, child: None }).collect(),
            env: env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            haproxy,
            dir,
        };
        for i in 0..n {
            cluster.up(i)?;
        }
        for i in 0..n {
            cluster.wait_ready(i)?;
        }
        // HAProxy marks a replica up after two passed checks: wait until it forwards to all.
        let start = Instant::now();
        let mut in_a_row = 0;
        while in_a_row < 2 * n {
            in_a_row = if ready(lb_port) { in_a_row + 1 } else { 0 };
            anyhow::ensure!(start.elapsed() < Duration::from_secs(30), "HAProxy does not forward to the replicas");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(cluster)
    }

    /// Where phones go: HAProxy.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.lb_port)
    }

    /// One replica directly.
    pub fn replica_base(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.replicas[i].port)
    }

    pub fn up(&mut self, i: usize) -> anyhow::Result<()> {
        let port = self.replicas[i].port;
        let data = self.dir.path().join(format!("replica-{i}"));
        std::fs::create_dir_all(&data)?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(data.join("server.log"))?;
        let child = Command::new(&self.bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &self.database_url])
            .env("GRIDWORK_DATA_DIR", &data)
            .env("GRIDWORK_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting replica {i}"))?;
        self.replicas[i].child = Some(child);
        Ok(())
    }

    pub fn wait_ready(&self, i: usize) -> anyhow::Result<()> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if ready(self.replicas[i].port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("replica {i} did not become ready; its log: {}", self.log(i))
    }

    /// SIGKILL: no goodbye, requests in flight are cut.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.replicas[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("replica-{i}/server.log"))).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for r in &mut self.replicas {
            if let Some(mut c) = r.child.take() {
                let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
                let _ = c.wait();
            }
        }
        let _ = self.haproxy.kill();
        let _ = self.haproxy.wait();
    }
}
