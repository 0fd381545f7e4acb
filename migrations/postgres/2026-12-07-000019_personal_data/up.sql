-- Data subject rights (个人信息主体权利): a person asks for their personal data to be erased and an
-- administrator over their area carries it out. The timeline stays verifiable after erasure: each
-- entry's personal part (the actor's position, their words and the step's detail) is hashed into
-- the chain only as a salted commitment, so erasing the part and its salt leaves the chain whole.
-- Entries written before this migration are re-sealed that way by the server right after it
-- (db::migrate), once their old chain has verified.
ALTER TABLE event_log ADD COLUMN personal_salt TEXT;
ALTER TABLE event_log ADD COLUMN personal_commitment TEXT;
ALTER TABLE event_log ADD COLUMN erased_at TIMESTAMP;

-- When the account's personal data was erased; the row stays so that ids on timelines still name
-- an (anonymous) account.
ALTER TABLE users ADD COLUMN erased_at TIMESTAMP;

CREATE TABLE erasure_requests (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    -- JSON list of the areas the person held roles in when asking; [] reaches only system-wide
    -- administrators.
    areas TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('requested', 'erased', 'declined', 'withdrawn')),
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_reason TEXT,
    -- JSON: how many rows of each kind the erasure changed.
    summary TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX erasure_requests_one_open ON erasure_requests (user_id) WHERE state = 'requested';
CREATE INDEX erasure_requests_state ON erasure_requests (state, created_at);
CREATE INDEX event_log_actor ON event_log (actor_id);
-- Entries not yet sealed with a commitment (the server seals them at start), found at once.
CREATE INDEX event_log_unsealed ON event_log (event_id) WHERE personal_commitment IS NULL;
