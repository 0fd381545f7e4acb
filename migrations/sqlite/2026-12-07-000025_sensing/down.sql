DROP TABLE alerts;
DROP TABLE reading_rollups;
DROP TABLE readings;
DROP TABLE sensors;
DROP TABLE indicator_overrides;
DROP TABLE indicators;
