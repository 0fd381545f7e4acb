//! Building and running the HTTP server. Tests build the same `Application` on port 0.

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;

use crate::api;
use crate::areas::AreaIndex;
use crate::config::Settings;
use crate::db::{Db, migrate};
use crate::http::{extract, metrics, request_id};
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).field("state", &self.state).finish_non_exhaustive()
    }
}

impl Application {
    /// Connects the database, applies pending migrations and binds the listener. Fails with a
    /// clear message if the database cannot be reached at start: migrations must be applied
    /// before traffic is served.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = Db::connect(&settings.database.url, &settings.database.pool)?;
        let url = settings.database.url.to_string();
        let (applied, (areas_generation, index)) = {
            let db = db.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<(Vec<String>, (i64, AreaIndex))> {
                let mut conn = db.get().map_err(|e| anyhow::anyhow!("{}", e.message))?;
                let applied = migrate::run_pending(&mut conn).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;

                let seeded = crate::catalog::seed_default(&mut conn).map_err(|e| anyhow::anyhow!("{}", e.message))?;
                if seeded > 0 {
                    tracing::info!(categories = seeded, "default category catalog installed");
                }
                let seeded = crate::sensing::indicators::seed_default(&mut conn)
                    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
                if seeded > 0 {
                    tracing::info!(indicators = seeded, "default indicator registry installed");
                }
                Ok((applied, crate::areas::store::load_index(&mut conn)?))
            })
            .await
            .context("start-up task panicked")?
        }
        .with_context(|| format!("cannot prepare the database at {url}"))?;
        tracing::info!(areas = index.len(), memory_bytes = index.memory_bytes(), "area index built");
        for name in &applied {
            tracing::info!(migration = %name, "applied migration");
        }
        let listener =
            TcpListener::bind(settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let state = AppState::new(db, settings, index, areas_generation)?;
        let server = run(listener, &state)?;
        crate::cluster::spawn(&state);
        if state.settings.group_commit {
            crate::events::group_commit::GroupCommit::spawn(&state);
        }
        crate::roster::spawn(&state);
        crate::push::sender::spawn(&state)?;
        crate::webhooks::sender::spawn(&state)?;
        if let Some(mqtt) = state.settings.sensing.mqtt.clone() {
            crate::sensing::mqtt::spawn(&state, mqtt)?;
        }
        match state.settings.event_loop.scheduler_interval {
            Some(every) => crate::events::scheduler::spawn(state.clone(), every),
            None => tracing::info!("deadline scheduler off in this process"),
        }
        tracing::info!(address = %format!("{}:{port}", state.settings.listen.ip()), database = %url, "gridwork listening");
        match state.settings.database.url.protection() {
            Some(p @ crate::db::tls::Protection::EncryptedUnverified) => {
                tracing::warn!(database_tls = p.describe(), "database connection");
            }
            Some(p) => tracing::info!(database_tls = p.describe(), "database connection"),
            None => {}
        }
        Ok(Self { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM/SIGINT, then ends event streams, stops accepting, lets in-flight
    /// requests finish and returns. (Tests stop through `server_handle` instead: a signal
    /// handler would take Ctrl-C away from the test runner.)
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        stop_on_signal(self.server.handle(), self.state.clone());
        let served = self.server.await;
        let state = self.state.clone();
        let _ = tokio::task::spawn_blocking(move || crate::cluster::finish(&state)).await;
        served
    }

    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn into_server(self) -> Server {
        self.server
    }
}

fn run(listener: TcpListener, state: &AppState) -> anyhow::Result<Server> {
    let metrics = web::Data::new(state.metrics.clone());
    let settings = state.settings.clone();
    let data = web::Data::new(state.clone());
    let db = web::Data::new(state.db.clone());
    let site = web::Data::new(crate::console::Site::new(&state.settings.map));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(db.clone())
            .app_data(metrics.clone())
            .app_data(site.clone())
            .app_data(web::PayloadConfig::new(settings.max_body_bytes))
            .app_data(web::QueryConfig::default().error_handler(extract::query_error))
            .app_data(web::PathConfig::default().error_handler(extract::path_error))
            .wrap(ErrorHandlers::new().default_handler(extract::json_error_body))
            .wrap(from_fn(crate::http::hardening::middleware))
            .wrap(from_fn(metrics::middleware))
            .wrap(from_fn(request_id::middleware))
            .configure(|cfg| api::routes(cfg, settings.max_import_bytes, settings.evidence.chunk_bytes))
            .configure(crate::console::routes)
            .service(crate::open311::scope())
            .default_service(web::to(extract::not_found))
    })
    .workers(state.settings.workers)
    // Signals are ours (`stop_on_signal`): streams must be told before the graceful stop waits.
    .disable_signals()
    .shutdown_timeout(state.settings.shutdown_timeout.as_secs())
    .listen(listener)?
    .run();
    Ok(server)
}

/// On SIGTERM or SIGINT: end the event streams, then stop gracefully (no new connections,
/// in-flight requests finish within the shutdown timeout).
fn stop_on_signal(handle: actix_web::dev::ServerHandle, state: AppState) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
                tracing::error!("cannot listen for stop signals");
                return;
            };
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: stopping"),
                _ = int.recv() => tracing::info!("SIGINT: stopping"),
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
        }
        state.stop_streams();
        handle.stop(true).await;
    });
}
