//! A local stand-in for FCM that speaks its wire protocol: the OAuth token exchange (it checks
//! the RS256 signature of the service-account assertion against the account's public key, the
//! issuer, audience, scope and expiry) and `v1/projects/{project}/messages:send` (bearer token,
//! message shape). Faults can be switched on: 429 with Retry-After, 500, stalls past the client
//! timeout, and tokens that answer UNREGISTERED.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::{Value, json};
use sha2::Sha256;

pub const PROJECT: &str = "gridwork-test";
const CLIENT_EMAIL: &str = "push@gridwork-test.iam.gserviceaccount.com";

/// A message the double accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub token: String,
    pub message: Value,
    pub at: Instant,
    /// Wall-clock time of receipt, to compare with the database's timestamps.
    pub wall: chrono::DateTime<chrono::Utc>,
}

impl Received {
    pub fn notification_id(&self) -> &str {
        self.message["data"]["notification_id"].as_str().unwrap_or_default()
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    /// The next N sends answer 429 with `Retry-After: 1`.
    pub throttle_next: usize,
    /// The next N sends answer 500.
    pub fail_next: usize,
    /// The next N sends stall longer than the sender's timeout.
    pub stall_next: usize,
    /// The next N sends answer 403 PERMISSION_DENIED (a permanent error).
    pub deny_next: usize,
    /// Device tokens FCM no longer knows.
    pub unregistered: HashSet<String>,
}

#[derive(Debug, Default)]
pub struct Inner {
    pub faults: Faults,
    pub received: Vec<Received>,
    pub tokens_issued: usize,
    pub bad_assertions: usize,
    pub refused: usize,
    access_tokens: HashSet<String>,
}

pub struct FcmDouble {
    pub url: String,
    pub inner: Arc<Mutex<Inner>>,
    /// A service-account file whose token_uri points at this double.
    pub credentials: PathBuf,
    _dir: tempfile::TempDir,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for FcmDouble {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

fn verify_assertion(jwt: &str, key: &RsaPublicKey, audience: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, c, s] = parts[..] else { return Err("not three parts".into()) };
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string())?.as_slice())
        .map_err(|e| e.to_string())?;
    VerifyingKey::<Sha256>::new(key.clone()).verify(format!("{h}.{c}").as_bytes(), &sig).map_err(|e| e.to_string())?;
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp();
    if claims["iss"] != CLIENT_EMAIL
        || claims["aud"] != audience
        || claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging"
        || claims["exp"].as_i64().is_none_or(|e| e < now)
        || claims["iat"].as_i64().is_none_or(|i| i > now + 60)
    {
        return Err(format!("bad claims {claims}"));
    }
    Ok(())
}

