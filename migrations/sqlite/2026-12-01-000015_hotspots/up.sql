-- Hotspots (研判·热点): the same category recurring in one small H3 cell within the window, found
-- by the scheduler, with the events that make them. A hotspot cools when its cell falls below the
-- threshold again.
CREATE TABLE hotspots (
    id TEXT PRIMARY KEY NOT NULL,
    category_code TEXT NOT NULL,
    cell TEXT NOT NULL,
    lat DOUBLE NOT NULL,
    lng DOUBLE NOT NULL,
    street_code TEXT,
    district_code TEXT,
    event_count INTEGER NOT NULL,
    first_event_at TIMESTAMP NOT NULL,
    last_event_at TIMESTAMP NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'cooled')),
    detected_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One active hotspot per category and cell, however many servers scan.
CREATE UNIQUE INDEX hotspots_active ON hotspots (category_code, cell) WHERE state = 'active';
CREATE INDEX hotspots_street ON hotspots (state, street_code);
CREATE TABLE hotspot_events (
    hotspot_id TEXT NOT NULL REFERENCES hotspots (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (hotspot_id, event_id)
);
