//! The ops console: static files embedded in the binary (no build step, no files to deploy),
//! served under `/console/` with a strict Content-Security-Policy. The console signs in with the
//! same API and keeps its token in memory only, so there is no cookie for a forged request to
//! ride on; everything it shows comes through the API and so through the caller's scope.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use gridwork_mobile_core::hash::sha256_hex;

/// (path under /console/, media type, bytes). `index.html` is the page; the rest is what it loads.
const FILES: &[(&str, &str, &[u8])] = &[
    ("index.html", "text/html; charset=utf-8", include_bytes!("../web/console/index.html")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/app.js")),
    ("api.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/api.js")),
    ("i18n.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/i18n.js")),
    ("map.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/map.js")),
    ("evaluation.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/evaluation.js")),
    ("report.html", "text/html; charset=utf-8", include_bytes!("../web/console/report.html")),
    ("report.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/report.js")),
    ("app.css", "text/css; charset=utf-8", include_bytes!("../web/console/app.css")),
    // Vendored from npm by web/vendor.sh (versions in web/package-lock.json; licences beside them).
    ("vendor/leaflet.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/vendor/leaflet.js")),
    ("vendor/leaflet.css", "text/css; charset=utf-8", include_bytes!("../web/console/vendor/leaflet.css")),
    (
        "vendor/leaflet.markercluster.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../web/console/vendor/leaflet.markercluster.js"),
    ),
    ("vendor/MarkerCluster.css", "text/css; charset=utf-8", include_bytes!("../web/console/vendor/MarkerCluster.css")),
    (
        "vendor/MarkerCluster.Default.css",
        "text/css; charset=utf-8",
        include_bytes!("../web/console/vendor/MarkerCluster.Default.css"),
    ),
    ("vendor/LICENSE.leaflet", "text/plain; charset=utf-8", include_bytes!("../web/console/vendor/LICENSE.leaflet")),
    (
        "vendor/LICENSE.leaflet.markercluster",
        "text/plain; charset=utf-8",
        include_bytes!("../web/console/vendor/LICENSE.leaflet.markercluster"),
    ),
];

/// No inline script or style, nothing from elsewhere; photos arrive as blobs the page fetched
/// with its token.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(|| async { redirect("/console/") }))
        .route("/", web::get().to(|| async { redirect("/console/") }))
        .route("/report", web::get().to(|| async { redirect("/console/report.html") }))
        .route("/console/", web::get().to(|req: HttpRequest| async move { file(&req, "index.html") }))
        .route(
            "/console/{name:.*}",
            web::get().to(|req: HttpRequest, name: web::Path<String>| async move { file(&req, &name) }),
        );
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, to)).finish()
}

fn file(req: &HttpRequest, name: &str) -> HttpResponse {
    let Some((_, media, bytes)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return actix_web::ResponseError::error_response(&crate::error::ApiError::not_found(format!(
            "no console file {name}"
        )));
    };
    // Revalidated on every load (cheap: a matching ETag is a 304), so a new binary's console is
    // never mixed with an old cached script.
    let etag = format!("\"{}\"", &sha256_hex(bytes)[..16]);
    let fresh = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str());
    let mut answer = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    answer
        .insert_header((header::CONTENT_TYPE, *media))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if fresh { answer.finish() } else { answer.body(*bytes) }
}
