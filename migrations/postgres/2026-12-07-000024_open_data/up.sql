-- Open data (数据开放): the areas whose anonymised events an administrator over them has
-- published on the public endpoints.
CREATE TABLE open_data_areas (
    area_code TEXT PRIMARY KEY NOT NULL,
    published_by TEXT NOT NULL REFERENCES users (id),
    published_at TIMESTAMP NOT NULL
);
