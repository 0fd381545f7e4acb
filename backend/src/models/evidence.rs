use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{evidence, evidence_blobs, evidence_uploads};

/// One stored image, keyed by the hash of the bytes as uploaded.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = evidence_blobs)]
pub struct BlobRow {
    pub upload_sha256: String,
    /// Hash of the stored JPEG; the object key derives from it.
    pub sha256: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub source_format: String,
    pub exif_taken_at: Option<String>,
    pub exif_lat: Option<f64>,
    pub exif_lng: Option<f64>,
    pub created_at: NaiveDateTime,
}

/// A photo as evidence of an event.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = evidence)]
pub struct EvidenceRow {
    pub id: String,
    pub event_id: Option<String>,
    /// `before`, `after` or `verify`.
    pub kind: String,
    pub uploader_id: String,
    pub upload_sha256: String,
    pub captured_at: Option<NaiveDateTime>,
    pub capture_lat: Option<f64>,
    pub capture_lng: Option<f64>,
    /// `exif` or `device`.
    pub capture_source: Option<String>,
    /// JSON array of flags.
    pub flags: String,
    pub cited_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub purged_at: Option<NaiveDateTime>,
}

/// A resumable upload in progress.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = evidence_uploads)]
pub struct UploadRow {
    pub id: String,
    pub uploader_id: String,
    /// JSON of the evidence fields given when the upload began.
    pub fields: String,
    pub total_bytes: i64,
    pub sha256: String,
    pub received: i64,
    pub evidence_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}
