-- Events (事件/案件) with the area codes they were filed under, kept even when areas change.
CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    category_code TEXT NOT NULL REFERENCES categories(code),
    grade TEXT NOT NULL CHECK (grade IN ('general', 'significant', 'serious', 'critical')),
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    description TEXT NOT NULL,
    address TEXT,
    lat REAL NOT NULL,
    lng REAL NOT NULL,
    city_code TEXT,
    district_code TEXT,
    street_code TEXT,
    community_code TEXT,
    grid_code TEXT,
    compound_code TEXT,
    building_code TEXT,
    reporter_id TEXT NOT NULL REFERENCES users(id),
    -- JSON array of user ids the event is given to.
    assignees TEXT NOT NULL,
    resolved_by TEXT REFERENCES users(id),
    -- When the current stage (accept, dispatch, handle, verify) is due; NULL when nothing is timed.
    due_at TIMESTAMP,
    version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX events_open_category ON events(category_code, state);
CREATE INDEX events_grid ON events(grid_code);

-- The same Idempotency-Key from the same user returns the same event.
CREATE TABLE event_idempotency (
    user_id TEXT NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Everyone who reported the problem (duplicates link here) and wants to hear of it.
CREATE TABLE event_followers (
    event_id TEXT NOT NULL REFERENCES events(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (event_id, user_id)
);

-- Every step of the loop, in order: who did what, from which state to which, and why.
CREATE TABLE event_log (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES events(id),
    actor_id TEXT NOT NULL REFERENCES users(id),
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX event_log_event ON event_log(event_id);
