//! Typed settings. Each value comes from, in rising precedence: the built-in default, the
//! optional TOML config file (`--config`), a `GRIDWORK_*` environment variable, a command-line
//! flag. Flags and variables are declared once, in clap, so `--help` documents all of them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use crate::auth::throttle::ThrottlePolicy;
use crate::db::DbUrl;
use crate::db::conn::PoolOptions;

/// Storage flags, shared by every command that opens the database.
#[derive(Debug, Clone, Default, Args)]
pub struct StorageArgs {
    /// Directory for the SQLite file and, later, photos [default: ./data]
    #[arg(long, env = "GRIDWORK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: postgres://user:pass@host/db for PostgreSQL, or a SQLite file path.
    /// Overrides the SQLite file under --data-dir [default: DIR/gridwork.sqlite]
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// PEM file of the CA that signed the PostgreSQL server's certificate: the connection then
    /// uses TLS with sslmode=verify-full (without it, a remote server gets sslmode=require)
    #[arg(long, env = "GRIDWORK_DATABASE_CA_FILE", value_name = "PEM")]
    pub database_ca_file: Option<PathBuf>,
    /// Maximum pooled database connections [default: 10]
    #[arg(long, env = "GRIDWORK_DB_POOL_SIZE", value_name = "N")]
    pub db_pool_size: Option<u32>,
    /// Seconds a request waits for a free database connection before it gets 503 [default: 5]
    #[arg(long, env = "GRIDWORK_DB_ACQUIRE_TIMEOUT", value_name = "SECS")]
    pub db_acquire_timeout: Option<u64>,
}

