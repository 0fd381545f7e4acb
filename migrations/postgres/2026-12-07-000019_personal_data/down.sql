DROP TABLE erasure_requests;
DROP INDEX event_log_actor;
DROP INDEX event_log_unsealed;
ALTER TABLE users DROP COLUMN erased_at;
ALTER TABLE event_log DROP COLUMN erased_at;
ALTER TABLE event_log DROP COLUMN personal_commitment;
ALTER TABLE event_log DROP COLUMN personal_salt;
