use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::db::DbConn;
use crate::db::schema::{events, evidence, evidence_blobs, evidence_uploads};
use crate::models::evidence::{BlobRow, EvidenceRow, UploadRow};

pub fn blob(conn: &mut DbConn, upload_sha256: &str) -> QueryResult<Option<BlobRow>> {
    evidence_blobs::table.find(upload_sha256).select(BlobRow::as_select()).first(conn).optional()
}

/// Inserts the blob unless a concurrent upload of the same bytes got there first.
pub fn insert_blob(conn: &mut DbConn, row: &BlobRow) -> QueryResult<()> {
    match diesel::insert_into(evidence_blobs::table).values(row).execute(conn) {
        Ok(_) | Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<(EvidenceRow, BlobRow)>> {
    evidence::table
        .inner_join(evidence_blobs::table)
        .filter(evidence::id.eq(id))
        .select((EvidenceRow::as_select(), BlobRow::as_select()))
        .first(conn)
        .optional()
}

/// The same photo from the same person for the same purpose.
pub fn same(
    conn: &mut DbConn,
    uploader: &str,
    upload_sha256: &str,
    kind: &str,
    event_id: Option<&str>,
) -> QueryResult<Option<EvidenceRow>> {
    let q = evidence::table
        .filter(evidence::uploader_id.eq(uploader))
        .filter(evidence::upload_sha256.eq(upload_sha256))
        .filter(evidence::kind.eq(kind))
        .select(EvidenceRow::as_select());
    match event_id {
        Some(e) => q.filter(evidence::event_id.eq(e)).first(conn).optional(),
        None => q.filter(evidence::event_id.is_null()).first(conn).optional(),
    }
}

pub fn insert(conn: &mut DbConn, row: &EvidenceRow) -> QueryResult<()> {
    diesel::insert_into(evidence::table).values(row).execute(conn).map(drop)
}

pub fn for_event(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<(EvidenceRow, BlobRow)>> {
    evidence::table
        .inner_join(evidence_blobs::table)
        .filter(evidence::event_id.eq(event_id))
        .order(evidence::created_at.asc())
        .select((EvidenceRow::as_select(), BlobRow::as_select()))
        .load(conn)
}

/// Before-photos uploaded ahead of a report become the event's; `true` when all of `ids` did.
pub fn attach(conn: &mut DbConn, ids: &[String], uploader: &str, event_id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        evidence::table
            .filter(evidence::id.eq_any(ids))
            .filter(evidence::uploader_id.eq(uploader))
            .filter(evidence::kind.eq("before"))
            .filter(evidence::event_id.is_null())
            .filter(evidence::purged_at.is_null()),
    )
    .set(evidence::event_id.eq(event_id))
    .execute(conn)?;
    Ok(n == ids.len())
}

pub fn mark_cited(conn: &mut DbConn, ids: &[String], at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(evidence::table.filter(evidence::id.eq_any(ids)).filter(evidence::cited_at.is_null()))
        .set(evidence::cited_at.eq(at))
        .execute(conn)
}

/// Evidence past retention: of events that ended (closed or rejected) before `ended_before`, and
/// before-photos never attached to a report uploaded before then.
pub fn due_for_purge(conn: &mut DbConn, ended_before: NaiveDateTime, limit: i64) -> QueryResult<Vec<EvidenceRow>> {
    let ended = events::table
        .filter(events::state.eq_any(["closed", "rejected"]))
        .filter(events::updated_at.lt(ended_before))
        .select(events::id);
    let mut rows: Vec<EvidenceRow> = evidence::table
        .filter(evidence::purged_at.is_null())
        .filter(evidence::event_id.eq_any(ended.nullable()))
        .select(EvidenceRow::as_select())
        .limit(limit)
        .load(conn)?;
    rows.extend(
        evidence::table
            .filter(evidence::purged_at.is_null())
            .filter(evidence::event_id.is_null())
            .filter(evidence::created_at.lt(ended_before))
            .select(EvidenceRow::as_select())
            .limit(limit)
            .load(conn)?,
    );
    Ok(rows)
}

pub fn mark_purged(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(evidence::table.find(id).filter(evidence::purged_at.is_null()))
        .set(evidence::purged_at.eq(at))
        .execute(conn)
        .map(|n| n == 1)
}

/// Evidence still showing a stored image (different uploads can make the same stored JPEG).
pub fn live_uses(conn: &mut DbConn, sha256: &str) -> QueryResult<i64> {
    evidence::table
        .inner_join(evidence_blobs::table)
        .filter(evidence_blobs::sha256.eq(sha256))
        .filter(evidence::purged_at.is_null())
        .count()
        .get_result(conn)
}

pub fn insert_upload(conn: &mut DbConn, row: &UploadRow) -> QueryResult<()> {
    diesel::insert_into(evidence_uploads::table).values(row).execute(conn).map(drop)
}

pub fn upload(conn: &mut DbConn, id: &str) -> QueryResult<Option<UploadRow>> {
    evidence_uploads::table.find(id).select(UploadRow::as_select()).first(conn).optional()
}

/// Moves the offset only from where the writer saw it, so two writers of one chunk cannot both win.
pub fn advance_upload(conn: &mut DbConn, id: &str, from: i64, to: i64, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(evidence_uploads::table.find(id).filter(evidence_uploads::received.eq(from)))
        .set((evidence_uploads::received.eq(to), evidence_uploads::updated_at.eq(at)))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn finish_upload(conn: &mut DbConn, id: &str, evidence_id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(evidence_uploads::table.find(id))
        .set((evidence_uploads::evidence_id.eq(evidence_id), evidence_uploads::updated_at.eq(at)))
        .execute(conn)
        .map(drop)
}

pub fn reset_upload(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(evidence_uploads::table.find(id))
        .set((evidence_uploads::received.eq(0), evidence_uploads::updated_at.eq(at)))
        .execute(conn)
        .map(drop)
}

/// Unfinished uploads untouched since `before`.
pub fn stale_uploads(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Vec<String>> {
    evidence_uploads::table
        .filter(evidence_uploads::evidence_id.is_null())
        .filter(evidence_uploads::updated_at.lt(before))
        .select(evidence_uploads::id)
        .load(conn)
}

pub fn delete_upload(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(evidence_uploads::table.find(id)).execute(conn).map(drop)
}
