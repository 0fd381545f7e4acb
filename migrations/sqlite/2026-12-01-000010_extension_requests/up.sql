-- A handler's request for more time waits for the ops centre's answer (granted or refused); while it
-- waits the console lists it. Requests made before this column existed were never answered
-- either way: they stay on the timeline and the handler may ask again.
ALTER TABLE events ADD COLUMN extension_requested_at TIMESTAMP;
