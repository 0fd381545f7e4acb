//! The `gridwork` command line.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gridwork_mobile_core::domain::crs::Crs;
use gridwork_mobile_core::{AreaCode, AreaLevel, Password, Role, RoleGrant, Username};

use crate::accounts::{self, NewUser};
use crate::config::{DatabaseSettings, FileSettings, ServeArgs, Settings, StorageArgs};
use crate::db::{Db, migrate};
use crate::error::ApiError;
use crate::startup::Application;
use crate::telemetry::LogFormat;
use crate::{demo, queries};

#[derive(Debug, Parser)]
#[command(
    name = "gridwork",
    version,
    about = "Gridwork: unified city operations (一网统管) for a city's grid workforce"
)]
pub struct Cli {
    /// TOML file with settings (same names as the flags, snake_case); flags and env win over it
    #[arg(long, global = true, env = "GRIDWORK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format
    #[arg(long, global = true, env = "GRIDWORK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter, e.g. `info` or `gridwork=debug,info`
    #[arg(long, global = true, env = "GRIDWORK_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (applies pending migrations first)
    Serve(ServeArgs),
    /// Run the server on a demo city with demo users (SQLite under ./data/demo by default)
    Demo(ServeArgs),
    /// Apply pending database migrations and exit
    Migrate {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Manage user accounts
    #[command(subcommand)]
    User(UserCommand),
    /// Grant and revoke roles
    #[command(subcommand)]
    Role(RoleCommand),
    /// Manage departments (职能部门)
    #[command(subcommand)]
    Department(DepartmentCommand),
    /// The area map: import GeoJSON, look up a point
    #[command(subcommand)]
    Areas(AreasCommand),
    /// The category catalog: import or export CSV
    #[command(subcommand)]
    Categories(CategoriesCommand),
    /// Check the event timelines
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The data-protection record: personal data held, where, for how long, who read it
    #[command(subcommand)]
    Privacy(PrivacyCommand),
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Print the record (retention as the server's settings and environment say)
    Report {
        /// Print it as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServeArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every event's hash-chained timeline; exits 1 if an entry was edited or deleted
    Verify {
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum CategoriesCommand {
    /// Create or update categories from a CSV file (all rows valid, or nothing is written)
    Import {
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Print the catalog as CSV
    Export {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AreasCommand {
    /// Validate and import a GeoJSON FeatureCollection (all or nothing)
    Import {
        file: PathBuf,
        /// Property holding the area code
        #[arg(long, default_value = "code")]
        code_prop: String,
        /// Property holding the name
        #[arg(long, default_value = "name")]
        name_prop: String,
        /// Level of every feature (otherwise read from --level-prop)
        #[arg(long)]
        level: Option<AreaLevel>,
        #[arg(long, default_value = "level")]
        level_prop: String,
        /// Property holding the parent's code (dotted paths reach nested objects: parent.adcode)
        #[arg(long, default_value = "parent_code")]
        parent_prop: String,
        /// Fixed parent code for every feature
        #[arg(long)]
        parent_code: Option<String>,
        /// Coordinate system of the file: wgs84, gcj02 or bd09
        #[arg(long, default_value = "wgs84")]
        crs: Crs,
        /// Property with the radius (m) of buildings given as points
        #[arg(long, default_value = "radius_m")]
        radius_prop: String,
        /// Fix what can be fixed (self-intersecting rings) and say what changed
        #[arg(long)]
        repair: bool,
        /// Validate and report only; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Share of a child's area allowed outside its parent
        #[arg(long, default_value_t = 0.01)]
        containment_tolerance: f64,
        /// Share of the smaller sibling's area two siblings may overlap by
        #[arg(long, default_value_t = 0.01)]
        overlap_tolerance: f64,
        /// Print the full report as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Print the chain of areas containing a point
    Lookup {
        #[arg(allow_negative_numbers = true)]
        lat: f64,
        #[arg(allow_negative_numbers = true)]
        lng: f64,
        #[arg(long, default_value = "wgs84")]
        crs: Crs,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user, optionally with a first role
    Add {
        name: String,
        #[arg(long)]
        role: Option<Role>,
        /// Area code the role is held over (omit only for admin: system-wide)
        #[arg(long)]
        scope: Option<String>,
        /// Department code (for dept_handler)
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// List users and their roles
    List {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Set a user's password (signs out all their sessions)
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Sign a user out everywhere (a lost phone)
    RevokeSessions {
        name: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    Grant {
        name: String,
        role: Role,
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        department: Option<String>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    Revoke {
        name: String,
        role: Role,
        #[arg(long)]
        scope: Option<String>,
        #[arg(long)]
        department: Option<String>,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum DepartmentCommand {
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// Area the department serves
        #[arg(long)]
        area: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

pub(crate) fn open_db(storage: &StorageArgs, file: &FileSettings) -> anyhow::Result<Db> {
    let (_, settings) = DatabaseSettings::resolve(storage, file)?;
    let db = Db::connect(&settings.url, &settings.pool)?;
    let mut conn = db.get().map_err(api_err)?;
    for name in migrate::run_pending(&mut conn).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))? {
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(db)
}

#[allow(clippy::needless_pass_by_value, reason = "used as a map_err callback")]
pub(crate) fn api_err(e: ApiError) -> anyhow::Error {
    let fields: Vec<String> = e.fields.iter().map(|(k, v)| format!("{k}: {}", v.message)).collect();
    if fields.is_empty() {
        anyhow::anyhow!("{}", e.message)
    } else {
        anyhow::anyhow!("{} ({})", e.message, fields.join("; "))
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<Password> {
    let raw = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        first
    };
    Password::parse(&raw).map_err(|e| anyhow::anyhow!("{}", e.message))
}

pub(crate) fn out(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = FileSettings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve(args) => {
            let settings = Settings::resolve(&args, &file)?;
            Application::build(settings).await?.run_until_stopped().await?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Demo(mut args) => {
            if args.storage.data_dir.is_none() && args.storage.database_url.is_none() && file.data_dir.is_none() {
                args.storage.data_dir = Some(PathBuf::from("./data/demo"));
            }
            let settings = Settings::resolve(&args, &file)?;
            let app = Application::build(settings).await?;
            let logins = {
                let db = app.state().db.clone();
                tokio::task::spawn_blocking(move || demo::seed(&db)).await??
            };
            app.state().reload_areas().await?;
            demo::print_banner(app.port(), &app.state().settings.listen, &logins);
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Migrate { storage } => {
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let db = open_db(&storage, &file)?;
                let mut conn = db.get().map_err(api_err)?;
                let pending = migrate::has_pending(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
                out(if pending { "migrations pending after run?" } else { "database is up to date" });
                Ok(())
            })
            .await?
        }
        Command::User(cmd) => tokio::task::spawn_blocking(move || user_command(cmd, &file)).await?,
        Command::Role(cmd) => tokio::task::spawn_blocking(move || role_command(cmd, &file)).await?,
        Command::Department(cmd) => tokio::task::spawn_blocking(move || department_command(cmd, &file)).await?,
        Command::Areas(cmd) => tokio::task::spawn_blocking(move || crate::areas_cli::run(cmd, &file)).await?,
        Command::Categories(cmd) => tokio::task::spawn_blocking(move || categories_command(cmd, &file)).await?,
        Command::Audit(cmd) => tokio::task::spawn_blocking(move || audit_command(cmd, &file)).await?,
        Command::Privacy(cmd) => tokio::task::spawn_blocking(move || privacy_command(cmd, &file)).await?,
    }
}

fn user_command(cmd: UserCommand, file: &FileSettings) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { name, role, scope, department, display_name, phone, password_stdin, storage } => {
            let username = Username::parse(&name).map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let grant = role
                .map(|r| {
                    RoleGrant::new(r, accounts::parse_scope(scope.as_deref()).map_err(api_err)?, department)
                        .map_err(|e| anyhow::anyhow!("{}", e.message))
                })
                .transpose()?;
            let password = read_password(password_stdin)?;
            let db = open_db(&storage, file)?;
            let mut conn = db.get().map_err(api_err)?;
            let new = NewUser {
                display_name: display_name.unwrap_or_else(|| username.to_string()),
                username,
                phone,
                password,
            };
            let user = accounts::create_user(&mut conn, &new, None).map_err(api_err)?;
            if let Some(g) = grant {
                accounts::grant_role(&mut conn, &user.id, &g, None).map_err(api_err)?;
            }
            out(&format!("created user {} ({})", user.username, user.id));
            Ok(())
        }
        UserCommand::List { storage } => {
            let db = open_db(&storage, file)?;
            let mut conn = db.get().map_err(api_err)?;
            for user in queries::users::list(&mut conn, i64::MAX, 0).map_err(|e| anyhow::anyhow!("{e}"))? {
                let roles: Vec<String> = accounts::roles_of(&mut conn, &user.id)
                    .map_err(api_err)?
                    .iter()
                    .map(|g| match g.scope.area_code() {
                        Some(a) => format!("{}@{a}", g.role),
                        None => g.role.to_string(),
                    })
                    .collect();
                let state = if user.is_active { "" } else { " (disabled)" };
                out(&format!("{}\t{}\t{}{state}", user.username, user.display_name, roles.join(",")));
            }
            Ok(())
        }
        UserCommand::Passwd { name, password_stdin, storage } => {
            let password = read_password(password_stdin)?;
            let db = open_db(&storage, file)?;
            let mut conn = db.get().map_err(api_err)?;
            let user = accounts::find_user(&mut conn, &name).map_err(api_err)?;
            let revoked = accounts::set_password(&mut conn, &user.id, &password, None, None).map_err(api_err)?;
            out(&format!("password changed for {}; {revoked} session(s) signed out", user.username));
            Ok(())
        }
        UserCommand::RevokeSessions { name, storage } => {
            let db = open_db(&storage, file)?;
            let mut conn = db.get().map_err(api_err)?;
            let user = accounts::find_user(&mut conn, &name).map_err(api_err)?;
            let revoked = accounts::revoke_sessions(&mut conn, &user.id, None).map_err(api_err)?;
            out(&format!("{revoked} session(s) of {} revoked", user.username));
            Ok(())
        }
    }
}

fn role_command(cmd: RoleCommand, file: &FileSettings) -> anyhow::Result<()> {
    let (name, role, scope, department, storage, grant) = match cmd {
        RoleCommand::Grant { name, role, scope, department, storage } => (name, role, scope, department, storage, true),
        RoleCommand::Revoke { name, role, scope, department, storage } => {
            (name, role, scope, department, storage, false)
        }
    };
    let scope = accounts::parse_scope(scope.as_deref()).map_err(api_err)?;
    let wanted = RoleGrant::new(role, scope, department).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let db = open_db(&storage, file)?;
    let mut conn = db.get().map_err(api_err)?;
    let user = accounts::find_user(&mut conn, &name).map_err(api_err)?;
    if grant {
        let g = accounts::grant_role(&mut conn, &user.id, &wanted, None).map_err(api_err)?;
        out(&format!("{} holds {} ({})", user.username, g.role, g.id));
    } else {
        let held = accounts::roles_of(&mut conn, &user.id).map_err(api_err)?;
        let g = held
            .iter()
            .find(|g| g.role == wanted.role && g.scope == wanted.scope && g.department == wanted.department_code)
            .ok_or_else(|| anyhow::anyhow!("{} does not hold that role", user.username))?;
        accounts::revoke_role(&mut conn, &g.id, None).map_err(api_err)?;
        out(&format!("revoked {} from {}", g.role, user.username));
    }
    Ok(())
}

fn categories_command(cmd: CategoriesCommand, file: &FileSettings) -> anyhow::Result<()> {
    match cmd {
        CategoriesCommand::Import { file: path, storage } => {
            let data = std::fs::read(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let db = open_db(&storage, file)?;
            let mut conn = db.get().map_err(api_err)?;
            match crate::catalog::import_csv(&mut conn, &data, None) {
                Ok(s) => {
                    out(&format!(
                        "categories: created {}, updated {}, unchanged {}",
                        s.created, s.updated, s.unchanged
                    ));
                    Ok(())
                }
                Err(e) => {
                    if let Some(rows) = e.details.as_ref().and_then(|d| d.as_array()) {
                        for r in rows {
                            out(&format!("row {}: {} {} — {}", r["row"], r["field"], r["code"], r["message"]));
                        }
                    }
                    Err(api_err(e))
                }
            }
        }
        CategoriesCommand::Export { storage } => {
            let db = open_db(&storage, file)?;
            let mut conn = db.get().map_err(api_err)?;
            crate::catalog::seed_default(&mut conn).map_err(api_err)?;
            let cats = crate::catalog::all(&mut conn).map_err(api_err)?;
            use std::io::Write;
            std::io::stdout().write_all(crate::catalog::to_csv(&cats).map_err(api_err)?.as_bytes())?;
            Ok(())
        }
    }
}

fn privacy_command(cmd: PrivacyCommand, file: &FileSettings) -> anyhow::Result<()> {
    let PrivacyCommand::Report { json, server } = cmd;
    let settings = crate::config::Settings::resolve(&server, file)?;
    let db = open_db(&server.storage, file)?;
    let mut conn = db.get().map_err(api_err)?;
    let report = crate::privacy::report(&mut conn, &settings, crate::models::now()).map_err(api_err)?;
    if json {
        out(&serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    out("personal data held:");
    for h in &report.holdings {
        let kept = h.retention_days.map_or_else(|| "with its record".to_owned(), |d| format!("{d} days"));
        out(&format!("  {:>9}  {} — {} [{}; kept {kept}]", h.rows, h.kind, h.purpose, h.location));
    }
    out(&format!("reads of others' personal data in the last {} days:", report.reads_window_days));
    for r in &report.recent_reads {
        let who = r.reader.clone().or_else(|| r.reader_id.clone()).unwrap_or_else(|| "system".into());
        out(&format!("  {who}: {} × {} ({} people), last {}", r.reads, r.action, r.people, r.last_at.to_rfc3339()));
    }
    Ok(())
}

fn audit_command(cmd: AuditCommand, file: &FileSettings) -> anyhow::Result<()> {
    let AuditCommand::Verify { json, storage } = cmd;
    let db = open_db(&storage, file)?;
    let mut conn = db.get().map_err(api_err)?;
    let report = crate::events::timeline::verify(&mut conn).map_err(api_err)?;
    if json {
        out(&serde_json::to_string_pretty(&report)?);
    } else {
        for p in &report.problems {
            match p.seq {
                Some(seq) => out(&format!("event {}: entry {seq} {}", p.event_id, p.problem)),
                None => out(&format!("event {}: newest entries {}", p.event_id, p.problem)),
            }
        }
        out(&format!(
            "{} events, {} timeline entries, {} problems; digest {}",
            report.events,
            report.entries,
            report.problems.len(),
            report.digest
        ));
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{} timelines fail verification", report.problems.len())
    }
}

fn department_command(cmd: DepartmentCommand, file: &FileSettings) -> anyhow::Result<()> {
    let DepartmentCommand::Add { code, name, area, storage } = cmd;
    let area = AreaCode::parse(&area).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let db = open_db(&storage, file)?;
    let mut conn = db.get().map_err(api_err)?;
    let d = accounts::create_department(&mut conn, &code, &name, &area, None).map_err(api_err)?;
    out(&format!("created department {} ({})", d.code, d.id));
    Ok(())
}
