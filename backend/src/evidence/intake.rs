//! Accepting a photo as evidence: who may add which kind, the pipeline (once per distinct
//! upload), the checks, and citing photos in a resolve.

use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use gridwork_mobile_core::DomainError;
use gridwork_mobile_core::domain::event::{self, Actor, EvidenceKind};
use gridwork_mobile_core::hash::sha256_hex;
use gridwork_mobile_core::photo;
use gridwork_mobile_core::wire::{Capture as CaptureView, EvidenceGroups, EvidenceView, LatLng};
use serde_json::{Value, json};

use super::checks::{self, Capture, Expected};
use super::store::PhotoStore;
use crate::areas::AreaIndex;
use crate::auth::Caller;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::events::timeline::{self, Who};
use crate::events::{category_of, facts_of, holders_over, notify, on_event, roles_over, visible};
use crate::models::event::EventRow;
use crate::models::evidence::{BlobRow, EvidenceRow};
use crate::models::{new_id, now};
use crate::queries;
use crate::state::AppState;

/// What a photo is evidence of.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// `None` only for a before-photo uploaded ahead of its report.
    pub event_id: Option<String>,
    pub kind: EvidenceKind,
}

/// The outcome of an upload.
#[derive(Debug, Clone)]
pub struct Stored {
    pub evidence: EvidenceRow,
    pub blob: BlobRow,
    /// `false` when the same photo was already evidence of the same thing.
    pub created: bool,
}

/// Checks that the caller may add a photo of this kind; returns the event.
pub fn authorize(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    target: &Target,
) -> ApiResult<Option<EventRow>> {
    let Some(id) = &target.event_id else {
        if target.kind != EvidenceKind::Before {
            return Err(ApiError::field("event_id", "required", "after- and verify-photos belong to an event"));
        }
        return Ok(None);
    };
    let row = visible(conn, caller, id, index).map_err(|e| {
        if e.code == ErrorCode::NotFound { ApiError::field("event_id", "unknown_event", e.message) } else { e }
    })?;
    // The machine decides who adds which photo; the phone asks it the same question offline.
    let category = category_of(conn, &row.category_code)?;
    let facts = facts_of(conn, &row, &category)?;
    let actor = Actor { user_id: caller.user.id.clone(), roles: roles_over(caller, row.area_code(), index) };
    event::may_add_evidence(&facts, &actor, target.kind).map_err(|e| match e.code {
        "event_finished" => {
            ApiError::conflict("the event is finished; it takes no more photos").with_field(e.field, e.code, e.message)
        }
        _ => ApiError::forbidden(e.message),
    })?;
    Ok(Some(row))
}

/// A pipeline refusal as an HTTP error on the upload's file field.
fn refused(e: &DomainError) -> ApiError {
    let code = match e.code {
        "too_large" => ErrorCode::PayloadTooLarge,
        "not_an_image" | "unsupported_format" => ErrorCode::UnsupportedMediaType,
        _ => ErrorCode::ValidationFailed,
    };
    ApiError::new(code, e.message.clone()).with_field("file", e.code, e.message.clone())
}

/// An EXIF time (local, no zone) in UTC, assuming the cameras' zone.
fn exif_time(text: &str, offset: chrono::FixedOffset) -> Option<DateTime<Utc>> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    Some(local.and_local_timezone(offset).single()?.with_timezone(&Utc))
}

/// The stored image for these bytes: found, or processed and written now.
async fn blob_for(state: &AppState, upload_sha256: &str, bytes: Bytes) -> ApiResult<BlobRow> {
    let key = upload_sha256.to_owned();
    if let Some(blob) = state.db.run(move |conn| Ok(queries::evidence::blob(conn, &key)?)).await?
        // Retention may have removed the image while the row stayed: then it is made again.
        && state.photos.exists(&PhotoStore::photo_key(&blob.sha256)).await?
    {
        return Ok(blob);
    }
    let settings = state.settings.evidence.clone();
    let processed = {
        let _slot = state.photo_slots.acquire().await.map_err(|e| ApiError::internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let p = photo::process(&bytes, &settings.limits)?;
            let thumb = photo::thumbnail(&p.jpeg, settings.thumbnail_edge)?;
            Ok::<_, DomainError>((p, thumb))
        })
        .await
        .map_err(|e| ApiError::internal(format!("photo processing stopped: {e}")))?
    };
    let (p, thumb) = processed.map_err(|e| refused(&e))?;
    // The thumbnail first: a blob row is written only when both objects are there.
    state.photos.put(&PhotoStore::thumbnail_key(&p.sha256), Bytes::from(thumb)).await?;
    let len = p.jpeg.len();
    state.photos.put(&PhotoStore::photo_key(&p.sha256), Bytes::from(p.jpeg)).await?;
    let row = BlobRow {
        upload_sha256: upload_sha256.to_owned(),
        sha256: p.sha256,
        bytes: i64::try_from(len).unwrap_or(i64::MAX),
        width: i32::try_from(p.width).unwrap_or(i32::MAX),
        height: i32::try_from(p.height).unwrap_or(i32::MAX),
        source_format: p.source_format.to_owned(),
        exif_taken_at: p.capture.taken_at,
        exif_lat: p.capture.gps.map(|g| g.0),
        exif_lng: p.capture.gps.map(|g| g.1),
        created_at: now(),
    };
    let key = upload_sha256.to_owned();
    state
        .db
        .run(move |conn| {
            queries::evidence::insert_blob(conn, &row)?;
            queries::evidence::blob(conn, &key)?.ok_or_else(|| ApiError::internal("blob row vanished"))
        })
        .await
}

