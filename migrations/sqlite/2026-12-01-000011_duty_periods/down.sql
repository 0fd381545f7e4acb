DROP INDEX location_pings_recorded_at;
DROP TABLE duty_periods;
