//! The send queue's rules, without I/O: what each operation is, how an answer is judged, and
//! when to try again.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::event::Source;
use crate::wire::{ActionRequest, ErrorBody, Ping};

/// An event as operations name it: the server's id, or the id a report got on this device
/// (`local-…`) until the server's is known.
pub type EventRef = String;

pub const LOCAL_PREFIX: &str = "local-";

/// One operation of the queue, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// A new problem; `photos` are the queue entries of its before-photos.
    Report {
        local_id: String,
        category: String,
        lat: f64,
        lng: f64,
        description: String,
        address: Option<String>,
        source: Source,
        photos: Vec<i64>,
    },
    /// A photo (its bytes are stored beside the entry).
    Photo {
        /// `None`: a before-photo of a report not sent yet.
        event: Option<EventRef>,
        kind: String,
        taken_at: Option<String>,
        at: Option<(f64, f64)>,
        sha256: String,
    },
    /// An action on an event, as the wire carries it; a resolve cites the evidence its `photos`
    /// entries became.
    Action { event: EventRef, action: ActionRequest, photos: Vec<i64> },
    /// Location pings, batched.
    Location { pings: Vec<Ping> },
    Duty {
        on_duty: bool,
        /// When the switch was made (queues written before this field send none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

impl Op {
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Report { .. } => "report",
            Op::Photo { .. } => "photo",
            Op::Action { .. } => "action",
            Op::Location { .. } => "location",
            Op::Duty { .. } => "duty",
        }
    }

    /// The event the operation is about, if any.
    pub fn event(&self) -> Option<&str> {
        match self {
            Op::Report { local_id, .. } => Some(local_id),
            Op::Photo { event, .. } => event.as_deref(),
            Op::Action { event, .. } => Some(event),
            _ => None,
        }
    }
}

/// What an answer means for the operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Done(Value),
    /// Try again later (network trouble, overload, a twin in flight).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// The server refused for good: kept as a conflict with its reason; the queue goes on.
    Refused {
        code: String,
        reason: String,
    },
    /// The session is gone: everything waits for a new sign-in.
    Unauthorized,
}

/// Judges an HTTP answer.
pub fn judge(status: u16, body: Value, retry_after: Option<u64>) -> Verdict {
    // Not every error comes from Gridwork (a proxy's page, an overloaded balancer): what does not
    // parse as the wire's error is judged by its status alone.
    let error = serde_json::from_value::<ErrorBody>(body.clone()).ok();
    let message = error.as_ref().map(|e| e.message.clone()).unwrap_or_default();
    match status {
        200..=299 => Verdict::Done(body),
        401 => Verdict::Unauthorized,
        408 | 425 | 429 | 500..=599 => Verdict::Retry {
            after: retry_after.map(Duration::from_secs),
            reason: format!("HTTP {status} {message}").trim().to_owned(),
        },
        // A 409 without a field at fault is the same action still in flight elsewhere.
        409 if error.as_ref().is_none_or(|e| e.fields.is_empty()) => Verdict::Retry { after: None, reason: message },
        _ => {
            // The field's code is the precise one (`invalid_transition`); the error's the general.
            let code = error
                .as_ref()
                .and_then(|e| match e.fields.values().next() {
                    Some(f) => Some(f.code.clone()),
                    None => serde_json::to_value(e.error).ok().and_then(|v| v.as_str().map(str::to_owned)),
                })
                .unwrap_or_else(|| "refused".into());
            Verdict::Refused { code, reason: if message.is_empty() { format!("HTTP {status}") } else { message } }
        }
    }
}

/// How long to wait before attempt `attempts + 1`: exponential from 1 s, capped at 5 minutes,
/// with full jitter in its upper half so a thousand phones coming back online do not retry in step.
pub fn backoff(attempts: u32, jitter: f64) -> Duration {
    let cap = 300.0_f64;
    let base = 2f64.powi(i32::try_from(attempts.min(16)).unwrap_or(16)).min(cap);
    Duration::from_secs_f64(base * (0.5 + 0.5 * jitter.clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_judged() {
        assert!(matches!(judge(201, json!({"id": "e1"}), None), Verdict::Done(_)));
        assert_eq!(judge(401, json!({}), None), Verdict::Unauthorized);
        assert!(matches!(judge(503, json!({}), Some(2)), Verdict::Retry { after: Some(d), .. } if d.as_secs() == 2));
        assert!(matches!(judge(409, json!({"error": "conflict", "fields": {}}), None), Verdict::Retry { .. }));
        let refused =
            json!({"error": "conflict", "message": "reassigned", "fields": {"action": {"code": "invalid_transition"}}});
        assert_eq!(
            judge(409, refused, None),
            Verdict::Refused { code: "invalid_transition".into(), reason: "reassigned".into() }
        );
        assert!(
            matches!(judge(403, json!({"error": "forbidden", "fields": {}}), None), Verdict::Refused { code, .. } if code == "forbidden")
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        assert_eq!(backoff(0, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(3, 0.0), Duration::from_secs(4));
        assert_eq!(backoff(30, 1.0), Duration::from_secs(300));
        assert!(backoff(5, 0.3) < backoff(5, 0.9));
    }

    #[test]
    fn operations_round_trip_as_json() {
        let action = ActionRequest {
            action: crate::domain::event::Action::Resolve { evidence: vec![] },
            version: None,
            location: None,
            departments: vec![],
        };
        let op = Op::Action { event: "e1".into(), action, photos: vec![3, 4] };
        let back: Op = serde_json::from_value(serde_json::to_value(&op).unwrap()).unwrap();
        assert_eq!((back.kind(), back.event()), ("action", Some("e1")));
        // Entries queued by earlier versions (the action as loose JSON) still read.
        let stored = json!({"op": "action", "event": "e2", "photos": [],
            "action": {"action": "return", "reason": "wrong grid", "location": {"lat": 30.5, "lng": 114.2}}});
        let Op::Action { action, .. } = serde_json::from_value::<Op>(stored).unwrap() else { panic!("not an action") };
        assert_eq!(action.action, crate::domain::event::Action::Return { reason: "wrong grid".into() });
        assert_eq!(action.location.map(|p| (p.lat, p.lng)), Some((30.5, 114.2)));
    }
}
