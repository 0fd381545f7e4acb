//! Photo evidence over HTTP: a whole upload (multipart), resumable uploads in chunks, the
//! evidence and its images, and an event's photos grouped for the verifier.

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use gridwork_mobile_core::domain::event::EvidenceKind;
use gridwork_mobile_core::wire::UploadView;
use serde::Deserialize;
use validator::Validate;

use crate::api::events::{Point, PointExt};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::events::{is_staff, roles_over, visible};
use crate::evidence::checks::Capture;
use crate::evidence::store::PhotoStore;
use crate::evidence::uploads::{self, Fields, Progress};
use crate::evidence::{self, Stored, Target};
use crate::http::extract::ValidJson;
use crate::models::evidence::{BlobRow, EvidenceRow, UploadRow};
use crate::queries;
use crate::state::AppState;

fn multipart_error(e: &MultipartError) -> ApiError {
    match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => {
            ApiError::new(ErrorCode::UnsupportedMediaType, "send the photo as multipart/form-data")
        }
        other => ApiError::new(ErrorCode::InvalidJson, format!("the multipart body is malformed: {other}")).with_field(
            "body",
            "malformed_multipart",
            other.to_string(),
        ),
    }
}

async fn read_field(field: &mut Field, name: &str, limit: usize) -> ApiResult<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| multipart_error(&e))?;
        if buf.len() + chunk.len() > limit {
            let code = if name == "file" { "too_large" } else { "too_long" };
            return Err(ApiError::new(ErrorCode::PayloadTooLarge, format!("{name} is over {limit} bytes")).with_field(
                name,
                code,
                format!("at most {limit} bytes are accepted"),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn text(name: &str, bytes: &[u8]) -> ApiResult<String> {
    std::str::from_utf8(bytes)
        .map(|s| s.trim().to_owned())
        .map_err(|_| ApiError::field(name, "invalid_utf8", "text fields are UTF-8"))
}

fn parse_time(name: &str, s: &str) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&chrono::Utc)).map_err(|_| {
        ApiError::field(name, "invalid_time", "an RFC 3339 time with its offset, e.g. 2026-11-30T09:15:00+08:00")
    })
}

fn parse_number(name: &str, s: &str) -> ApiResult<f64> {
    s.parse().map_err(|_| ApiError::field(name, "invalid_number", "a number"))
}

fn parse_kind(s: &str) -> ApiResult<EvidenceKind> {
    s.parse().map_err(|e: gridwork_mobile_core::DomainError| ApiError::field("kind", e.code, e.message))
}

/// What the phone measured, checked like any point.
fn device_capture(taken_at: Option<chrono::DateTime<chrono::Utc>>, at: Option<Point>) -> ApiResult<Capture> {
    Ok(Capture { taken_at, at: at.map(|p| p.wgs84("location")).transpose()? })
}

/// `POST /evidence`: multipart with `file` and the fields `kind`, `event_id`, `taken_at`,
/// `lat`, `lng`, `crs` (of lat/lng) and `sha256` (of the file, checked).
pub async fn upload(caller: Caller, state: web::Data<AppState>, mut form: Multipart) -> ApiResult<HttpResponse> {
    let max = state.settings.evidence.limits.max_bytes;
    let (mut file, mut kind, mut event_id, mut taken_at, mut lat, mut lng, mut crs, mut sha256) =
        (None, None, None, None, None, None, None, None);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| multipart_error(&e))?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if file.is_some() {
                return Err(ApiError::field("file", "duplicate", "one photo per upload"));
            }
            file = Some(read_field(&mut field, "file", max).await?);
            continue;
        }
        let value = text(&name, &read_field(&mut field, &name, 1024).await?)?;
        match name.as_str() {
            "kind" => kind = Some(parse_kind(&value)?),
            "event_id" if !value.is_empty() => event_id = Some(value),
            "event_id" => {}
            "taken_at" => taken_at = Some(parse_time("taken_at", &value)?),
            "lat" => lat = Some(parse_number("lat", &value)?),
            "lng" => lng = Some(parse_number("lng", &value)?),
            "crs" => crs = Some(value.parse().map_err(ApiError::from)?),
            "sha256" => sha256 = Some(value),
            _ => return Err(ApiError::field(&name, "unknown_field", "not a field of an evidence upload")),
        }
    }
    let file = file.ok_or_else(|| ApiError::field("file", "required", "attach the photo as the `file` part"))?;
    let kind = kind.ok_or_else(|| ApiError::field("kind", "required", "before, after or verify"))?;
    let at = match (lat, lng) {
        (Some(lat), Some(lng)) => Some(Point { lat, lng, crs }),
        (None, None) => None,
        _ => return Err(ApiError::field("lng", "required", "send lat and lng together")),
    };
    let device = device_capture(taken_at, at)?;
    let target = Target { event_id, kind };
    let stored = evidence::accept(&state, &caller, &target, device, sha256.as_deref(), file).await?;
    stored_response(&stored)
}

