//! The FCM HTTP v1 API: `POST {endpoint}/v1/projects/{project}/messages:send` with an OAuth
//! bearer token. Messages carry a notification (localised title and body), data, and Android and
//! APNs sections with a collapse key per event, so a phone shows the latest state of an event once.

use std::time::Duration;

use serde_json::{Value, json};

use super::oauth::TokenSource;
use super::texts;
use crate::models::push::{DeviceRow, NotificationRow};

/// What became of one send.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// FCM accepted it; its message name.
    Sent(String),
    /// Try again later (429, 5xx, timeouts), not before `after` if FCM said so.
    Retry { after: Option<Duration>, error: String },
    /// The token is dead (UNREGISTERED, invalid): stop sending to this device.
    DeviceGone(String),
    /// A permanent error for this message: recorded, not retried.
    Rejected(String),
}

/// The message for one device.
pub fn message(n: &NotificationRow, device: &DeviceRow) -> Value {
    let payload: Value = serde_json::from_str(&n.payload).unwrap_or_else(|_| json!({}));
    let category = payload["category"].as_str().unwrap_or_default();
    let (title, body) = texts::text(&n.kind, &device.locale, category);
    // FCM data values must be strings.
    let mut data = serde_json::Map::new();
    if let Some(obj) = payload.as_object() {
        for (k, v) in obj {
            if !v.is_null() {
                data.insert(k.clone(), Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_owned)));
            }
        }
    }
    data.insert("notification_id".into(), Value::String(n.id.clone()));
    data.insert("kind".into(), Value::String(n.kind.clone()));
    let collapse = n.event_id.clone().unwrap_or_else(|| n.id.clone());
    json!({
        "message": {
            "token": device.fcm_token,
            "notification": {"title": title, "body": body},
            "data": data,
            "android": {
                "collapse_key": collapse,
                "priority": "high",
                "notification": {"tag": collapse, "channel_id": "tasks"},
            },
            "apns": {
                "headers": {"apns-collapse-id": collapse, "apns-priority": "10"},
                "payload": {"aps": {"sound": "default", "thread-id": collapse}},
            },
        }
    })
}

fn retry_after(res: &reqwest::Response) -> Option<Duration> {
    let v = res.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The FCM error code from an error body (`error.details[].errorCode`, else `error.status`).
fn error_code(body: &Value) -> String {
    body["error"]["details"]
        .as_array()
        .and_then(|d| d.iter().find_map(|x| x["errorCode"].as_str()))
        .or_else(|| body["error"]["status"].as_str())
        .unwrap_or("UNKNOWN")
        .to_owned()
}

/// Sends one message. A 401 refreshes the access token once.
pub async fn send(client: &reqwest::Client, tokens: &TokenSource, endpoint: &str, msg: &Value) -> Outcome {
    let url = format!("{}/v1/projects/{}/messages:send", endpoint.trim_end_matches('/'), tokens.account().project_id);
    for attempt in 0..2 {
        let token = match tokens.token().await {
            Ok(t) => t,
            Err(e) => return Outcome::Retry { after: None, error: format!("access token: {e}") },
        };
        let res = match client.post(&url).bearer_auth(&token).json(msg).send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Retry { after: None, error: format!("network: {e}") },
        };
        let status = res.status();
        let after = retry_after(&res);
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Outcome::Sent(body["name"].as_str().unwrap_or_default().to_owned());
        }
        let code = error_code(&body);
        match status.as_u16() {
            401 if attempt == 0 => {
                tokens.invalidate().await;
                continue;
            }
            404 | 400 | 403 if matches!(code.as_str(), "UNREGISTERED" | "INVALID_ARGUMENT" | "SENDER_ID_MISMATCH") => {
                return Outcome::DeviceGone(code);
            }
            429 | 500 | 502 | 503 | 504 => return Outcome::Retry { after, error: format!("{status} {code}") },
            _ => return Outcome::Rejected(format!("{status} {code}")),
        }
    }
    Outcome::Retry { after: None, error: "unauthorized twice".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_collapse_per_event_and_carry_string_data() {
        let mut n = NotificationRow::new(
            "u",
            Some("ev-1"),
            "task_assigned",
            json!({"event_id": "ev-1", "category": "C-01-01", "version": 3, "due_at": null}).to_string(),
        );
        n.id = "n-1".into();
        let d = DeviceRow {
            id: "d".into(),
            user_id: "u".into(),
            session_id: None,
            fcm_token: "tok".into(),
            platform: "android".into(),
            app_version: "1.0".into(),
            locale: "en-GB".into(),
            active: true,
            deactivated_reason: None,
            created_at: crate::models::now(),
            updated_at: crate::models::now(),
        };
        let m = message(&n, &d);
        assert_eq!(m["message"]["token"], "tok");
        assert_eq!(m["message"]["notification"]["title"], "New task");
        assert_eq!(m["message"]["data"]["version"], "3");
        assert!(m["message"]["data"].get("due_at").is_none());
        assert_eq!(m["message"]["android"]["collapse_key"], "ev-1");
        assert_eq!(m["message"]["apns"]["headers"]["apns-collapse-id"], "ev-1");
        let zh = DeviceRow { locale: "zh-CN".into(), ..d };
        assert_eq!(message(&n, &zh)["message"]["notification"]["title"], "新任务");
        assert_eq!(
            error_code(&json!({"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}})),
            "UNREGISTERED"
        );
    }
}
