ALTER TABLE events DROP COLUMN extension_requested_at;
