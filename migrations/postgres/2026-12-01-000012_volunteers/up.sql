-- Volunteer sign-up (志愿者报名): a person asks to volunteer in one community; the street's
-- coordinator approves (the volunteer role over that community is granted) or declines with a
-- reason. The phone number is the applicant's contact for the coordinator.
CREATE TABLE volunteer_applications (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    community_code TEXT NOT NULL,
    street_code TEXT NOT NULL,
    phone TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined')),
    reason TEXT,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX volunteer_applications_street ON volunteer_applications (street_code, state);
CREATE INDEX volunteer_applications_user ON volunteer_applications (user_id);

-- Volunteer service (志愿服务记录): one row per volunteer and event, written when the event the
-- volunteer resolved is verified and closed. Points and minutes come from the shared core's rule.
CREATE TABLE service_records (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    community_code TEXT NOT NULL,
    street_code TEXT NOT NULL,
    points INTEGER NOT NULL CHECK (points >= 0),
    minutes INTEGER NOT NULL CHECK (minutes >= 0),
    claimed_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, event_id)
);
CREATE INDEX service_records_community ON service_records (community_code, created_at);
CREATE INDEX service_records_street ON service_records (street_code, created_at);