/// Server flags of `serve` and `demo`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "GRIDWORK_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// HTTP worker threads [default: number of cores]
    #[arg(long, env = "GRIDWORK_WORKERS", value_name = "N")]
    pub workers: Option<usize>,
    /// Largest accepted request body in bytes [default: 262144]
    #[arg(long, env = "GRIDWORK_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Largest accepted area import (GeoJSON) in bytes [default: 67108864]
    #[arg(long, env = "GRIDWORK_MAX_IMPORT_BYTES", value_name = "BYTES")]
    pub max_import_bytes: Option<usize>,
    /// Seconds in-flight requests get to finish after SIGTERM [default: 30]
    #[arg(long, env = "GRIDWORK_SHUTDOWN_TIMEOUT", value_name = "SECS")]
    pub shutdown_timeout: Option<u64>,
    /// Hours a sign-in stays valid [default: 168]
    #[arg(long, env = "GRIDWORK_SESSION_TTL_HOURS", value_name = "HOURS")]
    pub session_ttl_hours: Option<i64>,
    /// Failed sign-ins per account within the window before it is locked [default: 5]
    #[arg(long, env = "GRIDWORK_LOGIN_MAX_FAILURES", value_name = "N")]
    pub login_max_failures: Option<i32>,
    /// Failed sign-ins per client address within the window before it is locked [default: 20]
    #[arg(long, env = "GRIDWORK_LOGIN_MAX_FAILURES_PER_IP", value_name = "N")]
    pub login_max_failures_per_ip: Option<i32>,
    /// Minutes over which failures are counted, and how long a lock lasts [default: 15]
    #[arg(long, env = "GRIDWORK_LOGIN_LOCKOUT_MINUTES", value_name = "MIN")]
    pub login_lockout_minutes: Option<i64>,
    /// Take the client address from X-Forwarded-For (only behind a trusted reverse proxy)
    #[arg(long, env = "GRIDWORK_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: Option<bool>,
    /// Keep signed-in sessions in memory (dropped on every change to who may do what, on every
    /// replica); false reads the database on every request [default: true]
    #[arg(long, env = "GRIDWORK_SESSION_CACHE")]
    pub session_cache: Option<bool>,
    /// Keep the catalog, webhook subscriptions and running emergencies in memory (dropped on every
    /// change, on every replica); false reads them for every report [default: true]
    #[arg(long, env = "GRIDWORK_STANDING_CACHE")]
    pub standing_cache: Option<bool>,
    /// File phones' reports that arrive together in one transaction (one commit for the group);
    /// false gives each report its own [default: true]
    #[arg(long, env = "GRIDWORK_GROUP_COMMIT")]
    pub group_commit: Option<bool>,
    /// Keep on-duty grid workers (positions, open tasks) in memory for dispatch, confirmed in the
    /// database before each assignment; false reads the street's workers for every dispatch
    /// [default: true]
    #[arg(long, env = "GRIDWORK_DUTY_ROSTER")]
    pub duty_roster: Option<bool>,
    /// Open tasks a field worker may hold before dispatch looks further afield [default: 8]
    #[arg(long, env = "GRIDWORK_MAX_TASKS_PER_WORKER", value_name = "N")]
    pub max_tasks_per_worker: Option<i64>,
    /// Seconds between deadline scans (warnings, escalation); 0 turns the scheduler off [default: 30]
    #[arg(long, env = "GRIDWORK_SCHEDULER_INTERVAL", value_name = "SECS")]
    pub scheduler_interval: Option<u64>,
    /// Share of a stage's time after which a deadline warning goes out, in percent [default: 80]
    #[arg(long, env = "GRIDWORK_WARNING_PERCENT", value_name = "PCT")]
    pub warning_percent: Option<i64>,
    /// Hours the responsible unit has to reply to a supervision order before it escalates [default: 24]
    #[arg(long, env = "GRIDWORK_SUPERVISION_REPLY_HOURS", value_name = "HOURS")]
    pub supervision_reply_hours: Option<i64>,
    /// Days over which recurring reports make a hotspot [default: 7]
    #[arg(long, env = "GRIDWORK_HOTSPOT_WINDOW_DAYS", value_name = "DAYS")]
    pub hotspot_window_days: Option<i64>,
    /// Reports of one category in one H3 cell (resolution 9, about 0.1 km²) that make a hotspot [default: 3]
    #[arg(long, env = "GRIDWORK_HOTSPOT_MIN_EVENTS", value_name = "N")]
    pub hotspot_min_events: Option<i64>,
    /// Firebase service account key (JSON) for push; without it push is off
    #[arg(long, env = "GRIDWORK_FCM_CREDENTIALS", value_name = "FILE")]
    pub fcm_credentials: Option<PathBuf>,
    /// FCM base URL [default: https://fcm.googleapis.com]
    #[arg(long, env = "GRIDWORK_FCM_ENDPOINT", value_name = "URL")]
    pub fcm_endpoint: Option<String>,
    /// OAuth token endpoint, overriding the one in the credentials
    #[arg(long, env = "GRIDWORK_FCM_TOKEN_URI", value_name = "URL")]
    pub fcm_token_uri: Option<String>,
    /// Where photos are stored: a directory, or s3://bucket/prefix (credentials and endpoint from
    /// the AWS_* environment) [default: DATA_DIR/evidence]
    #[arg(long, env = "GRIDWORK_EVIDENCE_STORE", value_name = "URL")]
    pub evidence_store: Option<String>,
    /// Largest accepted photo in bytes [default: 15728640]
    #[arg(long, env = "GRIDWORK_EVIDENCE_MAX_BYTES", value_name = "BYTES")]
    pub evidence_max_bytes: Option<usize>,
    /// Largest accepted photo in pixels (width × height) [default: 50000000]
    #[arg(long, env = "GRIDWORK_EVIDENCE_MAX_PIXELS", value_name = "N")]
    pub evidence_max_pixels: Option<u64>,
    /// Days photos are kept after their event is closed or rejected; 0 keeps them [default: 730]
    #[arg(long, env = "GRIDWORK_EVIDENCE_RETENTION_DAYS", value_name = "DAYS")]
    pub evidence_retention_days: Option<u32>,
    /// The cameras' time zone, for EXIF capture times that carry none, in minutes east of UTC
    /// [default: 480, China Standard Time]
    #[arg(long, env = "GRIDWORK_CAMERA_UTC_OFFSET_MINUTES", value_name = "MIN", allow_hyphen_values = true)]
    pub camera_utc_offset_minutes: Option<i32>,
    /// Days location pings are kept; the scheduler purges older ones (0: kept forever)
    /// [default: 30]
    #[arg(long, env = "GRIDWORK_LOCATION_RETENTION_DAYS", value_name = "DAYS")]
    pub location_retention_days: Option<u32>,
    /// Days notifications (and their delivery records) are kept (0: kept forever) [default: 180]
    #[arg(long, env = "GRIDWORK_NOTIFICATION_RETENTION_DAYS", value_name = "DAYS")]
    pub notification_retention_days: Option<u32>,
    /// Days a deactivated device's push token is kept before the row goes (0: kept forever) [default: 30]
    #[arg(long, env = "GRIDWORK_DEVICE_RETENTION_DAYS", value_name = "DAYS")]
    pub device_retention_days: Option<u32>,
    /// Days audit entries are kept, reads of personal data included (0: kept forever) [default: 1095]
    #[arg(long, env = "GRIDWORK_AUDIT_RETENTION_DAYS", value_name = "DAYS")]
    pub audit_retention_days: Option<u32>,
    /// Days a hotline caller's name and phone are kept after the call, once the case is over
    /// (0: kept forever) [default: 365]
    #[arg(long, env = "GRIDWORK_HOTLINE_RETENTION_DAYS", value_name = "DAYS")]
    pub hotline_retention_days: Option<u32>,
    /// Seconds one webhook POST may take [default: 10]
    #[arg(long, env = "GRIDWORK_WEBHOOK_TIMEOUT_SECS", value_name = "SECS")]
    pub webhook_timeout_secs: Option<u64>,
    /// Seconds before a failed webhook is tried again; each further retry waits twice as long
    /// (at most an hour) [default: 10]
    #[arg(long, env = "GRIDWORK_WEBHOOK_RETRY_SECS", value_name = "SECS")]
    pub webhook_retry_secs: Option<u64>,
    /// Attempts before a webhook delivery is given up [default: 10]
    #[arg(long, env = "GRIDWORK_WEBHOOK_MAX_ATTEMPTS", value_name = "N")]
    pub webhook_max_attempts: Option<i32>,
    /// Failed attempts in a row after which a webhook subscription is switched off and its owner
    /// told [default: 50]
    #[arg(long, env = "GRIDWORK_WEBHOOK_DISABLE_AFTER", value_name = "N")]
    pub webhook_disable_after: Option<i32>,
    /// The MQTT broker sensors publish readings to, e.g. mqtt://127.0.0.1:1883 (user and
    /// password in the URL if the broker asks) [default: none; readings only over HTTP]
    #[arg(long, env = "GRIDWORK_MQTT_URL", value_name = "URL")]
    pub mqtt_url: Option<String>,
    /// This server's MQTT client id; its session (and the readings queued for it while it is
    /// away) is kept by the broker under it [default: gridwork]
    #[arg(long, env = "GRIDWORK_MQTT_CLIENT_ID", value_name = "ID")]
    pub mqtt_client_id: Option<String>,
    /// Share the readings among the servers of a group (MQTT shared subscription) instead of
    /// every server taking every reading [default: none]
    #[arg(long, env = "GRIDWORK_MQTT_SHARE_GROUP", value_name = "NAME")]
    pub mqtt_share_group: Option<String>,
    /// Days raw sensor readings are kept; older ones live on in the roll-ups [default: 7]
    #[arg(long, env = "GRIDWORK_READING_RETENTION_DAYS", value_name = "DAYS")]
    pub reading_retention_days: Option<u32>,
    /// Days minute roll-ups of readings are kept (0: kept forever) [default: 90]
    #[arg(long, env = "GRIDWORK_MINUTE_ROLLUP_RETENTION_DAYS", value_name = "DAYS")]
    pub minute_rollup_retention_days: Option<u32>,
    /// Days hour roll-ups of readings are kept (0: kept forever) [default: 1095]
    #[arg(long, env = "GRIDWORK_HOUR_ROLLUP_RETENTION_DAYS", value_name = "DAYS")]
    pub hour_rollup_retention_days: Option<u32>,
    /// Send Strict-Transport-Security (the site is served over HTTPS by a proxy in front)
    #[arg(long, env = "GRIDWORK_HSTS")]
    pub hsts: Option<bool>,
    /// Sign-in attempts per client address and minute, 0 for no limit [default: 30]
    #[arg(long, env = "GRIDWORK_LIMIT_SIGN_INS_PER_MINUTE", value_name = "N")]
    pub limit_sign_ins_per_minute: Option<u32>,
    /// Volunteer sign-ups per client address and hour, 0 for no limit [default: 20]
    #[arg(long, env = "GRIDWORK_LIMIT_SIGN_UPS_PER_HOUR", value_name = "N")]
    pub limit_sign_ups_per_hour: Option<u32>,
    /// Community searches of the sign-up form per client address and minute, 0 for no limit [default: 120]
    #[arg(long, env = "GRIDWORK_LIMIT_LOOKUPS_PER_MINUTE", value_name = "N")]
    pub limit_lookups_per_minute: Option<u32>,
    /// Reports filed per client address and minute, 0 for no limit [default: 60]
    #[arg(long, env = "GRIDWORK_LIMIT_REPORTS_PER_MINUTE", value_name = "N")]
    pub limit_reports_per_minute: Option<u32>,
    /// Base-map tiles for the console, e.g. https://tile.example.com/{z}/{x}/{y}.png (`{s}` for
    /// subdomains) [default: none; the map shows outlines only]
    #[arg(long, env = "GRIDWORK_MAP_TILES", value_name = "URL")]
    pub map_tiles: Option<String>,
    /// The tiles' coordinate system: wgs84, or gcj02 for Chinese providers (AMap, Tencent)
    /// [default: wgs84]
    #[arg(long, env = "GRIDWORK_MAP_TILES_CRS", value_name = "CRS")]
    pub map_tiles_crs: Option<String>,
    /// The tiles' attribution, as their licence requires
    #[arg(long, env = "GRIDWORK_MAP_TILES_ATTRIBUTION", value_name = "TEXT")]
    pub map_tiles_attribution: Option<String>,
    /// What `{s}` in the tile URL takes [default: abc]
    #[arg(long, env = "GRIDWORK_MAP_TILES_SUBDOMAINS", value_name = "CHARS")]
    pub map_tiles_subdomains: Option<String>,
}

