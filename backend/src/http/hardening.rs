//! What every response carries and what every client is held to: security headers on all
//! answers (HSTS when the site is served over TLS), no caching of API answers, and per-client
//! limits on the endpoints anyone can reach (sign-in, volunteer sign-up and its community search)
//! and on filing reports. Limits are a fixed window per rule and client in this process's memory:
//! each server of a cluster limits on its own, which bounds abuse without a shared store.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Requests per window for each limited endpoint (0: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub sign_ins_per_minute: u32,
    pub sign_ups_per_hour: u32,
    pub lookups_per_minute: u32,
    pub reports_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { sign_ins_per_minute: 30, sign_ups_per_hour: 20, lookups_per_minute: 120, reports_per_minute: 60 }
    }
}

impl RateLimits {
    pub const OFF: Self =
        Self { sign_ins_per_minute: 0, sign_ups_per_hour: 0, lookups_per_minute: 0, reports_per_minute: 0 };

    /// The rule for a request: (name, limit, window), if it is limited.
    fn rule(&self, method: &Method, path: &str) -> Option<(&'static str, u32, Duration)> {
        const MINUTE: Duration = Duration::from_secs(60);
        let (name, limit, window) = match (method.as_str(), path) {
            ("POST", "/api/v1/auth/login") => ("sign_in", self.sign_ins_per_minute, MINUTE),
            ("POST", "/api/v1/volunteers/sign-up") => ("sign_up", self.sign_ups_per_hour, Duration::from_secs(3600)),
            ("GET", "/api/v1/volunteers/communities") => ("lookup", self.lookups_per_minute, MINUTE),
            ("POST", "/api/v1/events") => ("report", self.reports_per_minute, MINUTE),
            _ => return None,
        };
        (limit > 0).then_some((name, limit, window))
    }
}

/// Whether the site is served over TLS (by a proxy in front): then browsers are told to keep to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hardening {
    pub hsts: bool,
    pub limits: RateLimits,
}

/// A rule's name and a client address.
type Key = (&'static str, String);

/// Counts per (rule, client) in the current window: when it began and how many so far.
#[derive(Debug, Default)]
pub struct Limiter {
    windows: Mutex<HashMap<Key, (Instant, u32)>>,
}

/// Beyond this many clients tracked, finished windows are dropped before counting.
const TRACKED_MAX: usize = 50_000;

impl Limiter {
    /// Counts a request; `Err(seconds)` when the client must wait that long.
    pub fn hit(&self, rule: &'static str, client: &str, limit: u32, window: Duration, now: Instant) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > TRACKED_MAX {
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(3600));
        }
        let entry = windows.entry((rule, client.to_owned())).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            let left = window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

fn set_default(headers: &mut header::HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let settings = state.settings.hardening;
    if let Some((rule, limit, window)) = settings.limits.rule(req.method(), req.path()) {
        let client = if state.settings.trust_forwarded_for {
            req.connection_info().realip_remote_addr().map(str::to_owned)
        } else {
            req.peer_addr().map(|a| a.ip().to_string())
        }
        .unwrap_or_default();
        if let Err(wait) = state.limiter.hit(rule, &client, limit, window, Instant::now()) {
            let mut e = ApiError::new(ErrorCode::RateLimited, "too many requests from this address: wait and retry");
            e.retry_after = Some(wait);
            let res = e.error_response();
            return Ok(req.into_response(res).map_into_right_body());
        }
    }
    let api = req.path().starts_with("/api/");
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    set_default(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(headers, header::REFERRER_POLICY, "no-referrer");
    set_default(headers, header::X_FRAME_OPTIONS, "DENY");
    if api {
        // Answers hold personal data and are per caller: no shared cache keeps them, and no
        // browser renders them as a page.
        set_default(headers, header::CACHE_CONTROL, "no-store");
        set_default(headers, header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'");
    }
    if settings.hsts {
        set_default(headers, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    }
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_per_rule_and_client_then_resets() {
        let l = Limiter::default();
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(l.hit("sign_up", "10.0.0.1", 3, minute, t0), Ok(()));
        }
        assert_eq!(l.hit("sign_up", "10.0.0.1", 3, minute, t0 + Duration::from_secs(20)), Err(40));
        assert_eq!(l.hit("sign_up", "10.0.0.2", 3, minute, t0), Ok(()), "another client");
        assert_eq!(l.hit("lookup", "10.0.0.1", 3, minute, t0), Ok(()), "another rule");
        assert_eq!(l.hit("sign_up", "10.0.0.1", 3, minute, t0 + minute), Ok(()), "a new window");
    }

    #[test]
    fn only_the_named_endpoints_are_limited_and_zero_is_off() {
        let limits = RateLimits::default();
        assert!(limits.rule(&Method::POST, "/api/v1/volunteers/sign-up").is_some());
        assert!(limits.rule(&Method::GET, "/api/v1/volunteers/sign-up").is_none());
        assert!(limits.rule(&Method::GET, "/api/v1/events").is_none());
        assert!(RateLimits::OFF.rule(&Method::POST, "/api/v1/auth/login").is_none());
    }
}