/// Takes a photo as evidence. `device` is what the phone measured when it took the photo (its
/// own pipeline stripped the EXIF); the file's EXIF wins where it has any.
pub async fn accept(
    state: &AppState,
    caller: &Caller,
    target: &Target,
    device: Capture,
    claimed_sha256: Option<&str>,
    bytes: Bytes,
) -> ApiResult<Stored> {
    let index = state.areas();
    // Refused before the costly decode; `record` checks again in the transaction that writes.
    {
        let (caller, target, index) = (caller.clone(), target.clone(), index.clone());
        state.db.run(move |conn| authorize(conn, &caller, &index, &target).map(drop)).await?;
    }
    let upload_sha256 = sha256_hex(&bytes);
    if let Some(claimed) = claimed_sha256
        && !claimed.eq_ignore_ascii_case(&upload_sha256)
    {
        return Err(ApiError::field(
            "sha256",
            "checksum_mismatch",
            format!("the file's SHA-256 is {upload_sha256}, not {claimed}: it was damaged on the way; send it again"),
        ));
    }
    let blob = blob_for(state, &upload_sha256, bytes).await?;
    let exif = Capture {
        taken_at: blob.exif_taken_at.as_deref().and_then(|t| exif_time(t, state.settings.evidence.camera_utc_offset)),
        at: blob.exif_lat.zip(blob.exif_lng),
    };
    let capture = Capture { taken_at: exif.taken_at.or(device.taken_at), at: exif.at.or(device.at) };
    let source = match (exif != Capture::default(), device != Capture::default()) {
        (true, _) => Some("exif"),
        (false, true) => Some("device"),
        _ => None,
    };
    let (caller, target) = (caller.clone(), target.clone());
    let stored = state
        .db
        .run(move |conn| write_tx(conn, |conn| record(conn, &caller, &index, &target, blob, capture, source)))
        .await?;
    if stored.created {
        state.changed();
    }
    Ok(stored)
}

fn record(
    conn: &mut DbConn,
    caller: &Caller,
    index: &AreaIndex,
    target: &Target,
    blob: BlobRow,
    capture: Capture,
    source: Option<&str>,
) -> ApiResult<Stored> {
    let event = authorize(conn, caller, index, target)?;
    let kind = target.kind.as_str();
    if let Some(existing) =
        queries::evidence::same(conn, &caller.user.id, &blob.upload_sha256, kind, target.event_id.as_deref())?
    {
        return Ok(Stored { evidence: existing, blob, created: false });
    }
    let flags = match (&event, target.kind) {
        (Some(event), EvidenceKind::After) => checks::after_photo_flags(&capture, &expected(conn, event, caller)?),
        _ => Vec::new(),
    };
    let row = EvidenceRow {
        id: new_id(),
        event_id: target.event_id.clone(),
        kind: kind.to_owned(),
        uploader_id: caller.user.id.clone(),
        upload_sha256: blob.upload_sha256.clone(),
        captured_at: capture.taken_at.map(|t| t.naive_utc()),
        capture_lat: capture.at.map(|a| a.0),
        capture_lng: capture.at.map(|a| a.1),
        capture_source: source.map(str::to_owned),
        flags: Value::from(flags.clone()).to_string(),
        cited_at: None,
        created_at: now(),
        purged_at: None,
    };
    queries::evidence::insert(conn, &row)?;
    if let Some(event) = &event
        && !flags.is_empty()
    {
        let role = caller.grants.first().map_or("none", |g| g.role.as_str()).to_owned();
        let who = Who { user_id: caller.user.id.clone(), role };
        let detail = json!({"evidence": row.id, "flags": flags});
        timeline::note(conn, event, &who, "evidence_flagged", None, detail.clone())?;
        let coordinators = holders_over(conn, index, event, gridwork_mobile_core::Role::Coordinator, None)?;
        notify::send(conn, &coordinators, event, "evidence_flagged", &detail)?;
    }
    Ok(Stored { evidence: row, blob, created: true })
}

