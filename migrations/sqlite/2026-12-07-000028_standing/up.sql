-- Standing data: the catalog, webhook subscriptions and running emergencies, which intake reads
-- for every report and the server keeps in memory (`standing`). Every change to them moves the
-- `standing` generation, which the server reads four times a second to see the CLI's changes.
-- Columns only the deliverer keeps (a subscription's failure count) move nothing.
-- SQLite cannot change a CHECK: the table is made again. The triggers of migration 27 name it in
-- their bodies; the legacy rename leaves them be (they find the new table by name when they run).
PRAGMA legacy_alter_table = ON;
CREATE TABLE cluster_generations_new (
    topic TEXT PRIMARY KEY NOT NULL CHECK (topic IN ('auth', 'areas', 'standing')),
    generation BIGINT NOT NULL
);
INSERT INTO cluster_generations_new (topic, generation) SELECT topic, generation FROM cluster_generations;
DROP TABLE cluster_generations;
ALTER TABLE cluster_generations_new RENAME TO cluster_generations;
PRAGMA legacy_alter_table = OFF;
INSERT INTO cluster_generations (topic, generation) VALUES ('standing', 0);

CREATE TRIGGER categories_insert_moves_standing AFTER INSERT ON categories
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
END;
CREATE TRIGGER categories_update_moves_standing AFTER UPDATE ON categories
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
END;
CREATE TRIGGER categories_delete_moves_standing AFTER DELETE ON categories
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
END;
CREATE TRIGGER subscriptions_insert_moves_standing AFTER INSERT ON webhook_subscriptions
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
END;
CREATE TRIGGER subscriptions_update_moves_standing AFTER UPDATE OF url, area_code, states, categories, disabled_at ON webhook_subscriptions
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
END;
CREATE TRIGGER subscriptions_delete_moves_standing AFTER DELETE ON webhook_subscriptions
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
END;
CREATE TRIGGER emergencies_insert_moves_standing AFTER INSERT ON emergencies
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
END;
CREATE TRIGGER emergencies_update_moves_standing AFTER UPDATE OF area_code, ended_at, factor_general, factor_significant, factor_serious, factor_critical ON emergencies
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
END;
CREATE TRIGGER emergencies_delete_moves_standing AFTER DELETE ON emergencies
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
END;
