//! Prometheus metrics: request counts and latency per route pattern (never per raw path, which
//! would let any client blow up the series count), plus database pool usage.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::db::Db;

#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    readings: IntCounterVec,
    report_batches: prometheus::Histogram,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("gridwork".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route pattern and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route pattern")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )?;
        let pool_connections = IntGauge::new("db_pool_connections", "Open database connections")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")?;
        let pool_max = IntGauge::new("db_pool_max_connections", "Configured pool size")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        let readings = IntCounterVec::new(
            Opts::new(
                "sensor_messages_total",
                "Sensor reading batches by way in (http, mqtt) and outcome (stored, bad_topic, bad_payload, unauthorized, refused, failed)",
            ),
            &["via", "outcome"],
        )?;
        let report_batches = prometheus::Histogram::with_opts(
            HistogramOpts::new("report_batch_size", "Reports filed per group commit (one transaction)")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
        )?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(readings.clone()))?;
        registry.register(Box::new(report_batches.clone()))?;
        Ok(Self { registry, requests, latency, pool_connections, pool_idle, pool_max, readings, report_batches })
    }

    /// Counts a group commit of `reports` reports.
    pub fn report_batch(&self, reports: usize) {
        self.report_batches.observe(reports as f64);
    }

    /// Counts a batch of sensor readings by how it came and how it ended.
    pub fn reading_batch(&self, via: &str, outcome: &str) {
        self.readings.with_label_values(&[via, outcome]).inc();
    }

    fn observe(&self, method: &str, route: &str, status: u16, started: Instant) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[method, route]).observe(started.elapsed().as_secs_f64());
    }

    pub fn render(&self, db: &Db) -> String {
        let state = db.pool().state();
        self.pool_connections.set(i64::from(state.connections));
        self.pool_idle.set(i64::from(state.idle_connections));
        self.pool_max.set(i64::from(db.pool().max_size()));
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        let mut out = String::from_utf8_lossy(&buf).into_owned();
        out.push_str(&db.roster().metrics());
        out
    }
}

/// The pattern of the route that answered, attached to each resource of the route table: asking
/// actix (`match_pattern`) walks the whole table again, with a regex per dynamic route passed.
#[derive(Debug, Clone, Copy)]
pub struct RoutePattern(pub &'static str);

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        let request = res.request();
        let route = match request.app_data::<RoutePattern>() {
            Some(p) => p.0.to_owned(),
            None => request.match_pattern().unwrap_or_else(|| "unmatched".to_owned()),
        };
        m.observe(&method, &route, res.status().as_u16(), started);
    }
    Ok(res)
}

pub async fn endpoint(metrics: web::Data<Metrics>, db: web::Data<Db>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics.render(&db))
}
