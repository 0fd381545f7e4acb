//! Resumable uploads for large photos on bad networks: begin with the size and hash, send chunks
//! at the offset the server reports, and the last chunk turns the upload into evidence. Chunks
//! are objects in the photo store and the offset moves by conditional update, so any server of a
//! cluster can take the next chunk and a chunk sent twice is stored once.

use bytes::{Bytes, BytesMut};
use serde_json::json;

use super::checks::Capture;
use gridwork_mobile_core::hash::sha256_hex;

use super::intake::{self, Stored, Target};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::models::evidence::UploadRow;
use crate::models::{new_id, now};
use crate::queries;
use crate::state::AppState;

/// What is fixed when an upload begins.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Fields {
    pub target: Target,
    pub taken_at: Option<chrono::DateTime<chrono::Utc>>,
    pub at: Option<(f64, f64)>,
}

pub async fn begin(
    state: &AppState,
    caller: &Caller,
    fields: Fields,
    size: i64,
    sha256: String,
) -> ApiResult<UploadRow> {
    let max = i64::try_from(state.settings.evidence.limits.max_bytes).unwrap_or(i64::MAX);
    if size <= 0 || size > max {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge, format!("size must be 1 to {max} bytes")).with_field(
            "size",
            if size <= 0 { "out_of_range" } else { "too_large" },
            format!("{size} bytes; at most {max} are accepted"),
        ));
    }
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::field("sha256", "invalid", "the SHA-256 of the whole file, 64 hex digits"));
    }
    let index = state.areas();
    let caller = caller.clone();
    state
        .db
        .run(move |conn| {
            intake::authorize(conn, &caller, &index, &fields.target)?;
            let at = now();
            let row = UploadRow {
                id: new_id(),
                uploader_id: caller.user.id.clone(),
                fields: serde_json::to_string(&fields).map_err(|e| ApiError::internal(e.to_string()))?,
                total_bytes: size,
                sha256: sha256.to_ascii_lowercase(),
                received: 0,
                evidence_id: None,
                created_at: at,
                updated_at: at,
            };
            queries::evidence::insert_upload(conn, &row)?;
            Ok(row)
        })
        .await
}

/// The caller's upload.
pub async fn status(state: &AppState, caller: &Caller, id: String) -> ApiResult<UploadRow> {
    let user = caller.user.id.clone();
    state
        .db
        .run(move |conn| {
            queries::evidence::upload(conn, &id)?
                .filter(|u| u.uploader_id == user)
                .ok_or_else(|| ApiError::not_found("no such upload"))
        })
        .await
}

/// What a chunk led to.
#[derive(Debug)]
pub enum Progress {
    /// More is expected from this offset.
    Partial(UploadRow),
    /// The file is complete and is evidence now.
    Done(Box<Stored>),
}

fn offset_conflict(received: i64) -> ApiError {
    let mut e = ApiError::conflict(format!("the upload continues at offset {received}")).with_field(
        "Upload-Offset",
        "offset_mismatch",
        format!("send from byte {received}"),
    );
    e.details = Some(json!({"received": received}));
    e
}

pub async fn chunk(state: &AppState, caller: &Caller, id: String, offset: i64, bytes: Bytes) -> ApiResult<Progress> {
    let upload = status(state, caller, id.clone()).await?;
    if let Some(evidence_id) = &upload.evidence_id {
        // The last chunk's answer was lost and it came again: the same result.
        let evidence_id = evidence_id.clone();
        let (evidence, blob) = state
            .db
            .run(move |conn| {
                queries::evidence::by_id(conn, &evidence_id)?
                    .ok_or_else(|| ApiError::internal("upload lost its evidence"))
            })
            .await?;
        return Ok(Progress::Done(Box::new(Stored { evidence, blob, created: false })));
    }
    if offset != upload.received {
        return Err(offset_conflict(upload.received));
    }
    let end = offset + i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    if bytes.is_empty() || end > upload.total_bytes {
        return Err(ApiError::field(
            "body",
            "out_of_range",
            format!("a chunk of 1 to {} bytes at offset {offset}", upload.total_bytes - offset),
        ));
    }
    state.photos.put_chunk(&id, offset, bytes).await?;
    let moved = {
        let id = id.clone();
        state.db.run(move |conn| Ok(queries::evidence::advance_upload(conn, &id, offset, end, now())?)).await?
    };
    if !moved {
        let now_at = status(state, caller, id).await?.received;
        return Err(offset_conflict(now_at));
    }
    if end < upload.total_bytes {
        return Ok(Progress::Partial(UploadRow { received: end, ..upload }));
    }
    finish(state, caller, upload).await.map(|s| Progress::Done(Box::new(s)))
}

async fn finish(state: &AppState, caller: &Caller, upload: UploadRow) -> ApiResult<Stored> {
    let mut whole = BytesMut::with_capacity(usize::try_from(upload.total_bytes).unwrap_or(0));
    for (offset, part) in state.photos.chunks(&upload.id).await? {
        if offset == i64::try_from(whole.len()).unwrap_or(-1) {
            whole.extend_from_slice(&part);
        }
    }
    let whole = whole.freeze();
    let id = upload.id.clone();
    if i64::try_from(whole.len()).ok() != Some(upload.total_bytes) || sha256_hex(&whole) != upload.sha256 {
        // Start over rather than keep bytes that do not add up to the announced file.
        state.photos.delete_chunks(&id).await?;
        state.db.run(move |conn| Ok(queries::evidence::reset_upload(conn, &id, now())?)).await?;
        return Err(ApiError::field(
            "sha256",
            "checksum_mismatch",
            "the chunks do not add up to the announced file; the upload starts again at offset 0",
        ));
    }
    let fields: Fields = serde_json::from_str(&upload.fields).map_err(|e| ApiError::internal(e.to_string()))?;
    let device = Capture { taken_at: fields.taken_at, at: fields.at };
    let stored = intake::accept(state, caller, &fields.target, device, None, whole).await?;
    let evidence_id = stored.evidence.id.clone();
    state.db.run(move |conn| Ok(queries::evidence::finish_upload(conn, &id, &evidence_id, now())?)).await?;
    state.photos.delete_chunks(&upload.id).await?;
    Ok(stored)
}
