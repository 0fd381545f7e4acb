//! HTTP plumbing shared by every route: request ids, metrics, extractor error mapping.

pub mod extract;
pub mod hardening;
pub mod metrics;
pub mod request_id;
