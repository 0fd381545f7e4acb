-- Who is on an event is its task rows, not a JSON list beside them. Events filed before the
-- tasks table kept every assignment get the task rows their lists imply, then the lists go.
INSERT INTO tasks (id, event_id, user_id, department_id, lead, state, why, assigned_by, created_at, updated_at)
SELECT gen_random_uuid()::text, e.id, a.value, NULL, a.ordinality = 1,
       CASE
           WHEN e.state IN ('closed', 'rejected') THEN 'closed'
           WHEN e.resolved_parts::jsonb ? a.value THEN 'resolved'
           WHEN e.state = 'in_progress' THEN 'in_progress'
           WHEN e.state = 'claimed' THEN 'claimed'
           ELSE 'assigned'
       END,
       '{"rule":"migrated"}', e.reporter_id, e.updated_at, e.updated_at
FROM events e, jsonb_array_elements_text(e.assignees::jsonb) WITH ORDINALITY a(value, ordinality)
WHERE NOT EXISTS (
    SELECT 1 FROM tasks t
    WHERE t.event_id = e.id AND t.user_id = a.value
      AND t.state IN ('assigned', 'unacknowledged', 'claimed', 'in_progress', 'resolved', 'closed')
);
ALTER TABLE events DROP COLUMN assignees;
ALTER TABLE events DROP COLUMN resolved_parts;

-- States, sources and escalation levels are the shared machine's enums.
ALTER TABLE events ADD CONSTRAINT events_state_valid CHECK (state IN ('reported', 'accepted', 'rejected',
    'dispatched', 'claimed', 'returned', 'in_progress', 'resolved', 'rework', 'closed', 'suspended'));
ALTER TABLE events ADD CONSTRAINT events_source_valid CHECK (source IN ('volunteer', 'resident', 'grid_worker',
    'hotline', 'sensor', 'department'));
ALTER TABLE events ADD CONSTRAINT events_escalation_level_valid CHECK (escalation_level IN ('street', 'district',
    'city'));
CREATE INDEX tasks_event_state ON tasks(event_id, state);
