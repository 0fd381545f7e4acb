-- What the replicas of one deployment (and the CLI beside them) tell each other: a generation per
-- topic that moves with every change. Triggers move `auth` on every change to who may do what
-- (sessions ended, accounts, grants), so cached sessions are dropped whoever made the change and
-- however; an area import moves `areas`, so running servers load the new map. SQLite is one
-- process: the server reads these generations four times a second to see what the CLI changed.
CREATE TABLE cluster_generations (
    topic TEXT PRIMARY KEY NOT NULL CHECK (topic IN ('auth', 'areas')),
    generation BIGINT NOT NULL
);
INSERT INTO cluster_generations (topic, generation) VALUES ('auth', 0), ('areas', 0);

CREATE TRIGGER sessions_end_moves_auth AFTER UPDATE OF revoked_at, expires_at, user_id, token_hash ON sessions
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'auth';
END;
CREATE TRIGGER sessions_delete_moves_auth AFTER DELETE ON sessions
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'auth';
END;
CREATE TRIGGER users_update_moves_auth AFTER UPDATE ON users
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'auth';
END;
CREATE TRIGGER users_delete_moves_auth AFTER DELETE ON users
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'auth';
END;
CREATE TRIGGER grants_insert_moves_auth AFTER INSERT ON role_assignments
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'auth';
END;
CREATE TRIGGER grants_update_moves_auth AFTER UPDATE ON role_assignments
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'auth';
END;
CREATE TRIGGER grants_delete_moves_auth AFTER DELETE ON role_assignments
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'auth';
END;
CREATE TRIGGER departments_code_moves_auth AFTER UPDATE OF code ON departments
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'auth';
END;