/// The config file: the same settings as the flags, snake_case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub database_ca_file: Option<PathBuf>,
    pub db_pool_size: Option<u32>,
    pub db_acquire_timeout: Option<u64>,
    pub workers: Option<usize>,
    pub max_body_bytes: Option<usize>,
    pub max_import_bytes: Option<usize>,
    pub shutdown_timeout: Option<u64>,
    pub session_ttl_hours: Option<i64>,
    pub login_max_failures: Option<i32>,
    pub login_max_failures_per_ip: Option<i32>,
    pub login_lockout_minutes: Option<i64>,
    pub trust_forwarded_for: Option<bool>,
    pub session_cache: Option<bool>,
    pub standing_cache: Option<bool>,
    pub group_commit: Option<bool>,
    pub duty_roster: Option<bool>,
    pub max_tasks_per_worker: Option<i64>,
    pub scheduler_interval: Option<u64>,
    pub warning_percent: Option<i64>,
    pub supervision_reply_hours: Option<i64>,
    pub hotspot_window_days: Option<i64>,
    pub hotspot_min_events: Option<i64>,
    pub fcm_credentials: Option<PathBuf>,
    pub fcm_endpoint: Option<String>,
    pub fcm_token_uri: Option<String>,
    pub evidence_store: Option<String>,
    pub evidence_max_bytes: Option<usize>,
    pub evidence_max_pixels: Option<u64>,
    pub evidence_retention_days: Option<u32>,
    pub camera_utc_offset_minutes: Option<i32>,
    pub location_retention_days: Option<u32>,
    pub notification_retention_days: Option<u32>,
    pub device_retention_days: Option<u32>,
    pub audit_retention_days: Option<u32>,
    pub hotline_retention_days: Option<u32>,
    pub webhook_timeout_secs: Option<u64>,
    pub webhook_retry_secs: Option<u64>,
    pub webhook_max_attempts: Option<i32>,
    pub webhook_disable_after: Option<i32>,
    pub mqtt_url: Option<String>,
    pub mqtt_client_id: Option<String>,
    pub mqtt_share_group: Option<String>,
    pub reading_retention_days: Option<u32>,
    pub minute_rollup_retention_days: Option<u32>,
    pub hour_rollup_retention_days: Option<u32>,
    pub hsts: Option<bool>,
    pub limit_sign_ins_per_minute: Option<u32>,
    pub limit_sign_ups_per_hour: Option<u32>,
    pub limit_lookups_per_minute: Option<u32>,
    pub limit_reports_per_minute: Option<u32>,
    pub map_tiles: Option<String>,
    pub map_tiles_crs: Option<String>,
    pub map_tiles_attribution: Option<String>,
    pub map_tiles_subdomains: Option<String>,
}

