-- Open311 GeoReport v2 (/open311/v2/): client applications registered by an administrator over
-- their area, each with a key kept only as its SHA-256 and an account of its own (a resident of
-- the area) that files its requests into the same loop as any report. Each request keeps what
-- was sent through the public door (words, place, photo link); its state is the event's.
CREATE TABLE open311_clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    area_code TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE open311_requests (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES open311_clients (id),
    event_id TEXT NOT NULL REFERENCES events (id),
    -- What makes a resend the same request: the client's Idempotency-Key, or the form's hash.
    request_key TEXT NOT NULL,
    service_code TEXT NOT NULL,
    description TEXT NOT NULL,
    address TEXT,
    lat REAL NOT NULL,
    lng REAL NOT NULL,
    media_url TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX open311_requests_key ON open311_requests (client_id, request_key);
CREATE INDEX open311_requests_created ON open311_requests (created_at);
CREATE INDEX open311_requests_event ON open311_requests (event_id);
