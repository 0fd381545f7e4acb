-- Phones that receive push notifications. A device belongs to the session that registered it:
-- signing out or revoking the session unregisters it.
CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id TEXT REFERENCES sessions(id) ON DELETE SET NULL,
    fcm_token TEXT NOT NULL UNIQUE,
    platform TEXT NOT NULL CHECK (platform IN ('android', 'ios')),
    app_version TEXT NOT NULL,
    locale TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    -- Why it stopped receiving: signed_out, unregistered (FCM said so), replaced …
    deactivated_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX devices_user ON devices(user_id, active);
CREATE INDEX devices_session ON devices(session_id);

-- Delivery state of each notification (the outbox): pending until every active device of the
-- user has it (or refused it for good); leased by one sender at a time.
ALTER TABLE notifications ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE notifications ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN next_attempt_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN lease_until TIMESTAMP;
ALTER TABLE notifications ADD COLUMN last_error TEXT;
ALTER TABLE notifications ADD COLUMN received_at TIMESTAMP;
ALTER TABLE notifications ADD COLUMN read_at TIMESTAMP;
UPDATE notifications SET next_attempt_at = created_at;
CREATE INDEX notifications_due ON notifications(state, next_attempt_at);

-- One row per notification and device once FCM took it (or refused the device for good): a
-- retry never sends to a device twice.
CREATE TABLE deliveries (
    notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'device_gone', 'rejected')),
    fcm_message TEXT,
    detail TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (notification_id, device_id)
);
