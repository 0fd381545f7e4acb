-- A handler's request for more time waits for the ops centre's answer (granted or refused); while it
-- waits the console lists it. Requests made before this column existed were never answered
-- either way: they stay on the timeline and the handler may ask again.
ALTER TABLE events ADD COLUMN extension_requested_at TIMESTAMP;
-- How many times the deadline was extended (evaluation's extension rate, 延期率).
ALTER TABLE events ADD COLUMN extension_count INTEGER NOT NULL DEFAULT 0;
