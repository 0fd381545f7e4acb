//! Retention: photos of events that ended more than the configured days ago (and before-photos
//! never attached to a report) are purged — the image and thumbnail leave the store once no kept
//! evidence shows them; the rows stay, marked, so the record says a photo existed. Abandoned
//! resumable uploads are cleared after a day.

use chrono::NaiveDateTime;

use super::store::PhotoStore;
use crate::error::ApiResult;
use crate::queries;
use crate::state::AppState;

/// Purges what is due at `at`; returns how many evidence rows were purged.
pub async fn purge(state: &AppState, at: NaiveDateTime) -> ApiResult<usize> {
    let stale_before = at - chrono::Duration::days(1);
    let stale = state.db.run(move |conn| Ok(queries::evidence::stale_uploads(conn, stale_before)?)).await?;
    for id in stale {
        state.photos.delete_chunks(&id).await?;
        state.db.run(move |conn| Ok(queries::evidence::delete_upload(conn, &id)?)).await?;
    }
    let Some(days) = state.settings.evidence.retention_days else { return Ok(0) };
    let ended_before = at - chrono::Duration::days(i64::from(days));
    let due = state.db.run(move |conn| Ok(queries::evidence::due_for_purge(conn, ended_before, 500)?)).await?;
    let mut purged = 0;
    for e in due {
        let (mine, left, blob) = state
            .db
            .run(move |conn| {
                let mine = queries::evidence::mark_purged(conn, &e.id, at)?;
                let blob = queries::evidence::blob(conn, &e.upload_sha256)?;
                let left = match &blob {
                    Some(b) => queries::evidence::live_uses(conn, &b.sha256)?,
                    None => 0,
                };
                Ok((mine, left, blob))
            })
            .await?;
        purged += usize::from(mine);
        if let Some(blob) = blob
            && left == 0
        {
            state.photos.delete(&PhotoStore::photo_key(&blob.sha256)).await?;
            state.photos.delete(&PhotoStore::thumbnail_key(&blob.sha256)).await?;
        }
    }
    if purged > 0 {
        tracing::info!(purged, "evidence past retention purged");
    }
    Ok(purged)
}
