-- Who is on an event is its task rows, not a JSON list beside them. Events filed before the
-- tasks table kept every assignment get the task rows their lists imply, then the lists go.
INSERT INTO tasks (id, event_id, user_id, department_id, lead, state, why, assigned_by, created_at, updated_at)
SELECT lower(hex(randomblob(16))), e.id, a.value, NULL, a.key = 0,
       CASE
           WHEN e.state IN ('closed', 'rejected') THEN 'closed'
           WHEN EXISTS (SELECT 1 FROM json_each(e.resolved_parts) r WHERE r.value = a.value) THEN 'resolved'
           WHEN e.state = 'in_progress' THEN 'in_progress'
           WHEN e.state = 'claimed' THEN 'claimed'
           ELSE 'assigned'
       END,
       '{"rule":"migrated"}', e.reporter_id, e.updated_at, e.updated_at
FROM events e, json_each(e.assignees) a
WHERE NOT EXISTS (
    SELECT 1 FROM tasks t
    WHERE t.event_id = e.id AND t.user_id = a.value
      AND t.state IN ('assigned', 'unacknowledged', 'claimed', 'in_progress', 'resolved', 'closed')
);
ALTER TABLE events DROP COLUMN assignees;
ALTER TABLE events DROP COLUMN resolved_parts;

-- States, sources and escalation levels are the shared machine's enums. SQLite cannot add a CHECK
-- to an existing table without rebuilding it (and every table that refers to it), so triggers
-- hold the same rule.
CREATE TRIGGER events_enums_insert BEFORE INSERT ON events
WHEN NEW.state NOT IN ('reported', 'accepted', 'rejected', 'dispatched', 'claimed', 'returned', 'in_progress',
                       'resolved', 'rework', 'closed', 'suspended')
  OR NEW.source NOT IN ('volunteer', 'resident', 'grid_worker', 'hotline', 'sensor', 'department')
  OR (NEW.escalation_level IS NOT NULL AND NEW.escalation_level NOT IN ('street', 'district', 'city'))
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: events state, source or escalation_level');
END;
CREATE TRIGGER events_enums_update BEFORE UPDATE OF state, source, escalation_level ON events
WHEN NEW.state NOT IN ('reported', 'accepted', 'rejected', 'dispatched', 'claimed', 'returned', 'in_progress',
                       'resolved', 'rework', 'closed', 'suspended')
  OR NEW.source NOT IN ('volunteer', 'resident', 'grid_worker', 'hotline', 'sensor', 'department')
  OR (NEW.escalation_level IS NOT NULL AND NEW.escalation_level NOT IN ('street', 'district', 'city'))
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: events state, source or escalation_level');
END;
CREATE INDEX tasks_event_state ON tasks(event_id, state);
