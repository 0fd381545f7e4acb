-- Webhooks for department systems: subscriptions registered by administrators over an area, and
-- one delivery per subscription and state change, written in the same transaction as the change
-- (the outbox), sent with retries and signed per the Standard Webhooks specification.
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    -- `whsec_` and base64: kept as it is, because signing needs it.
    secret TEXT NOT NULL,
    area_code TEXT NOT NULL,
    -- JSON lists; empty: every state, every category.
    states TEXT NOT NULL,
    categories TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP,
    disabled_reason TEXT,
    -- Failed attempts in a row; a success sets it back to 0.
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE webhook_deliveries (
    -- The `webhook-id`: the same on every retry, so receivers can drop repeats.
    id TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at);
