-- Areas are versioned: a re-import closes the current row (valid_to) and adds a new one, so
-- history is kept and events keep the codes they were filed under.
CREATE TABLE areas (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('city', 'district', 'street', 'community', 'grid', 'compound', 'building')),
    parent_code TEXT,
    -- GeoJSON (Multi)Polygon in WGS-84.
    geometry TEXT NOT NULL,
    -- Set for buildings known only by a point: the geometry is then a circle of this radius.
    radius_m REAL,
    area_m2 REAL NOT NULL,
    content_hash TEXT NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_to TIMESTAMP
);
CREATE UNIQUE INDEX areas_current_code ON areas(code) WHERE valid_to IS NULL;
CREATE INDEX areas_code ON areas(code);
CREATE INDEX areas_current_parent ON areas(parent_code) WHERE valid_to IS NULL;

-- The compacted H3 cover of each area version, at its level's resolution.
CREATE TABLE area_cells (
    area_id TEXT NOT NULL REFERENCES areas(id) ON DELETE CASCADE,
    cell BIGINT NOT NULL,
    PRIMARY KEY (area_id, cell)
);
CREATE INDEX area_cells_cell ON area_cells(cell);
