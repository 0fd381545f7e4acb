-- What the replicas of one deployment (and the CLI beside them) tell each other: a generation per
-- topic that moves with every change, and a NOTIFY on `gridwork_cluster` that every replica's
-- listener hears once the change commits. Triggers move `auth` on every change to who may do what
-- (sessions ended, accounts, grants), so cached sessions are dropped on every replica whoever made
-- the change and however; an area import moves `areas`, so every replica loads the new map. The
-- generations let a replica that lost its listener catch up.
CREATE TABLE cluster_generations (
    topic TEXT PRIMARY KEY NOT NULL CHECK (topic IN ('auth', 'areas')),
    generation BIGINT NOT NULL
);
INSERT INTO cluster_generations (topic, generation) VALUES ('auth', 0), ('areas', 0);

CREATE FUNCTION gridwork_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'auth';
    PERFORM pg_notify('gridwork_cluster', 'auth');
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_end_moves_auth AFTER UPDATE OF revoked_at, expires_at, user_id, token_hash OR DELETE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION gridwork_auth_changed();
CREATE TRIGGER users_change_moves_auth AFTER UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION gridwork_auth_changed();
CREATE TRIGGER grants_change_moves_auth AFTER INSERT OR UPDATE OR DELETE ON role_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION gridwork_auth_changed();
CREATE TRIGGER departments_code_moves_auth AFTER UPDATE OF code ON departments
    FOR EACH STATEMENT EXECUTE FUNCTION gridwork_auth_changed();
