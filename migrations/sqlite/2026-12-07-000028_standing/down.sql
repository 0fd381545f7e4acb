DROP TRIGGER emergencies_delete_moves_standing;
DROP TRIGGER emergencies_update_moves_standing;
DROP TRIGGER emergencies_insert_moves_standing;
DROP TRIGGER subscriptions_delete_moves_standing;
DROP TRIGGER subscriptions_update_moves_standing;
DROP TRIGGER subscriptions_insert_moves_standing;
DROP TRIGGER categories_delete_moves_standing;
DROP TRIGGER categories_update_moves_standing;
DROP TRIGGER categories_insert_moves_standing;
DELETE FROM cluster_generations WHERE topic = 'standing';
-- SQLite cannot change a CHECK: the table is made again. The triggers of migration 27 name it in
-- their bodies; the legacy rename leaves them be (they find the new table by name when they run).
PRAGMA legacy_alter_table = ON;
CREATE TABLE cluster_generations_new (
    topic TEXT PRIMARY KEY NOT NULL CHECK (topic IN ('auth', 'areas')),
    generation BIGINT NOT NULL
);
INSERT INTO cluster_generations_new (topic, generation) SELECT topic, generation FROM cluster_generations;
DROP TABLE cluster_generations;
ALTER TABLE cluster_generations_new RENAME TO cluster_generations;
PRAGMA legacy_alter_table = OFF;