impl FileSettings {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else { return Ok(Self::default()) };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("invalid config file {}: {e}", path.display()))
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: DbUrl,
    pub pool: PoolOptions,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub workers: usize,
    pub max_body_bytes: usize,
    pub max_import_bytes: usize,
    pub shutdown_timeout: Duration,
    pub session_ttl: chrono::Duration,
    pub throttle: ThrottlePolicy,
    pub trust_forwarded_for: bool,
    /// Whether signed-in sessions are kept in memory (`auth::cache`).
    pub session_cache: bool,
    /// Whether the standing data is kept in memory (`standing`).
    pub standing_cache: bool,
    /// Whether reports that arrive together share a transaction (`events::group_commit`).
    pub group_commit: bool,
    /// Whether on-duty grid workers are kept in memory for dispatch (`roster`).
    pub duty_roster: bool,
    pub event_loop: LoopSettings,
    pub push: crate::push::PushSettings,
    pub evidence: crate::evidence::EvidenceSettings,
    pub map: crate::console::MapSettings,
    /// How long location pings are kept (`None`: forever).
    pub location_retention: Option<chrono::Duration>,
    /// Security headers and per-client limits.
    pub hardening: crate::http::hardening::Hardening,
    /// How long notifications, deactivated devices and audit entries are kept.
    pub retention: crate::retention::Retention,
    /// How webhooks are sent.
    pub webhooks: crate::webhooks::sender::Policy,
    /// Readings in (MQTT) and how long they are kept.
    pub sensing: crate::sensing::SensingSettings,
}

