//! The ops console: static files embedded in the binary (no build step, no files to deploy),
//! served under `/console/` with a strict Content-Security-Policy. The console signs in with the
//! same API and keeps its token in memory only, so there is no cookie for a forged request to
//! ride on; everything it shows comes through the API and so through the caller's scope.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use gridwork_mobile_core::domain::crs::Crs;
use gridwork_mobile_core::hash::sha256_hex;
use serde::Serialize;

/// (path under /console/, media type, bytes). `index.html` is the page; the rest is what it loads.
const FILES: &[(&str, &str, &[u8])] = &[
    ("index.html", "text/html; charset=utf-8", include_bytes!("../web/console/index.html")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/app.js")),
    ("api.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/api.js")),
    ("page.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/page.js")),
    ("i18n.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/i18n.js")),
    ("map.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/map.js")),
    ("crs.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/crs.js")),
    ("evaluation.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/evaluation.js")),
    ("volunteers.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/volunteers.js")),
    ("privacy.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/privacy.js")),
    ("hotline.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/hotline.js")),
    ("sensing.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/sensing.js")),
    ("signup.js", "text/javascript; charset=utf-8", include_bytes!("../web/console/signup.js")),
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

/// No inline script or style, nothing from elsewhere but the configured base-map tiles; photos
/// arrive as blobs the page fetched with its token.
const CSP_BASE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                        object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Base-map tiles for the console map (none: outlines only, which works offline).
#[derive(Debug, Clone, Default)]
pub struct MapSettings {
    pub tiles: Option<TileLayer>,
}

/// What the console's map is told at `/console/config.json`.
#[derive(Debug, Clone, Serialize)]
pub struct TileLayer {
    pub url: String,
    /// `gcj02`: the console shifts everything it draws onto the tiles' offset grid.
    pub crs: Crs,
    pub attribution: String,
    pub subdomains: String,
}

impl MapSettings {
    pub fn resolve(
        url: Option<String>,
        crs: Option<&str>,
        attribution: Option<String>,
        subdomains: Option<String>,
    ) -> anyhow::Result<Self> {
        let Some(url) = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
            return Ok(Self::default());
        };
        let crs: Crs = crs
            .unwrap_or("wgs84")
            .parse()
            .map_err(|e: gridwork_mobile_core::DomainError| anyhow::anyhow!("map_tiles_crs: {}", e.message))?;
        if crs == Crs::Bd09 {
            anyhow::bail!(
                "map_tiles_crs: Baidu tiles use their own projection, not only BD-09: use wgs84 or gcj02 tiles"
            );
        }
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || !["{x}", "{y}", "{z}"].iter().all(|p| url.contains(p))
        {
            anyhow::bail!("map_tiles must be an http(s) URL with {{x}}, {{y}} and {{z}}, got {url}");
        }
        let subdomains = subdomains.unwrap_or_else(|| "abc".to_owned());
        if url.contains("{s}") && subdomains.is_empty() {
            anyhow::bail!("map_tiles uses {{s}}: map_tiles_subdomains must not be empty");
        }
        Ok(Self { tiles: Some(TileLayer { url, crs, attribution: attribution.unwrap_or_default(), subdomains }) })
    }
}

/// The console's per-server parts: its CSP (which admits the tile host) and its config.
#[derive(Debug)]
pub struct Site {
    csp: String,
    config: Vec<u8>,
}

#[derive(Serialize)]
struct ConsoleConfig<'a> {
    tiles: Option<&'a TileLayer>,
}

impl Site {
    pub fn new(map: &MapSettings) -> Self {
        let tiles = map.tiles.as_ref().map(|t| format!(" {}", tile_source(&t.url))).unwrap_or_default();
        Self {
            csp: format!("{CSP_BASE}; img-src 'self' blob: data:{tiles}"),
            config: serde_json::to_vec(&ConsoleConfig { tiles: map.tiles.as_ref() }).unwrap_or_else(|_| b"{}".to_vec()),
        }
    }
}

/// The CSP source for a tile URL: its scheme and host, `{s}` widened to a wildcard label.
fn tile_source(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.split_once('.') {
        Some((first, domain)) if first.contains("{s}") => format!("*.{domain}"),
        _ => host.replace("{s}", "*"),
    };
    format!("{scheme}://{host}")
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(|| async { redirect("/console/") }))
        .route("/", web::get().to(|| async { redirect("/console/") }))
        .route("/report", web::get().to(|| async { redirect("/console/report.html") }))
        .route("/console/config.json", web::get().to(config))
        .route(
            "/console/",
            web::get().to(|req: HttpRequest, site: web::Data<Site>| async move { file(&req, &site, "index.html") }),
        )
        .route(
            "/console/{name:.*}",
            web::get().to(|req: HttpRequest, site: web::Data<Site>, name: web::Path<String>| async move {
                file(&req, &site, &name)
            }),
        );
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, to)).finish()
}

async fn config(site: web::Data<Site>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .content_type("application/json")
        .body(site.config.clone())
}

fn file(req: &HttpRequest, site: &Site, name: &str) -> HttpResponse {
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
        .insert_header((header::CONTENT_SECURITY_POLICY, site.csp.as_str()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if fresh { answer.finish() } else { answer.body(*bytes) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_settings_are_checked_and_their_host_admitted() {
        assert!(MapSettings::resolve(None, None, None, None).unwrap().tiles.is_none());
        let amap = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&style=8&x={x}&y={y}&z={z}";
        let m = MapSettings::resolve(Some(amap.into()), Some("gcj02"), None, Some("1234".into())).unwrap();
        let site = Site::new(&m);
        assert!(site.csp.ends_with("img-src 'self' blob: data: https://*.is.autonavi.com"), "{}", site.csp);
        assert!(String::from_utf8(site.config).unwrap().contains("\"crs\":\"gcj02\""));
        assert_eq!(tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png"), "https://tile.openstreetmap.org");
        for (url, crs) in [
            ("ftp://x/{z}/{x}/{y}", None),
            ("https://x/{z}/{x}", None),
            ("https://x/{z}/{x}/{y}", Some("bd09")),
            ("https://x/{z}/{x}/{y}", Some("mercator")),
        ] {
            assert!(MapSettings::resolve(Some(url.into()), crs, None, None).is_err(), "{url}");
        }
    }
}
