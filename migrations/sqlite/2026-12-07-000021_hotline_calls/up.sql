-- Calls to the 12345 citizens' hotline (市民热线): the operator files the call with the caller's
-- name and phone and the call's reference number; after the case closes someone calls the caller
-- back (回访) and records whether they are satisfied. The caller's name and phone are personal
-- data: shown in full only to ops staff over the case, masked elsewhere, and purged after the
-- retention period (the reference and the callback's outcome stay).
CREATE TABLE hotline_calls (
    id TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL REFERENCES events (id),
    caller_name TEXT,
    caller_phone TEXT,
    filed_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    callback_at TIMESTAMP,
    callback_by TEXT REFERENCES users (id),
    satisfied BOOLEAN,
    callback_note TEXT,
    -- When the caller's name and phone were purged.
    purged_at TIMESTAMP
);
CREATE INDEX hotline_calls_event ON hotline_calls (event_id);
CREATE INDEX hotline_calls_callback ON hotline_calls (callback_at);
