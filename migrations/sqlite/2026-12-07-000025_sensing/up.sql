-- Sensing and warning: the indicator registry (city vital signs) with per-area overrides,
-- sensors with hashed secrets, readings (raw for days, minute and hour roll-ups for longer) and
-- alerts, at most one open per sensor and indicator (or per sensor for going silent).
CREATE TABLE indicators (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    -- The area levels its roll-ups are reported at, comma separated.
    levels TEXT NOT NULL,
    aggregation TEXT NOT NULL CHECK (aggregation IN ('latest', 'mean', 'max', 'rate')),
    window_secs BIGINT NOT NULL CHECK (window_secs > 0),
    direction TEXT NOT NULL CHECK (direction IN ('above', 'below')),
    blue DOUBLE PRECISION,
    yellow DOUBLE PRECISION,
    orange DOUBLE PRECISION,
    red DOUBLE PRECISION,
    hysteresis DOUBLE PRECISION NOT NULL CHECK (hysteresis >= 0),
    category_code TEXT REFERENCES categories (code),
    active BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE indicator_overrides (
    indicator_code TEXT NOT NULL REFERENCES indicators (code) ON DELETE CASCADE,
    area_code TEXT NOT NULL,
    blue DOUBLE PRECISION,
    yellow DOUBLE PRECISION,
    orange DOUBLE PRECISION,
    red DOUBLE PRECISION,
    hysteresis DOUBLE PRECISION NOT NULL CHECK (hysteresis >= 0),
    updated_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (indicator_code, area_code)
);

CREATE TABLE sensors (
    id TEXT PRIMARY KEY NOT NULL,
    -- Its name in the MQTT topic gridwork/readings/{code}.
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- JSON list of indicator codes.
    indicators TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lng DOUBLE PRECISION NOT NULL,
    area_code TEXT NOT NULL,
    city_code TEXT,
    district_code TEXT,
    street_code TEXT,
    community_code TEXT,
    grid_code TEXT,
    compound_code TEXT,
    building_code TEXT,
    -- A device, or the server's own per-street figures from its events (no secret in use, never silent).
    kind TEXT NOT NULL CHECK (kind IN ('device', 'derived')),
    -- SHA-256 of the secret; the secret itself is shown once.
    secret_hash TEXT NOT NULL,
    expected_interval_secs BIGINT NOT NULL CHECK (expected_interval_secs > 0),
    last_seen_at TIMESTAMP,
    battery DOUBLE PRECISION,
    registered_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);
CREATE INDEX sensors_street ON sensors (street_code);

-- A resent reading (an MQTT redelivery, a phone-less device's retry) is the same row.
CREATE TABLE readings (
    sensor_id TEXT NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
    indicator_code TEXT NOT NULL,
    measured_at TIMESTAMP NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (sensor_id, indicator_code, measured_at)
);
CREATE INDEX readings_measured ON readings (measured_at);

CREATE TABLE reading_rollups (
    sensor_id TEXT NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
    indicator_code TEXT NOT NULL,
    resolution TEXT NOT NULL CHECK (resolution IN ('minute', 'hour')),
    bucket TIMESTAMP NOT NULL,
    count BIGINT NOT NULL,
    sum DOUBLE PRECISION NOT NULL,
    min DOUBLE PRECISION NOT NULL,
    max DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (sensor_id, indicator_code, resolution, bucket)
);
CREATE INDEX reading_rollups_bucket ON reading_rollups (resolution, bucket);

CREATE TABLE alerts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('threshold', 'offline')),
    sensor_id TEXT NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
    indicator_code TEXT,
    -- '{sensor id}/{indicator code}' or '{sensor id}/offline': one open alert each.
    subject TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('blue', 'yellow', 'orange', 'red')),
    state TEXT NOT NULL CHECK (state IN ('raised', 'acknowledged', 'cleared')),
    raised_value DOUBLE PRECISION,
    peak_value DOUBLE PRECISION,
    last_value DOUBLE PRECISION,
    -- The value last written onto the event's timeline.
    noted_value DOUBLE PRECISION,
    event_id TEXT REFERENCES events (id),
    raised_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT REFERENCES users (id),
    cleared_at TIMESTAMP
);
CREATE UNIQUE INDEX alerts_open ON alerts (subject) WHERE cleared_at IS NULL;
CREATE INDEX alerts_sensor ON alerts (sensor_id, raised_at);
