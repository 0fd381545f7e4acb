//! The object store behind photos: keys derive from content hashes, so a key is written once and
//! never changes.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

use super::settings::StoreLocation;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone)]
pub struct PhotoStore {
    inner: Arc<dyn ObjectStore>,
    /// For a local store: the root, so writes can be flushed to disk before they are acknowledged.
    local_root: Option<PathBuf>,
}

fn failed(e: &object_store::Error) -> ApiError {
    tracing::error!(error = %e, "object store");
    ApiError::unavailable("the photo store is not available; try again")
}

impl PhotoStore {
    pub fn open(location: &StoreLocation) -> anyhow::Result<Self> {
        match location {
            StoreLocation::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("cannot create the photo directory {}: {e}", dir.display()))?;
                let root = std::fs::canonicalize(dir)?;
                Ok(Self { inner: Arc::new(LocalFileSystem::new_with_prefix(&root)?), local_root: Some(root) })
            }
            StoreLocation::S3 { url, options } => {
                // The builder takes the bucket from the URL; a path after it is a key prefix.
                let rest = url.trim_start_matches("s3://");
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                for (key, value) in options {
                    builder = builder.with_config(key.parse()?, value);
                }
                let store = builder.build()?;
                let prefix = prefix.trim_matches('/');
                let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(store)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
                };
                Ok(Self { inner, local_root: None })
            }
        }
    }

    pub fn photo_key(sha256: &str) -> Path {
        Path::from(format!("photos/{}/{sha256}.jpg", &sha256[..2.min(sha256.len())]))
    }

    pub fn thumbnail_key(sha256: &str) -> Path {
        Path::from(format!("thumbnails/{}/{sha256}.jpg", &sha256[..2.min(sha256.len())]))
    }

    fn chunk_key(upload: &str, offset: i64) -> Path {
        Path::from(format!("uploads/{upload}/{offset:012}"))
    }

    /// Writes an object and, on a local disk, flushes it so an acknowledged upload survives a
    /// power cut (S3 acknowledges only what it has stored).
    pub async fn put(&self, key: &Path, bytes: Bytes) -> ApiResult<()> {
        self.inner.put(key, PutPayload::from(bytes)).await.map_err(|e| failed(&e))?;
        if let Some(root) = &self.local_root {
            let file = root.join(key.as_ref());
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                std::fs::File::open(&file)?.sync_all()?;
                if let Some(dir) = file.parent() {
                    std::fs::File::open(dir)?.sync_all()?;
                }
                Ok(())
            })
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(|e| ApiError::internal(format!("cannot flush a photo to disk: {e}")))?;
        }
        Ok(())
    }

    /// The object, or `None` when it is not there.
    pub async fn get(&self, key: &Path) -> ApiResult<Option<Bytes>> {
        match self.inner.get(key).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(|e| failed(&e))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed(&e)),
        }
    }

    pub async fn exists(&self, key: &Path) -> ApiResult<bool> {
        match self.inner.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(failed(&e)),
        }
    }

    pub async fn delete(&self, key: &Path) -> ApiResult<()> {
        match self.inner.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed(&e)),
        }
    }

    pub async fn put_chunk(&self, upload: &str, offset: i64, bytes: Bytes) -> ApiResult<()> {
        self.put(&Self::chunk_key(upload, offset), bytes).await
    }

    /// The chunk objects of an upload (listed, not read), in offset order.
    async fn chunk_keys(&self, upload: &str) -> ApiResult<Vec<Path>> {
        let prefix = Path::from(format!("uploads/{upload}"));
        let mut keys: Vec<Path> =
            self.inner.list(Some(&prefix)).map_ok(|m| m.location).try_collect().await.map_err(|e| failed(&e))?;
        keys.sort();
        Ok(keys)
    }

    /// The chunks of an upload, in offset order, as (offset, bytes).
    pub async fn chunks(&self, upload: &str) -> ApiResult<Vec<(i64, Bytes)>> {
        let mut out = Vec::new();
        for key in self.chunk_keys(upload).await? {
            let offset = key.filename().and_then(|f| f.parse::<i64>().ok()).unwrap_or(-1);
            if let Some(bytes) = self.get(&key).await? {
                out.push((offset, bytes));
            }
        }
        Ok(out)
    }

    pub async fn delete_chunks(&self, upload: &str) -> ApiResult<()> {
        for key in self.chunk_keys(upload).await? {
            self.delete(&key).await?;
        }
        Ok(())
    }
}
