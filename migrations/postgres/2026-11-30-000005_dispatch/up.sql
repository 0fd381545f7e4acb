-- Automatic dispatch and the scheduler act as this account. It cannot sign in: it is inactive and
-- its password hash is not a hash.
INSERT INTO users (id, username, display_name, phone, password_hash, is_active, created_at, updated_at)
VALUES ('system', 'system', 'Gridwork', NULL, '!', FALSE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

-- Field staff on and off duty, with their last known position (what dispatch weighs).
CREATE TABLE worker_status (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    on_duty BOOLEAN NOT NULL,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    -- H3 cell (finest area resolution) of the last position, as a signed 64-bit integer.
    cell BIGINT,
    located_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

-- The trail of positions phones send in batches; a resent batch adds nothing.
CREATE TABLE location_pings (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    recorded_at TIMESTAMP NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lng DOUBLE PRECISION NOT NULL,
    accuracy_m DOUBLE PRECISION,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, recorded_at)
);

-- One task per handler of an event (a lead and co-handlers for cross-department events), with the
-- rule that picked the handler.
CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    department_id TEXT REFERENCES departments(id),
    lead BOOLEAN NOT NULL,
    -- unacknowledged: assigned, but neither acknowledged nor claimed within the accept time.
    state TEXT NOT NULL CHECK (state IN ('assigned', 'unacknowledged', 'claimed', 'in_progress', 'resolved',
        'returned', 'withdrawn', 'closed')),
    why TEXT NOT NULL,
    assigned_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tasks_user ON tasks(user_id, updated_at);
CREATE INDEX tasks_event ON tasks(event_id);

-- Supervision orders (督办): issued by the scheduler when an event is overdue, or by an operator.
CREATE TABLE supervision_orders (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events(id),
    level TEXT NOT NULL CHECK (level IN ('street', 'district', 'city')),
    area_code TEXT,
    automatic BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    issued_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX supervision_orders_event ON supervision_orders(event_id);

-- Merges and splits, both ways findable.
CREATE TABLE event_links (
    event_id TEXT NOT NULL REFERENCES events(id),
    other_id TEXT NOT NULL REFERENCES events(id),
    kind TEXT NOT NULL CHECK (kind IN ('merged_into', 'split_from')),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (event_id, other_id, kind)
);
CREATE INDEX event_links_other ON event_links(other_id);

-- Notifications written in the same transaction as the change that causes them (the outbox the
-- push sender drains).
CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    event_id TEXT REFERENCES events(id),
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);

-- Deadlines and evaluation.
ALTER TABLE events ADD COLUMN stage_started_at TIMESTAMP;
ALTER TABLE events ADD COLUMN warned_at TIMESTAMP;
ALTER TABLE events ADD COLUMN escalation_level TEXT;
ALTER TABLE events ADD COLUMN escalated_at TIMESTAMP;
ALTER TABLE events ADD COLUMN late_stages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN rework_count INTEGER NOT NULL DEFAULT 0;
-- JSON array of the assignees who have resolved their part.
ALTER TABLE events ADD COLUMN resolved_parts TEXT NOT NULL DEFAULT '[]';
-- The hash of the newest timeline entry: deleting the last entries is detected too.
ALTER TABLE events ADD COLUMN log_head TEXT;
UPDATE events SET stage_started_at = updated_at;
CREATE INDEX events_due ON events(due_at);
-- The duplicate check: open events of a category in a latitude band around the report.
CREATE INDEX events_nearby ON events(category_code, lat, lng);
CREATE INDEX events_updated ON events(updated_at, id);

-- The timeline: who acted in which role, from where, with what detail; numbered and hash-chained
-- per event so an edited or deleted entry is detected.
ALTER TABLE event_log ADD COLUMN actor_role TEXT;
ALTER TABLE event_log ADD COLUMN lat DOUBLE PRECISION;
ALTER TABLE event_log ADD COLUMN lng DOUBLE PRECISION;
ALTER TABLE event_log ADD COLUMN detail TEXT;
ALTER TABLE event_log ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_log ADD COLUMN hash TEXT;
UPDATE event_log SET seq = numbered.n
FROM (SELECT id, row_number() OVER (PARTITION BY event_id ORDER BY created_at, id) AS n FROM event_log) AS numbered
WHERE event_log.id = numbered.id;
CREATE UNIQUE INDEX event_log_seq ON event_log(event_id, seq);
