//! Liveness, readiness (with the database really going away) and metrics.

use gridwork::db::{DbUrl, migrate};
use gridwork_tests::proxy::Proxy;
use gridwork_tests::{Backend, TestApp, TestDb, assert_error, both_backends, pg_admin_url};

both_backends! {
    async fn health_and_readiness(app: TestApp) {
        let (s, b) = app.send(app.client.get(app.url("/healthz"))).await;
        assert_eq!((s, b["status"].as_str()), (200, Some("ok")));
        let (s, b) = app.send(app.client.get(app.url("/readyz"))).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["status"], "ready");
        let want = match app.test_db.backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" };
        assert_eq!(b["database"], want);
    }

    async fn not_ready_while_migrations_are_pending(app: TestApp) {
        app.db.run(|conn| { migrate::revert_all(conn).map_err(|e| gridwork::error::ApiError::internal(e.to_string()))?; Ok(()) }).await.unwrap();
        let (s, b) = app.send(app.client.get(app.url("/readyz"))).await;
        assert_error(s, &b, 503, "unavailable");
        app.db.run(|conn| { migrate::run_pending(conn).map_err(|e| gridwork::error::ApiError::internal(e.to_string()))?; Ok(()) }).await.unwrap();
        assert_eq!(app.send(app.client.get(app.url("/readyz"))).await.0, 200);
    }

    async fn metrics_count_requests_per_route(app: TestApp) {
        for _ in 0..3 {
            app.client.get(app.url("/healthz")).send().await.unwrap();
        }
        app.client.get(app.url("/api/v1/users/some-id")).send().await.unwrap();
        app.client.get(app.url("/no/such/path/123")).send().await.unwrap();
        let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(text.contains(r#"gridwork_http_requests_total{method="GET",route="/healthz",status="200"} 3"#), "{text}");
        // Route patterns, never raw paths: ids and junk paths don't create series.
        assert!(text.contains(r#"route="/api/v1/users/{id}",status="401""#), "{text}");
        assert!(text.contains(r#"route="unmatched""#), "{text}");
        assert!(!text.contains("some-id") && !text.contains("/no/such/path"));
        assert!(text.contains("gridwork_http_request_duration_seconds_bucket"));
        assert!(text.contains("gridwork_db_pool_max_connections 10"));
        assert!(text.contains("gridwork_db_pool_connections"));
    }
}

/// PostgreSQL behind a proxy that we cut: readyz turns 503 within the acquire timeout, other
/// requests fail with a clean 503 instead of hanging, and all recovers when the proxy returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_the_database_going_down_and_up() {
    let Some(test_db) = TestDb::new(Backend::Postgres) else { return };
    let real: std::net::SocketAddr = {
        let url = pg_admin_url();
        let host_port = url.split('@').nth(1).and_then(|r| r.split('/').next()).unwrap_or("127.0.0.1:5432").to_owned();
        tokio::net::lookup_host(host_port).await.unwrap().next().unwrap()
    };
    let mut proxy = Proxy::start(real).await;
    let proxied = test_db.url.expose().replacen(&real.to_string(), &proxy.addr.to_string(), 1).replacen(
        &format!("localhost:{}", real.port()),
        &proxy.addr.to_string(),
        1,
    );
    assert_ne!(proxied, test_db.url.expose(), "could not route {} through the proxy", test_db.url);
    let mut settings =
        gridwork::config::Settings::for_database(DbUrl::parse(&proxied).unwrap(), test_db.dir.path().to_path_buf());
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.workers = 1;
    settings.database.pool.acquire_timeout = std::time::Duration::from_secs(1);
    let app = TestApp::start(settings, test_db).await;

    assert_eq!(app.send(app.client.get(app.url("/readyz"))).await.0, 200);
    proxy.cut().await;
    let started = std::time::Instant::now();
    let (s, b) = app.send(app.client.get(app.url("/readyz"))).await;
    assert_error(s, &b, 503, "unavailable");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "readyz must not hang");
    // Liveness does not depend on the database.
    assert_eq!(app.send(app.client.get(app.url("/healthz"))).await.0, 200);
    let (s, b) = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .json(&serde_json::json!({"username": "x.y.z", "password": "whatever-pw"})),
        )
        .await;
    assert_error(s, &b, 503, "unavailable");

    proxy.restore().await;
    let mut ready = false;
    for _ in 0..50 {
        if app.send(app.client.get(app.url("/readyz"))).await.0 == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "readyz did not recover after the database came back");
}