/// Dispatch and deadline policy.
#[derive(Debug, Clone, Copy)]
pub struct LoopSettings {
    pub max_tasks_per_worker: i64,
    /// `None`: the scheduler does not run in this process.
    pub scheduler_interval: Option<Duration>,
    pub warning_percent: i64,
    /// How long the responsible unit has to reply to a supervision order.
    pub supervision_reply: chrono::Duration,
    /// Recurring reports within this window make a hotspot …
    pub hotspot_window: chrono::Duration,
    /// … when at least this many fall in one cell.
    pub hotspot_min_events: usize,
}

fn positive<T: PartialOrd + Default + std::fmt::Display>(name: &str, v: T) -> anyhow::Result<T> {
    if v > T::default() { Ok(v) } else { anyhow::bail!("{name} must be positive, got {v}") }
}

impl DatabaseSettings {
    pub fn resolve(args: &StorageArgs, file: &FileSettings) -> anyhow::Result<(PathBuf, Self)> {
        let data_dir =
            args.data_dir.clone().or_else(|| file.data_dir.clone()).unwrap_or_else(|| PathBuf::from("./data"));
        let url = match args.database_url.clone().or_else(|| file.database_url.clone()) {
            Some(raw) if !raw.trim().is_empty() => DbUrl::parse(raw.trim()).map_err(anyhow::Error::msg)?,
            _ => DbUrl::sqlite_file(&data_dir.join("gridwork.sqlite")),
        };
        let ca = args.database_ca_file.as_deref().or(file.database_ca_file.as_deref());
        let url = url.with_tls(ca).map_err(anyhow::Error::msg)?;
        let pool = PoolOptions {
            max_size: positive("db_pool_size", args.db_pool_size.or(file.db_pool_size).unwrap_or(10))?,
            acquire_timeout: Duration::from_secs(positive(
                "db_acquire_timeout",
                args.db_acquire_timeout.or(file.db_acquire_timeout).unwrap_or(5),
            )?),
        };
        Ok((data_dir, Self { url, pool }))
    }
}

