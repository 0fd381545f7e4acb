-- Standing data: the catalog, webhook subscriptions and running emergencies, which intake reads
-- for every report and each server keeps in memory (`standing`). Every change to them moves the
-- `standing` generation and notifies every replica at commit, whoever made it and however.
-- Columns only the deliverer keeps (a subscription's failure count) move nothing.
ALTER TABLE cluster_generations DROP CONSTRAINT cluster_generations_topic_check;
ALTER TABLE cluster_generations ADD CONSTRAINT cluster_generations_topic_check
    CHECK (topic IN ('auth', 'areas', 'standing'));
INSERT INTO cluster_generations (topic, generation) VALUES ('standing', 0);

CREATE FUNCTION gridwork_standing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cluster_generations SET generation = generation + 1 WHERE topic = 'standing';
    PERFORM pg_notify('gridwork_cluster', 'standing');
    RETURN NULL;
END
$$;

CREATE TRIGGER categories_change_moves_standing AFTER INSERT OR UPDATE OR DELETE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION gridwork_standing_changed();
CREATE TRIGGER subscriptions_change_moves_standing
    AFTER INSERT OR DELETE OR UPDATE OF url, area_code, states, categories, disabled_at ON webhook_subscriptions
    FOR EACH STATEMENT EXECUTE FUNCTION gridwork_standing_changed();
CREATE TRIGGER emergencies_change_moves_standing
    AFTER INSERT OR DELETE OR UPDATE OF area_code, ended_at, factor_general, factor_significant, factor_serious, factor_critical
    ON emergencies
    FOR EACH STATEMENT EXECUTE FUNCTION gridwork_standing_changed();
