//! Webhooks for department systems (应接尽接): administrators over an area subscribe a system's
//! URL to the state changes of the area's events (filtered by state and category). Each change
//! writes one delivery per matching subscription in its own transaction (`outbox`); the sender
//! POSTs them signed per the Standard Webhooks specification (`sign`), retries with backoff,
//! keeps a delivery log with manual replay, and switches off a subscription that keeps failing,
//! telling its owner. Messages carry the case, never who reported it or a caller's contact.

pub mod outbox;
pub mod sender;
pub mod sign;
pub mod subscriptions;