impl FcmDouble {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let key =
            RsaPublicKey::from_public_key_pem(&std::fs::read_to_string(data("fcm-test-public.pem")).unwrap()).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}");
        let token_uri = format!("{url}/token");
        let state = web::Data::new((inner.clone(), key, token_uri.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/token", web::post().to(token))
                .route("/v1/projects/{project}/messages:send", web::post().to(send))
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let dir = tempfile::tempdir().unwrap();
        let mut account: Value =
            serde_json::from_str(&std::fs::read_to_string(data("fcm-test-service-account.json")).unwrap()).unwrap();
        account["token_uri"] = json!(token_uri);
        let credentials = dir.path().join("service-account.json");
        std::fs::write(&credentials, account.to_string()).unwrap();
        // As a real key file is kept: the server refuses one that others can read.
        #[cfg(unix)]
        std::fs::set_permissions(&credentials, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        Self { url, inner, credentials, _dir: dir, handle }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    pub fn faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.inner.lock().unwrap().faults);
    }

    /// Waits until `pred` holds of what arrived (or panics after `secs`).
    pub async fn wait_for(&self, secs: u64, what: &str, pred: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if pred(&got) {
                return got;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; got {} messages", got.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

type Shared = web::Data<(Arc<Mutex<Inner>>, RsaPublicKey, String)>;

async fn token(state: Shared, form: web::Form<std::collections::HashMap<String, String>>) -> HttpResponse {
    let (inner, key, audience) = state.get_ref();
    let ok = form.get("grant_type").map(String::as_str) == Some("urn:ietf:params:oauth:grant-type:jwt-bearer");
    let verdict = match form.get("assertion") {
        Some(jwt) if ok => verify_assertion(jwt, key, audience),
        _ => Err("wrong grant".into()),
    };
    let mut inner = inner.lock().unwrap();
    match verdict {
        Ok(()) => {
            inner.tokens_issued += 1;
            let t = format!("ya29.test-{}", inner.tokens_issued);
            inner.access_tokens.insert(t.clone());
            HttpResponse::Ok().json(json!({"access_token": t, "expires_in": 3599, "token_type": "Bearer"}))
        }
        Err(e) => {
            inner.bad_assertions += 1;
            HttpResponse::BadRequest().json(json!({"error": "invalid_grant", "error_description": e}))
        }
    }
}

fn fcm_error(status: u16, code: &str, fcm_code: Option<&str>) -> HttpResponse {
    fcm_error_after(status, code, fcm_code, None)
}

fn fcm_error_after(status: u16, code: &str, fcm_code: Option<&str>, retry_after: Option<u64>) -> HttpResponse {
    let details: Vec<Value> = fcm_code
        .map(|c| json!({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": c}))
        .into_iter()
        .collect();
    let mut b = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if let Some(secs) = retry_after {
        b.insert_header(("Retry-After", secs.to_string()));
    }
    b.json(json!({"error": {"code": status, "message": code, "status": code, "details": details}}))
}

async fn send(state: Shared, req: HttpRequest, path: web::Path<String>, body: web::Json<Value>) -> HttpResponse {
    let (inner, _, _) = state.get_ref();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    let stall = {
        let mut i = inner.lock().unwrap();
        if !i.access_tokens.contains(&bearer) {
            return fcm_error(401, "UNAUTHENTICATED", None);
        }
        if path.into_inner() != PROJECT {
            return fcm_error(403, "PERMISSION_DENIED", Some("SENDER_ID_MISMATCH"));
        }
        let msg = &body["message"];
        let token = msg["token"].as_str().unwrap_or_default().to_owned();
        if token.is_empty()
            || !msg["data"].is_object()
            || msg["data"].as_object().unwrap().values().any(|v| !v.is_string())
        {
            return fcm_error(400, "INVALID_ARGUMENT", Some("INVALID_ARGUMENT"));
        }
        if i.faults.unregistered.contains(&token) {
            i.refused += 1;
            return fcm_error(404, "NOT_FOUND", Some("UNREGISTERED"));
        }
        if i.faults.throttle_next > 0 {
            i.faults.throttle_next -= 1;
            i.refused += 1;
            return fcm_error_after(429, "RESOURCE_EXHAUSTED", Some("QUOTA_EXCEEDED"), Some(1));
        }
        if i.faults.fail_next > 0 {
            i.faults.fail_next -= 1;
            i.refused += 1;
            return fcm_error(500, "INTERNAL", Some("INTERNAL"));
        }
        if i.faults.deny_next > 0 {
            i.faults.deny_next -= 1;
            i.refused += 1;
            return fcm_error(403, "PERMISSION_DENIED", None);
        }
        let stall = i.faults.stall_next > 0;
        if stall {
            i.faults.stall_next -= 1;
            i.refused += 1;
        } else {
            i.received.push(Received { token, message: msg.clone(), at: Instant::now(), wall: chrono::Utc::now() });
        }
        stall
    };
    if stall {
        tokio::time::sleep(Duration::from_secs(15)).await;
        return fcm_error(503, "UNAVAILABLE", None);
    }
    let n = inner.lock().unwrap().received.len();
    HttpResponse::Ok().json(json!({"name": format!("projects/{PROJECT}/messages/{n}")}))
}
