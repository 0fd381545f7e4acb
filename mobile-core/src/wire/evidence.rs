//! Photo evidence: what is known of a photo, and resumable uploads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::LatLng;
use crate::domain::event::EvidenceKind;

wire! {
    /// A check a photo failed (`far_from_event`, `no_capture_time`, `before_dispatch` …) with the
    /// numbers behind it.
    pub struct EvidenceFlag {
        pub code: String,
        #[serde(flatten)]
        pub detail: BTreeMap<String, serde_json::Value>,
    }

    /// When and where the photo was taken, by the camera's word or the phone's.
    pub struct Capture {
        pub taken_at: Option<DateTime<Utc>>,
        pub location: Option<LatLng>,
        /// `exif`, `device` or none.
        pub source: Option<String>,
    }

    /// A photo of an event. Who took it, where and when, and the checks only to staff over the
    /// area and to the uploader (where someone stood is personal data).
    pub struct EvidenceView {
        pub id: String,
        pub event_id: Option<String>,
        pub kind: EvidenceKind,
        pub uploaded_at: DateTime<Utc>,
        pub width: i32,
        pub height: i32,
        pub bytes: i64,
        pub sha256: String,
        /// An action cited it (a resolve, a verify).
        pub cited: bool,
        /// Past retention: the bytes are gone, the record stays.
        pub purged: bool,
        pub photo_url: String,
        pub thumbnail_url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub uploader: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub capture: Option<Capture>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub flags: Option<Vec<EvidenceFlag>>,
    }

    /// An event's photos as a verifier compares them.
    #[derive(Default)]
    pub struct EvidenceGroups {
        pub before: Vec<EvidenceView>,
        pub after: Vec<EvidenceView>,
        pub verify: Vec<EvidenceView>,
    }

    /// A resumable upload: send the bytes from `received` on.
    pub struct UploadView {
        pub id: String,
        pub size: i64,
        pub received: i64,
        /// The evidence it became, once complete.
        pub evidence_id: Option<String>,
        /// The chunk size the server prefers (on creation).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub chunk_bytes: Option<u64>,
    }
}
