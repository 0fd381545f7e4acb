//! The person's copy of what Gridwork holds about them (查阅、复制权): `GET /me/data-export`, a
//! ZIP with `data.json` (every section below, read from the database as it stands) and
//! `photos/<evidence id>.jpg` for each photo they took that is still kept.

use std::io::Write;

use chrono::{DateTime, Utc};
use gridwork_mobile_core::wire::{ErasureRequestView, Grant};
use serde::Serialize;

use crate::db::DbConn;
use crate::error::{ApiError, ApiResult};
use crate::evidence::store::PhotoStore;
use crate::queries::personal_data as pd;
use crate::queries::personal_data::{
    AccountRecord, ApplicationRecord, DeviceRecord, DutyRecord, NotificationRecord, PhotoRecord, PingRecord,
    ReadRecord, ReportRecord, ServiceRecord, SessionRecord, StepRecord,
};

#[derive(Debug, Serialize)]
pub struct PhotoEntry {
    #[serde(flatten)]
    pub record: PhotoRecord,
    /// The photo's path inside the archive; none when retention removed it.
    pub file: Option<String>,
}

/// Everything held about one person.
#[derive(Debug, Serialize)]
pub struct Export {
    pub generated_at: DateTime<Utc>,
    pub account: AccountRecord,
    pub roles: Vec<Grant>,
    pub sessions: Vec<SessionRecord>,
    pub devices: Vec<DeviceRecord>,
    pub volunteer_applications: Vec<ApplicationRecord>,
    pub service_records: Vec<ServiceRecord>,
    /// The reports they filed.
    pub reports: Vec<ReportRecord>,
    /// Every timeline step they took, with where they were.
    pub timeline_steps: Vec<StepRecord>,
    pub photos: Vec<PhotoEntry>,
    pub location_pings: Vec<PingRecord>,
    pub duty_periods: Vec<DutyRecord>,
    pub notifications: Vec<NotificationRecord>,
    /// Who read their phone number or track, and when.
    pub reads_by_others: Vec<ReadRecord>,
    pub erasure_requests: Vec<ErasureRequestView>,
}

/// Reads every section in one transaction, so the copy is consistent.
pub fn collect(conn: &mut DbConn, user: &str) -> ApiResult<Export> {
    use diesel::Connection;
    conn.transaction(|conn| {
        let erasure_requests = super::erasure::of_person(conn, user)?;
        Ok(Export {
            generated_at: Utc::now(),
            account: pd::account(conn, user)?,
            roles: crate::accounts::roles_of(conn, user)?,
            sessions: pd::sessions_of(conn, user)?,
            devices: pd::devices_of(conn, user)?,
            volunteer_applications: pd::applications_of(conn, user)?,
            service_records: pd::service_of(conn, user)?,
            reports: pd::reports_of(conn, user)?,
            timeline_steps: pd::steps_of(conn, user)?,
            photos: pd::photos_of(conn, user)?.into_iter().map(|record| PhotoEntry { file: None, record }).collect(),
            location_pings: pd::pings_of(conn, user)?,
            duty_periods: pd::duty_of(conn, user)?,
            notifications: pd::notifications_of(conn, user)?,
            reads_by_others: pd::reads_of(conn, user)?,
            erasure_requests,
        })
    })
}

/// Fetches the kept photos from the store (names them in the export) and writes the archive.
pub async fn archive(mut export: Export, photos: &PhotoStore) -> ApiResult<Vec<u8>> {
    let mut files = vec![];
    for entry in &mut export.photos {
        if entry.record.purged_at.is_some() {
            continue;
        }
        if let Some(bytes) = photos.get(&PhotoStore::photo_key(&entry.record.sha256)).await? {
            let name = format!("photos/{}.jpg", entry.record.id);
            entry.file = Some(name.clone());
            files.push((name, bytes));
        }
    }
    let json = serde_json::to_vec_pretty(&export).map_err(|e| ApiError::internal(e.to_string()))?;
    actix_web::web::block(move || write_zip(&json, &files)).await.map_err(|e| ApiError::internal(e.to_string()))?
}

fn write_zip(json: &[u8], files: &[(String, bytes::Bytes)]) -> ApiResult<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let fail = |e: &dyn std::fmt::Display| ApiError::internal(format!("writing the export: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("data.json", deflated).map_err(|e| fail(&e))?;
    zip.write_all(json).map_err(|e| fail(&e))?;
    // JPEGs do not compress: stored as they are.
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), stored).map_err(|e| fail(&e))?;
        zip.write_all(bytes).map_err(|e| fail(&e))?;
    }
    Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
}
