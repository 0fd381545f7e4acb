-- Listing newest first within a scope: a district's, street's, community's or grid's events by id
-- (ids are time-ordered), so a page walks only the scope's own events instead of the whole table
-- backwards (measured on a city-year by `citybench`: a street's in-progress events went from a
-- scan of ~200,000 rows to the street's own). The grid's index replaces the grid-only one.
CREATE INDEX events_district_newest ON events (district_code, id);
CREATE INDEX events_street_newest ON events (street_code, id);
CREATE INDEX events_community_newest ON events (community_code, id);
CREATE INDEX events_grid_newest ON events (grid_code, id);
DROP INDEX events_grid;
