//! The checks an after-photo gets: taken where the event is, after the work was given out, with
//! capture data at all. They flag for people to judge; they never refuse (a phone's clock or GPS
//! can be wrong, and the verifier decides).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// Metres between two (lat, lng) points.
fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    gridwork_mobile_core::domain::crs::distance_m((a.1, a.0), (b.1, b.0))
}

/// What the photo said about when and where it was taken.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capture {
    pub taken_at: Option<DateTime<Utc>>,
    /// (lat, lng), WGS-84.
    pub at: Option<(f64, f64)>,
}

/// The event an after-photo should prove.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expected {
    pub event_at: (f64, f64),
    /// The category's radius.
    pub radius_m: f64,
    /// When the work was given to the handler.
    pub dispatched_at: Option<DateTime<Utc>>,
}

/// Flags, each `{"code": …}` with the numbers behind it.
pub fn after_photo_flags(capture: &Capture, expected: &Expected) -> Vec<Value> {
    let mut flags = Vec::new();
    match capture.at {
        None => flags.push(json!({"code": "no_capture_location"})),
        Some(at) => {
            let d = distance_m(at, expected.event_at);
            if d > expected.radius_m {
                flags.push(json!({
                    "code": "far_from_event",
                    "distance_m": d.round(),
                    "radius_m": expected.radius_m,
                }));
            }
        }
    }
    match (capture.taken_at, expected.dispatched_at) {
        (None, _) => flags.push(json!({"code": "no_capture_time"})),
        (Some(taken), Some(dispatched)) if taken < dispatched => flags.push(json!({
            "code": "before_dispatch",
            "taken_at": taken,
            "dispatched_at": dispatched,
        })),
        _ => {}
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const EVENT: (f64, f64) = (30.2741, 120.1551);

    fn expected() -> Expected {
        Expected { event_at: EVENT, radius_m: 30.0, dispatched_at: Some(t("2026-11-30T08:00:00Z")) }
    }

    #[test]
    fn distances_are_metres() {
        // One thousandth of a degree of latitude is about 111 m.
        let d = distance_m((30.0, 120.0), (30.001, 120.0));
        assert!((d - 111.2).abs() < 0.5, "{d}");
        assert_eq!(distance_m(EVENT, EVENT), 0.0);
    }

    #[test]
    fn a_good_photo_has_no_flags() {
        let c = Capture { taken_at: Some(t("2026-11-30T09:00:00Z")), at: Some((30.2742, 120.1551)) };
        assert!(after_photo_flags(&c, &expected()).is_empty());
    }

    #[test]
    fn far_early_and_bare_photos_are_flagged_with_the_numbers() {
        let c = Capture { taken_at: Some(t("2026-11-30T07:59:00Z")), at: Some((30.2751, 120.1551)) };
        let flags = after_photo_flags(&c, &expected());
        assert_eq!(flags[0]["code"], "far_from_event");
        assert_eq!(flags[0]["distance_m"], 111.0);
        assert_eq!(flags[1]["code"], "before_dispatch");
        let codes: Vec<_> =
            after_photo_flags(&Capture::default(), &expected()).into_iter().map(|f| f["code"].clone()).collect();
        assert_eq!(codes, ["no_capture_location", "no_capture_time"]);
    }
}
