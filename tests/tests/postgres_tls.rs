//! TLS to PostgreSQL: a second PostgreSQL instance, started here on a scratch cluster with
//! `ssl = on` and plain TCP refused, presents a certificate from a CA made here. Gridwork (its
//! bundled libpq and vendored OpenSSL) connects with `--database-ca-file`, migrates and reads over
//! TLS; a wrong CA, a wrong host name and plain text are each refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::RunQueryDsl;
use gridwork::config::{DatabaseSettings, FileSettings, StorageArgs};
use gridwork::db::Db;
use gridwork::db::tls::Protection;

/// PostgreSQL's server programs (initdb, pg_ctl), if installed.
fn pg_bin() -> Option<PathBuf> {
    let from_config = Command::new("pg_config").arg("--bindir").output().ok().filter(|o| o.status.success());
    let mut dirs: Vec<PathBuf> =
        from_config.map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())).into_iter().collect();
    if let Ok(versions) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut found: Vec<PathBuf> = versions.flatten().map(|v| v.path().join("bin")).collect();
        found.sort();
        dirs.extend(found.into_iter().rev());
    }
    dirs.into_iter().find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
}

/// Runs a server program, as the `postgres` user when we are root (PostgreSQL refuses root).
fn run_pg(bin: &Path, args: &[&str]) -> std::process::Output {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args).output().unwrap()
}

fn chown_postgres(path: &Path) {
    let _ = Command::new("chown").args(["-R", "postgres:postgres"]).arg(path).status();
}

struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
    port: u16,
    ca: PathBuf,
    wrong_ca: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        run_pg(&self.bin.join("pg_ctl"), &["-D", &self.data.to_string_lossy(), "-m", "immediate", "stop"]);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A CA and a certificate it signs for `localhost` only.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        (cert, Issuer::new(params, key))
    };
    let (ca_cert, issuer) = ca("Gridwork test CA");
    let (wrong_cert, _) = ca("Someone else's CA");
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, "localhost");
    let server = params.signed_by(&key, &issuer).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("wrong-ca.pem"), dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, wrong_cert.pem()).unwrap();
    std::fs::write(&paths.2, server.pem()).unwrap();
    std::fs::write(&paths.3, key.serialize_pem()).unwrap();
    paths
}

/// `None` (skipped) when PostgreSQL's server programs are missing and PostgreSQL is not required.
fn start() -> Option<Cluster> {
    let Some(bin) = pg_bin() else {
        let required = std::env::var("GRIDWORK_TEST_REQUIRE_PG").is_ok_and(|v| v == "1" || v == "true");
        assert!(!required, "PostgreSQL required, but initdb and pg_ctl are not installed");
        eprintln!("SKIPPED: no initdb/pg_ctl");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ca, wrong_ca, crt, key) = certificates(dir.path());
    chown_postgres(dir.path());
    let out =
        run_pg(&bin.join("initdb"), &["-D", &data.to_string_lossy(), "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
    assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
    for (from, name) in [(&crt, "server.crt"), (&key, "server.key")] {
        std::fs::copy(from, data.join(name)).unwrap();
    }
    let port = free_port();
    let conf = format!(
        "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nssl = on\n\
         ssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nfsync = off\n",
        data.display()
    );
    let mut pg_conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
    pg_conf.push_str(&conf);
    std::fs::write(data.join("postgresql.conf"), pg_conf).unwrap();
    // TLS or nothing over TCP.
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
    )
    .unwrap();
    chown_postgres(&data);
    let key_mode = std::os::unix::fs::PermissionsExt::from_mode(0o600);
    std::fs::set_permissions(data.join("server.key"), key_mode).unwrap();
    let log = dir.path().join("pg.log");
    let out =
        run_pg(&bin.join("pg_ctl"), &["-D", &data.to_string_lossy(), "-l", &log.to_string_lossy(), "-w", "start"]);
    assert!(
        out.status.success(),
        "pg_ctl start: {} {}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    Some(Cluster { bin, data, _dir: dir, port, ca, wrong_ca })
}

fn settings(url: &str, ca: Option<&Path>) -> anyhow::Result<DatabaseSettings> {
    let args = StorageArgs {
        database_url: Some(url.to_owned()),
        database_ca_file: ca.map(Path::to_path_buf),
        ..Default::default()
    };
    Ok(DatabaseSettings::resolve(&args, &FileSettings::default())?.1)
}

#[derive(diesel::QueryableByName)]
struct Tls {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ssl: bool,
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// Connects (and migrates), then asks the server whether this connection is TLS.
fn connect(s: &DatabaseSettings) -> Result<Tls, String> {
    let db = Db::connect(&s.url, &s.pool).map_err(|e| e.to_string())?;
    let mut conn = db.get().map_err(|e| e.message)?;
    gridwork::db::migrate::run_pending(&mut conn).map_err(|e| e.to_string())?;
    diesel::sql_query("SELECT ssl, COALESCE(version, '') AS version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result::<Tls>(&mut *conn)
        .map_err(|e| e.to_string())
}

#[test]
fn gridwork_talks_to_postgresql_over_verified_tls_only() {
    let Some(pg) = start() else { return };
    let url = |host: &str| format!("postgres://postgres@{host}:{}/postgres", pg.port);

    // The CA file setting: verify-full against it, over TLS, and the migrations run.
    let s = settings(&url("localhost"), Some(&pg.ca)).unwrap();
    assert_eq!(s.url.protection(), Some(Protection::Verified));
    let tls = connect(&s).unwrap();
    assert!(tls.ssl && tls.version.starts_with("TLSv1."), "{}", tls.version);

    // Someone else's CA: the server is not trusted.
    let err = connect(&settings(&url("localhost"), Some(&pg.wrong_ca)).unwrap()).err().unwrap();
    assert!(err.contains("certificate verify failed"), "{err}");
    // The right CA, but the certificate does not name the host connected to.
    let err = connect(&settings(&url("127.0.0.1"), Some(&pg.ca)).unwrap()).err().unwrap();
    assert!(err.contains("does not match host name") || err.contains("127.0.0.1"), "{err}");
    // Plain text is refused by this server; TLS without verification still encrypts.
    let err = connect(&settings(&format!("{}?sslmode=disable", url("localhost")), None).unwrap()).err().unwrap();
    assert!(err.contains("no encryption") || err.contains("rejects connection"), "{err}");
    let tls = connect(&settings(&format!("{}?sslmode=require", url("localhost")), None).unwrap()).unwrap();
    assert!(tls.ssl);
    // A CA file for a SQLite database is a mistake, said at start-up.
    let err = settings("/tmp/x.sqlite", Some(&pg.ca)).err().unwrap();
    assert!(err.to_string().contains("PostgreSQL"), "{err}");
}
