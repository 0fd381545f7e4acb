DROP TABLE event_log;
DROP TABLE event_followers;
DROP TABLE event_idempotency;
DROP TABLE events;
