//! OAuth 2.0 access tokens for FCM by the service-account JWT flow (RFC 7523): a JWT signed with
//! the account's key is exchanged at the token endpoint; the token is cached until shortly
//! before it expires.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use tokio::sync::Mutex;

use super::credentials::ServiceAccount;

pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Renew this long before the token expires.
const EARLY: Duration = Duration::from_secs(300);

/// The signed assertion for the token request.
pub fn assertion(account: &ServiceAccount, now: i64) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT"});
    let claims = json!({
        "iss": account.client_email,
        "scope": SCOPE,
        "aud": account.token_uri,
        "iat": now,
        "exp": now + 3600,
    });
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let key = SigningKey::<Sha256>::new(account.key.clone());
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

/// Hands out a valid access token, fetching a new one when needed.
#[derive(Debug)]
pub struct TokenSource {
    account: ServiceAccount,
    client: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

impl TokenSource {
    pub fn new(account: ServiceAccount, client: reqwest::Client) -> Self {
        Self { account, client, cached: Mutex::new(None) }
    }

    pub fn account(&self) -> &ServiceAccount {
        &self.account
    }

    pub async fn token(&self) -> anyhow::Result<String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let jwt = assertion(&self.account, chrono::Utc::now().timestamp());
        let res = self
            .client
            .post(&self.account.token_uri)
            .form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", jwt.as_str())])
            .send()
            .await?;
        let status = res.status();
        if !status.is_success() {
            let body = res.text().await.unwrap_or_default();
            anyhow::bail!("token endpoint answered {status}: {}", body.chars().take(300).collect::<String>());
        }
        let t: TokenResponse = res.json().await?;
        let until = Instant::now() + Duration::from_secs(t.expires_in).saturating_sub(EARLY);
        *cached = Some((t.access_token.clone(), until));
        Ok(t.access_token)
    }

    /// Forgets the cached token (FCM said it is no longer valid).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}
