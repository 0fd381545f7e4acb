DROP TABLE action_idempotency;
