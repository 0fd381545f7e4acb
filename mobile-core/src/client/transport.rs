//! HTTP to the Gridwork server: JSON bodies and photo uploads, the bearer token, the
//! Idempotency-Key, and answers as (status, JSON, Retry-After). Network failures are
//! `ClientError::Network`; everything the server says is left to `queue::judge`.

use std::sync::RwLock;
use std::time::Duration;

use serde_json::Value;

use super::error::{ClientError, ClientResult};

pub enum Body<'a> {
    None,
    Json(&'a Value),
    Photo { fields: Vec<(&'static str, String)>, jpeg: Vec<u8> },
}

pub struct Transport {
    http: reqwest::Client,
    pub base: String,
    token: RwLock<Option<String>>,
}

impl Transport {
    pub fn new(base: &str, timeout: Duration) -> ClientResult<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .timeout(timeout)
            .build()
            .map_err(|e| ClientError::Other(format!("HTTP client: {e}")))?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned(), token: RwLock::new(None) })
    }

    pub fn set_token(&self, token: Option<String>) {
        if let Ok(mut t) = self.token.write() {
            *t = token;
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Body<'_>,
        idempotency_key: Option<&str>,
    ) -> ClientResult<(u16, Value, Option<u64>)> {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            "PUT" => self.http.put(url),
            _ => self.http.post(url),
        };
        if let Some(token) = self.token.read().ok().and_then(|t| t.clone()) {
            req = req.bearer_auth(token);
        }
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(v),
            Body::Photo { fields, jpeg } => {
                let mut form = reqwest::multipart::Form::new().part(
                    "file",
                    reqwest::multipart::Part::bytes(jpeg)
                        .file_name("photo.jpg")
                        .mime_str("image/jpeg")
                        .map_err(|e| ClientError::Other(e.to_string()))?,
                );
                for (k, v) in fields {
                    form = form.text(k, v);
                }
                req.multipart(form)
            }
        };
        let res = req.send().await.map_err(|e| ClientError::Network(e.to_string()))?;
        let status = res.status().as_u16();
        let retry_after =
            res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
        let bytes = res.bytes().await.map_err(|e| ClientError::Network(format!("the answer was cut off: {e}")))?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Ok((status, body, retry_after))
    }
}
