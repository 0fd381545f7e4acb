CREATE INDEX events_grid ON events (grid_code);
DROP INDEX events_grid_newest;
DROP INDEX events_community_newest;
DROP INDEX events_street_newest;
DROP INDEX events_district_newest;
