//! Where photos go and what is accepted.

use std::path::{Path, PathBuf};

use gridwork_mobile_core::photo::Limits;

use crate::config::{FileSettings, ServeArgs};

/// The object store holding photos.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A directory on this machine.
    Local(PathBuf),
    /// `s3://bucket/prefix` on any S3-compatible service; the rest comes from `AWS_*` variables
    /// (`AWS_ENDPOINT` for MinIO and friends), then from `options` (object_store's S3 config
    /// keys, e.g. `aws_endpoint`, `aws_allow_http`).
    S3 { url: String, options: Vec<(String, String)> },
}

impl StoreLocation {
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            anyhow::bail!("evidence_store must not be empty");
        }
        if text.starts_with("s3://") {
            return Ok(Self::S3 { url: text.to_owned(), options: Vec::new() });
        }
        if let Some((scheme, _)) = text.split_once("://")
            && scheme != "file"
        {
            anyhow::bail!("evidence_store: unsupported scheme {scheme}:// (use a directory or s3://bucket/prefix)");
        }
        Ok(Self::Local(PathBuf::from(text.trim_start_matches("file://"))))
    }
}

#[derive(Debug, Clone)]
pub struct EvidenceSettings {
    pub store: StoreLocation,
    pub limits: Limits,
    /// Long edge of the thumbnails shown in lists.
    pub thumbnail_edge: u32,
    /// Days photos are kept after their event ended; `None` keeps them.
    pub retention_days: Option<u32>,
    /// The cameras' offset from UTC, for EXIF times that carry no zone.
    pub camera_utc_offset: chrono::FixedOffset,
    /// Largest chunk of a resumable upload.
    pub chunk_bytes: usize,
}

impl EvidenceSettings {
    pub fn resolve(args: &ServeArgs, file: &FileSettings, data_dir: &Path) -> anyhow::Result<Self> {
        let store = match args.evidence_store.clone().or_else(|| file.evidence_store.clone()) {
            Some(s) => StoreLocation::parse(&s)?,
            None => StoreLocation::Local(data_dir.join("evidence")),
        };
        let defaults = Limits::default();
        let max_bytes = args.evidence_max_bytes.or(file.evidence_max_bytes).unwrap_or(defaults.max_bytes);
        let max_pixels = args.evidence_max_pixels.or(file.evidence_max_pixels).unwrap_or(defaults.max_pixels);
        if max_bytes == 0 || max_pixels == 0 {
            anyhow::bail!("evidence_max_bytes and evidence_max_pixels must be positive");
        }
        let minutes = args.camera_utc_offset_minutes.or(file.camera_utc_offset_minutes).unwrap_or(8 * 60);
        let camera_utc_offset = chrono::FixedOffset::east_opt(minutes * 60)
            .ok_or_else(|| anyhow::anyhow!("camera_utc_offset_minutes must be within ±1439, got {minutes}"))?;
        Ok(Self {
            store,
            limits: Limits { max_bytes, max_pixels, ..defaults },
            thumbnail_edge: 320,
            retention_days: match args.evidence_retention_days.or(file.evidence_retention_days).unwrap_or(730) {
                0 => None,
                d => Some(d),
            },
            camera_utc_offset,
            chunk_bytes: 4 * 1024 * 1024,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_locations_parse() {
        assert_eq!(StoreLocation::parse("/srv/photos").unwrap(), StoreLocation::Local("/srv/photos".into()));
        assert_eq!(StoreLocation::parse("file:///srv/p").unwrap(), StoreLocation::Local("/srv/p".into()));
        assert_eq!(
            StoreLocation::parse("s3://city/evidence").unwrap(),
            StoreLocation::S3 { url: "s3://city/evidence".into(), options: vec![] }
        );
        assert!(StoreLocation::parse("gs://x").is_err());
        assert!(StoreLocation::parse(" ").is_err());
    }
}
