//! A local stand-in for an S3-compatible object store, speaking the S3 REST protocol the way
//! `object_store` uses it (path-style): PUT, GET, HEAD and DELETE of objects, ListObjectsV2, XML
//! errors. Requests must carry a SigV4 `Authorization` header for the test access key (the
//! signature itself is not recomputed).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use sha2::Digest;

pub const ACCESS_KEY: &str = "GRIDWORKTESTKEY";
pub const SECRET_KEY: &str = "gridwork-test-secret";
pub const REGION: &str = "cn-north-1";

type Objects = Arc<Mutex<BTreeMap<String, (Vec<u8>, chrono::DateTime<chrono::Utc>)>>>;

pub struct S3Double {
    pub url: String,
    objects: Objects,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for S3Double {
    fn drop(&mut self) {
        let h = self.handle.clone();
        tokio::spawn(async move { h.stop(false).await });
    }
}

fn error(status: actix_web::http::StatusCode, code: &str) -> HttpResponse {
    HttpResponse::build(status).content_type("application/xml").body(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{code}</Message></Error>"
    ))
}

fn signed(req: &HttpRequest) -> bool {
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/"))
        && auth.contains("Signature=")
        && req.headers().contains_key("x-amz-date")
}

fn etag(bytes: &[u8]) -> String {
    let h = sha2::Sha256::digest(bytes);
    format!("\"{}\"", h.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
}

async fn object(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    objects: web::Data<Objects>,
) -> HttpResponse {
    use actix_web::http::{Method, StatusCode};
    if !signed(&req) {
        return error(StatusCode::FORBIDDEN, "AccessDenied");
    }
    let (bucket, key) = path.into_inner();
    let id = format!("{bucket}/{key}");
    let mut map = objects.lock().unwrap();
    match *req.method() {
        Method::PUT => {
            let tag = etag(&body);
            map.insert(id, (body.to_vec(), chrono::Utc::now()));
            HttpResponse::Ok().insert_header(("ETag", tag)).finish()
        }
        Method::DELETE => {
            map.remove(&id);
            HttpResponse::NoContent().finish()
        }
        Method::GET | Method::HEAD => match map.get(&id) {
            None => error(StatusCode::NOT_FOUND, "NoSuchKey"),
            Some((bytes, at)) => {
                let mut res = HttpResponse::Ok();
                res.insert_header(("ETag", etag(bytes)))
                    .insert_header(("Last-Modified", at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()))
                    .content_type("application/octet-stream");
                if req.method() == Method::HEAD {
                    res.insert_header(("Content-Length", bytes.len().to_string())).finish()
                } else {
                    res.body(bytes.clone())
                }
            }
        },
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
    }
}

async fn list(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
    objects: web::Data<Objects>,
) -> HttpResponse {
    if !signed(&req) {
        return error(actix_web::http::StatusCode::FORBIDDEN, "AccessDenied");
    }
    let bucket = path.into_inner();
    let prefix = query.get("prefix").cloned().unwrap_or_default();
    let map = objects.lock().unwrap();
    let full = format!("{bucket}/{prefix}");
    let contents: String = map
        .iter()
        .filter(|(k, _)| k.starts_with(&full))
        .map(|(k, (bytes, at))| {
            format!(
                "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                &k[bucket.len() + 1..],
                at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                etag(bytes).replace('"', "&quot;"),
                bytes.len()
            )
        })
        .collect();
    HttpResponse::Ok().content_type("application/xml").body(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{bucket}</Name><Prefix>{prefix}</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}</ListBucketResult>"
    ))
}

impl S3Double {
    pub async fn start() -> Self {
        let objects: Objects = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let data = web::Data::new(objects.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .route("/{bucket}", web::get().to(list))
                .route("/{bucket}/", web::get().to(list))
                .route("/{bucket}/{key:.+}", web::route().to(object))
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, objects, handle }
    }

    /// The `object_store` options that point a client here.
    pub fn options(&self) -> Vec<(String, String)> {
        [
            ("aws_endpoint", self.url.as_str()),
            ("aws_allow_http", "true"),
            ("aws_access_key_id", ACCESS_KEY),
            ("aws_secret_access_key", SECRET_KEY),
            ("aws_region", REGION),
            ("aws_virtual_hosted_style_request", "false"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Keys stored, `bucket/key`.
    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.objects.lock().unwrap().get(key).map(|(b, _)| b.clone())
    }
}
