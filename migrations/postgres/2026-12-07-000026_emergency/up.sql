-- Emergency mode (急时): an ops centre's area switched to emergency with a reason and an expected
-- end (one running per area), and special operations (专项): one task per area of a level inside
-- an area, grouped under a named operation with a period.
CREATE TABLE emergencies (
    id TEXT PRIMARY KEY NOT NULL,
    area_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    declared_by TEXT NOT NULL REFERENCES users (id),
    declared_at TIMESTAMP NOT NULL,
    expected_end_at TIMESTAMP NOT NULL,
    factor_general DOUBLE PRECISION NOT NULL,
    factor_significant DOUBLE PRECISION NOT NULL,
    factor_serious DOUBLE PRECISION NOT NULL,
    factor_critical DOUBLE PRECISION NOT NULL,
    events_shortened BIGINT NOT NULL,
    people_told BIGINT NOT NULL,
    ended_at TIMESTAMP,
    ended_by TEXT REFERENCES users (id),
    end_reason TEXT
);
CREATE UNIQUE INDEX emergencies_running ON emergencies (area_code) WHERE ended_at IS NULL;

CREATE TABLE special_operations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    area_code TEXT NOT NULL,
    target_level TEXT NOT NULL
        CHECK (target_level IN ('city', 'district', 'street', 'community', 'grid', 'compound', 'building')),
    category_code TEXT NOT NULL REFERENCES categories (code),
    description TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    emergency_id TEXT REFERENCES emergencies (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE special_operation_tasks (
    operation_id TEXT NOT NULL REFERENCES special_operations (id) ON DELETE CASCADE,
    area_code TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events (id),
    PRIMARY KEY (operation_id, area_code)
);
CREATE INDEX special_operation_tasks_event ON special_operation_tasks (event_id);