/// What an after-photo of `event` by `caller` should show.
fn expected(conn: &mut DbConn, event: &EventRow, caller: &Caller) -> ApiResult<Expected> {
    let category = category_of(conn, &event.category_code)?;
    let tasks = queries::tasks::for_event(conn, &event.id)?;
    // The caller's own assignment, else the latest one of the event.
    let dispatched_at = tasks
        .iter()
        .filter(|t| t.user_id == caller.user.id)
        .map(|t| t.created_at)
        .max()
        .or_else(|| tasks.iter().map(|t| t.created_at).max());
    Ok(Expected {
        event_at: (event.lat, event.lng),
        radius_m: f64::from(category.duplicate_radius_m),
        dispatched_at: dispatched_at.map(|d| d.and_utc()),
    })
}

/// Checks the after-photos a resolve cites and marks them cited: each an after-photo of this
/// event by one of its handlers, still kept, not cited by an earlier resolve.
pub fn cite(conn: &mut DbConn, event: &EventRow, ids: &[String]) -> ApiResult<()> {
    const MAX: usize = 20;
    if ids.len() > MAX {
        return Err(ApiError::field("evidence", "too_many", format!("cite at most {MAX} photos")));
    }
    let handlers = on_event(conn, event)?.assignees;
    for (i, id) in ids.iter().enumerate() {
        let field = format!("evidence[{i}]");
        if ids[..i].contains(id) {
            return Err(ApiError::field(&field, "duplicate", "the same photo is cited twice"));
        }
        let found = queries::evidence::by_id(conn, id)?.map(|(e, _)| e);
        let Some(e) = found.filter(|e| {
            e.event_id.as_deref() == Some(event.id.as_str())
                && e.kind == EvidenceKind::After.as_str()
                && e.purged_at.is_none()
                && handlers.contains(&e.uploader_id)
        }) else {
            return Err(ApiError::field(
                &field,
                "unknown_evidence",
                format!("{id} is not an after-photo of this event by one of its handlers"),
            ));
        };
        if e.cited_at.is_some() {
            return Err(ApiError::field(
                &field,
                "already_cited",
                "this photo proved an earlier resolve; take a new one after the rework",
            ));
        }
    }
    queries::evidence::mark_cited(conn, ids, now())?;
    Ok(())
}

/// Evidence as shown: capture time and place (personal data: where someone stood) and the
/// checks only to `private` viewers — staff over the area and the uploader.
pub fn view(e: &EvidenceRow, blob: &BlobRow, private: bool) -> ApiResult<EvidenceView> {
    Ok(EvidenceView {
        id: e.id.clone(),
        event_id: e.event_id.clone(),
        kind: e.kind.parse().map_err(crate::events::internal)?,
        uploaded_at: e.created_at.and_utc(),
        width: blob.width,
        height: blob.height,
        bytes: blob.bytes,
        sha256: blob.sha256.clone(),
        cited: e.cited_at.is_some(),
        purged: e.purged_at.is_some(),
        photo_url: format!("/api/v1/evidence/{}/photo", e.id),
        thumbnail_url: format!("/api/v1/evidence/{}/thumbnail", e.id),
        uploader: private.then(|| e.uploader_id.clone()),
        capture: private.then(|| CaptureView {
            taken_at: e.captured_at.map(|t| t.and_utc()),
            location: e.capture_lat.zip(e.capture_lng).map(|(lat, lng)| LatLng { lat, lng }),
            source: e.capture_source.clone(),
        }),
        flags: if private { serde_json::from_str(&e.flags).ok() } else { None },
    })
}

/// Before, after and verify photos of an event together, as a verifier compares them.
pub fn for_event(conn: &mut DbConn, event_id: &str, caller_id: &str, staff: bool) -> ApiResult<EvidenceGroups> {
    let mut groups = EvidenceGroups::default();
    for (e, blob) in queries::evidence::for_event(conn, event_id)? {
        let private = staff || e.uploader_id == caller_id;
        let v = view(&e, &blob, private)?;
        match v.kind {
            EvidenceKind::Before => groups.before.push(v),
            EvidenceKind::After => groups.after.push(v),
            EvidenceKind::Verify => groups.verify.push(v),
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exif_times_take_the_cameras_zone() {
        let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(exif_time("2026-11-30 16:00:00", cst).unwrap().to_rfc3339(), "2026-11-30T08:00:00+00:00");
        assert_eq!(exif_time("yesterday", cst), None);
    }
}