impl Settings {
    pub fn resolve(args: &ServeArgs, file: &FileSettings) -> anyhow::Result<Self> {
        let (data_dir, database) = DatabaseSettings::resolve(&args.storage, file)?;
        let evidence = crate::evidence::EvidenceSettings::resolve(args, file, &data_dir)?;
        let lockout =
            positive("login_lockout_minutes", args.login_lockout_minutes.or(file.login_lockout_minutes).unwrap_or(15))?;
        Ok(Self {
            listen: args.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir,
            database,
            workers: positive(
                "workers",
                args.workers
                    .or(file.workers)
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
            )?,
            max_body_bytes: positive(
                "max_body_bytes",
                args.max_body_bytes.or(file.max_body_bytes).unwrap_or(256 * 1024),
            )?,
            max_import_bytes: positive(
                "max_import_bytes",
                args.max_import_bytes.or(file.max_import_bytes).unwrap_or(64 * 1024 * 1024),
            )?,
            shutdown_timeout: Duration::from_secs(args.shutdown_timeout.or(file.shutdown_timeout).unwrap_or(30)),
            session_ttl: chrono::Duration::hours(positive(
                "session_ttl_hours",
                args.session_ttl_hours.or(file.session_ttl_hours).unwrap_or(168),
            )?),
            throttle: ThrottlePolicy {
                max_failures_per_account: positive(
                    "login_max_failures",
                    args.login_max_failures.or(file.login_max_failures).unwrap_or(5),
                )?,
                max_failures_per_ip: positive(
                    "login_max_failures_per_ip",
                    args.login_max_failures_per_ip.or(file.login_max_failures_per_ip).unwrap_or(20),
                )?,
                window: chrono::Duration::minutes(lockout),
                lockout: chrono::Duration::minutes(lockout),
            },
            trust_forwarded_for: args.trust_forwarded_for.or(file.trust_forwarded_for).unwrap_or(false),
            session_cache: args.session_cache.or(file.session_cache).unwrap_or(true),
            standing_cache: args.standing_cache.or(file.standing_cache).unwrap_or(true),
            group_commit: args.group_commit.or(file.group_commit).unwrap_or(true),
            duty_roster: args.duty_roster.or(file.duty_roster).unwrap_or(true),
            event_loop: LoopSettings {
                max_tasks_per_worker: positive(
                    "max_tasks_per_worker",
                    args.max_tasks_per_worker.or(file.max_tasks_per_worker).unwrap_or(8),
                )?,
                scheduler_interval: match args.scheduler_interval.or(file.scheduler_interval).unwrap_or(30) {
                    0 => None,
                    s => Some(Duration::from_secs(s)),
                },
                warning_percent: match args.warning_percent.or(file.warning_percent).unwrap_or(80) {
                    p @ 1..=99 => p,
                    p => anyhow::bail!("warning_percent must be within 1..=99, got {p}"),
                },
                supervision_reply: chrono::Duration::hours(positive(
                    "supervision_reply_hours",
                    args.supervision_reply_hours.or(file.supervision_reply_hours).unwrap_or(24),
                )?),
                hotspot_window: chrono::Duration::days(positive(
                    "hotspot_window_days",
                    args.hotspot_window_days.or(file.hotspot_window_days).unwrap_or(7),
                )?),
                hotspot_min_events: match args.hotspot_min_events.or(file.hotspot_min_events).unwrap_or(3) {
                    n @ 2..=1000 => usize::try_from(n).unwrap_or(3),
                    n => anyhow::bail!("hotspot_min_events must be within 2..=1000, got {n}"),
                },
            },
            push: crate::push::PushSettings {
                credentials: args.fcm_credentials.clone().or_else(|| file.fcm_credentials.clone()),
                endpoint: args
                    .fcm_endpoint
                    .clone()
                    .or_else(|| file.fcm_endpoint.clone())
                    .unwrap_or_else(|| crate::push::PushSettings::default().endpoint),
                token_uri: args.fcm_token_uri.clone().or_else(|| file.fcm_token_uri.clone()),
            },
            evidence,
            location_retention: match args.location_retention_days.or(file.location_retention_days).unwrap_or(30) {
                0 => None,
                d => Some(chrono::Duration::days(i64::from(d))),
            },
            retention: {
                let days = |v: Option<u32>, default: u32| match v.unwrap_or(default) {
                    0 => None,
                    d => Some(chrono::Duration::days(i64::from(d))),
                };
                crate::retention::Retention {
                    notifications: days(args.notification_retention_days.or(file.notification_retention_days), 180),
                    deactivated_devices: days(args.device_retention_days.or(file.device_retention_days), 30),
                    audit: days(args.audit_retention_days.or(file.audit_retention_days), 1095),
                    hotline_callers: days(args.hotline_retention_days.or(file.hotline_retention_days), 365),
                }
            },
            webhooks: {
                let d = crate::webhooks::sender::Policy::default();
                let secs = |v: Option<u64>, d: std::time::Duration| v.map_or(d, std::time::Duration::from_secs);
                crate::webhooks::sender::Policy {
                    timeout: secs(args.webhook_timeout_secs.or(file.webhook_timeout_secs), d.timeout),
                    retry_base: secs(args.webhook_retry_secs.or(file.webhook_retry_secs), d.retry_base),
                    max_attempts: args
                        .webhook_max_attempts
                        .or(file.webhook_max_attempts)
                        .unwrap_or(d.max_attempts)
                        .max(1),
                    disable_after: args
                        .webhook_disable_after
                        .or(file.webhook_disable_after)
                        .unwrap_or(d.disable_after)
                        .max(1),
                }
            },
            sensing: {
                let days = |v: Option<u32>, default: u32| match v.unwrap_or(default) {
                    0 => None,
                    d => Some(chrono::Duration::days(i64::from(d))),
                };
                crate::sensing::SensingSettings {
                    mqtt: args.mqtt_url.clone().or_else(|| file.mqtt_url.clone()).map(|url| {
                        crate::sensing::mqtt::MqttSettings {
                            url,
                            client_id: args
                                .mqtt_client_id
                                .clone()
                                .or_else(|| file.mqtt_client_id.clone())
                                .unwrap_or_else(|| "gridwork".to_owned()),
                            share_group: args.mqtt_share_group.clone().or_else(|| file.mqtt_share_group.clone()),
                        }
                    }),
                    raw_retention: chrono::Duration::days(i64::from(positive(
                        "reading_retention_days",
                        args.reading_retention_days.or(file.reading_retention_days).unwrap_or(7),
                    )?)),
                    minute_retention: days(args.minute_rollup_retention_days.or(file.minute_rollup_retention_days), 90),
                    hour_retention: days(args.hour_rollup_retention_days.or(file.hour_rollup_retention_days), 1095),
                }
            },
            hardening: {
                let d = crate::http::hardening::RateLimits::default();
                crate::http::hardening::Hardening {
                    hsts: args.hsts.or(file.hsts).unwrap_or(false),
                    limits: crate::http::hardening::RateLimits {
                        sign_ins_per_minute: args
                            .limit_sign_ins_per_minute
                            .or(file.limit_sign_ins_per_minute)
                            .unwrap_or(d.sign_ins_per_minute),
                        sign_ups_per_hour: args
                            .limit_sign_ups_per_hour
                            .or(file.limit_sign_ups_per_hour)
                            .unwrap_or(d.sign_ups_per_hour),
                        lookups_per_minute: args
                            .limit_lookups_per_minute
                            .or(file.limit_lookups_per_minute)
                            .unwrap_or(d.lookups_per_minute),
                        reports_per_minute: args
                            .limit_reports_per_minute
                            .or(file.limit_reports_per_minute)
                            .unwrap_or(d.reports_per_minute),
                    },
                }
            },
            map: crate::console::MapSettings::resolve(
                args.map_tiles.clone().or_else(|| file.map_tiles.clone()),
                args.map_tiles_crs.as_deref().or(file.map_tiles_crs.as_deref()),
                args.map_tiles_attribution.clone().or_else(|| file.map_tiles_attribution.clone()),
                args.map_tiles_subdomains.clone().or_else(|| file.map_tiles_subdomains.clone()),
            )?,
        })
    }