fn stored_response(stored: &Stored) -> ApiResult<HttpResponse> {
    let body = evidence::view(&stored.evidence, &stored.blob, true)?;
    Ok(if stored.created { HttpResponse::Created().json(body) } else { HttpResponse::Ok().json(body) })
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeginBody {
    pub kind: EvidenceKind,
    pub event_id: Option<String>,
    /// Bytes of the whole file.
    pub size: i64,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
    pub taken_at: Option<chrono::DateTime<chrono::Utc>>,
    pub location: Option<Point>,
}

fn upload_view(u: &UploadRow) -> UploadView {
    UploadView {
        id: u.id.clone(),
        size: u.total_bytes,
        received: u.received,
        evidence_id: u.evidence_id.clone(),
        chunk_bytes: None,
    }
}

/// `POST /evidence/uploads`: begins a resumable upload.
pub async fn begin(caller: Caller, state: web::Data<AppState>, body: ValidJson<BeginBody>) -> ApiResult<HttpResponse> {
    let b = body.0;
    let device = device_capture(b.taken_at, b.location)?;
    let fields = Fields {
        target: Target { event_id: b.event_id.filter(|e| !e.trim().is_empty()), kind: b.kind },
        taken_at: device.taken_at,
        at: device.at,
    };
    let row = uploads::begin(&state, &caller, fields, b.size, b.sha256).await?;
    let mut body = upload_view(&row);
    body.chunk_bytes = Some(state.settings.evidence.chunk_bytes as u64);
    Ok(HttpResponse::Created().json(body))
}

/// `GET /evidence/uploads/{id}`: where to resume.
pub async fn upload_status(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let row = uploads::status(&state, &caller, path.into_inner()).await?;
    Ok(HttpResponse::Ok().insert_header(("Upload-Offset", row.received.to_string())).json(upload_view(&row)))
}

/// `PUT /evidence/uploads/{id}` with `Upload-Offset: N` and the bytes from N.
pub async fn upload_chunk(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let offset = req
        .headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|o| *o >= 0)
        .ok_or_else(|| ApiError::field("Upload-Offset", "required", "the byte offset of this chunk"))?;
    match uploads::chunk(&state, &caller, path.into_inner(), offset, body).await? {
        Progress::Partial(row) => {
            Ok(HttpResponse::Ok().insert_header(("Upload-Offset", row.received.to_string())).json(upload_view(&row)))
        }
        Progress::Done(stored) => stored_response(&stored),
    }
}

/// Loads evidence the caller may see, and whether they see its capture data.
async fn readable(state: &AppState, caller: Caller, id: String) -> ApiResult<(EvidenceRow, BlobRow, bool)> {
    let index = state.areas();
    state
        .db
        .run(move |conn| {
            let missing = || ApiError::not_found(format!("no evidence {id}"));
            let (e, blob) = queries::evidence::by_id(conn, &id)?.ok_or_else(missing)?;
            let mine = e.uploader_id == caller.user.id;
            let staff = match &e.event_id {
                Some(event_id) => {
                    let row = visible(conn, &caller, event_id, &index).map_err(|_| missing())?;
                    is_staff(&roles_over(&caller, row.area_code(), &index))
                }
                None if mine => false,
                None => return Err(missing()),
            };
            Ok((e, blob, staff || mine))
        })
        .await
}

pub async fn get(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let (e, blob, private) = readable(&state, caller, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(evidence::view(&e, &blob, private)?))
}

async fn image(state: &AppState, caller: Caller, id: String, thumbnail: bool) -> ApiResult<HttpResponse> {
    let (e, blob, _) = readable(state, caller, id).await?;
    if e.purged_at.is_some() {
        return Err(ApiError::not_found("the photo was removed under the retention policy"));
    }
    let key = if thumbnail { PhotoStore::thumbnail_key(&blob.sha256) } else { PhotoStore::photo_key(&blob.sha256) };
    let bytes = state.photos.get(&key).await?.ok_or_else(|| ApiError::not_found("the photo is not in the store"))?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        // Content-addressed: the bytes behind this id never change; only people allowed see them.
        .insert_header((header::CACHE_CONTROL, "private, max-age=31536000, immutable"))
        .insert_header((header::ETAG, format!("\"{}\"", blob.sha256)))
        .body(bytes))
}

pub async fn photo(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    image(&state, caller, path.into_inner(), false).await
}

pub async fn thumbnail(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    image(&state, caller, path.into_inner(), true).await
}

/// `GET /events/{id}/evidence`: before, after and verify photos together.
pub async fn of_event(caller: Caller, state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let index = state.areas();
    let body = state
        .db
        .run(move |conn| {
            let row = visible(conn, &caller, &id, &index)?;
            let staff = is_staff(&roles_over(&caller, row.area_code(), &index));
            evidence::for_event(conn, &id, &caller.user.id, staff)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}
