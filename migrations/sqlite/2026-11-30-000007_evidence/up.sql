-- Photo evidence. The images live in the object store; the database holds what they are.

-- One stored image per distinct upload: the same bytes uploaded twice are processed and stored once.
CREATE TABLE evidence_blobs (
    -- SHA-256 of the bytes as uploaded.
    upload_sha256 TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 of the stored, re-stripped JPEG (the object key is derived from it).
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    source_format TEXT NOT NULL,
    -- What the upload's own EXIF said (absent when the phone already stripped it).
    exif_taken_at TEXT,
    exif_lat REAL,
    exif_lng REAL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX evidence_blobs_sha256 ON evidence_blobs(sha256);

-- A photo as evidence of one event: before (reported), after (handled) or verify.
CREATE TABLE evidence (
    id TEXT PRIMARY KEY NOT NULL,
    -- NULL for a before-photo uploaded ahead of its report, until the report names it.
    event_id TEXT REFERENCES events(id),
    kind TEXT NOT NULL CHECK (kind IN ('before', 'after', 'verify')),
    uploader_id TEXT NOT NULL REFERENCES users(id),
    upload_sha256 TEXT NOT NULL REFERENCES evidence_blobs(upload_sha256),
    captured_at TIMESTAMP,
    capture_lat REAL,
    capture_lng REAL,
    -- Where the capture data came from: 'exif' (in the file) or 'device' (sent beside it).
    capture_source TEXT,
    -- JSON array of checks that failed: [{"code": "far_from_event", ...}].
    flags TEXT NOT NULL,
    -- The resolve that cited this photo; a photo proves one resolve only.
    cited_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    -- Retention: set when the evidence is purged (the row stays for the record).
    purged_at TIMESTAMP
);
CREATE INDEX evidence_event ON evidence(event_id, kind);
CREATE UNIQUE INDEX evidence_once ON evidence(uploader_id, upload_sha256, kind, COALESCE(event_id, ''));

-- Resumable uploads: chunks land in the object store, the offset here moves by conditional update.
CREATE TABLE evidence_uploads (
    id TEXT PRIMARY KEY NOT NULL,
    uploader_id TEXT NOT NULL REFERENCES users(id),
    -- JSON of the evidence fields (event, kind, capture data) given when the upload began.
    fields TEXT NOT NULL,
    total_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    received INTEGER NOT NULL,
    -- The evidence the upload became.
    evidence_id TEXT REFERENCES evidence(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
