-- Idempotency keys of actions: a phone resending an action after a lost answer gets the event as
-- it is, and the action is not applied twice.
CREATE TABLE action_idempotency (
    user_id TEXT NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events(id),
    action TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
