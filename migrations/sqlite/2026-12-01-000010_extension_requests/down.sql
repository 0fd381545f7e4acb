ALTER TABLE events DROP COLUMN extension_count;
ALTER TABLE events DROP COLUMN extension_requested_at;