    /// Defaults everywhere, one database: what tests and embedders start from.
    pub fn for_database(url: DbUrl, data_dir: PathBuf) -> Self {
        let mut s =
            Self::resolve(&ServeArgs::default(), &FileSettings::default()).unwrap_or_else(|_| unreachable_defaults());
        s.database.url = url;
        s.evidence.store = crate::evidence::StoreLocation::Local(data_dir.join("evidence"));
        s.data_dir = data_dir;
        s
    }
}

// The defaults above are all positive constants, so resolving them cannot fail.
fn unreachable_defaults() -> Settings {
    unreachable!("default settings are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_and_file_beats_defaults() {
        let file: FileSettings =
            toml::from_str("listen = \"0.0.0.0:9000\"\nsession_ttl_hours = 24\nworkers = 3").unwrap();
        let args = ServeArgs { workers: Some(7), ..Default::default() };
        let s = Settings::resolve(&args, &file).unwrap();
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(s.session_ttl, chrono::Duration::hours(24));
        assert_eq!(s.workers, 7);
        assert_eq!(s.max_body_bytes, 256 * 1024);
        assert_eq!(s.database.url.backend(), crate::db::Backend::Sqlite);
        assert!(s.database.url.expose().ends_with("gridwork.sqlite"));
    }

    #[test]
    fn bad_values_and_unknown_keys_are_refused() {
        assert!(toml::from_str::<FileSettings>("lisen = \"x\"").is_err());
        let args = ServeArgs { session_ttl_hours: Some(0), ..Default::default() };
        assert!(Settings::resolve(&args, &FileSettings::default()).is_err());
        let args = ServeArgs {
            storage: StorageArgs { database_url: Some("mysql://x".into()), ..Default::default() },
            ..Default::default()
        };
        assert!(Settings::resolve(&args, &FileSettings::default()).is_err());
    }

    #[test]
    fn database_passwords_never_print() {
        let url = DbUrl::parse("postgres://gw:s3cret@db/gridwork").unwrap();
        assert!(!format!("{url:?} {url}").contains("s3cret"));
        let s = Settings::for_database(url, PathBuf::from("x"));
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}
