DROP TRIGGER emergencies_change_moves_standing ON emergencies;
DROP TRIGGER subscriptions_change_moves_standing ON webhook_subscriptions;
DROP TRIGGER categories_change_moves_standing ON categories;
DROP FUNCTION gridwork_standing_changed();
DELETE FROM cluster_generations WHERE topic = 'standing';
ALTER TABLE cluster_generations DROP CONSTRAINT cluster_generations_topic_check;
ALTER TABLE cluster_generations ADD CONSTRAINT cluster_generations_topic_check CHECK (topic IN ('auth', 'areas'));
