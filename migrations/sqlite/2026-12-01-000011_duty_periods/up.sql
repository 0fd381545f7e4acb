-- When each field worker was on duty: a location ping is kept only if it was recorded inside one
-- of these (a phone's offline queue may send pings after its owner went off duty).
CREATE TABLE duty_periods (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    PRIMARY KEY (user_id, started_at)
);
-- Those on duty now have been since their status last changed.
INSERT INTO duty_periods (user_id, started_at, ended_at)
SELECT user_id, updated_at, NULL FROM worker_status WHERE on_duty;
CREATE INDEX location_pings_recorded_at ON location_pings (recorded_at);
