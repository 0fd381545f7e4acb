DROP INDEX tasks_event_state;
DROP TRIGGER events_enums_update;
DROP TRIGGER events_enums_insert;
ALTER TABLE events ADD COLUMN assignees TEXT NOT NULL DEFAULT '[]';
ALTER TABLE events ADD COLUMN resolved_parts TEXT NOT NULL DEFAULT '[]';
UPDATE events SET
    assignees = (SELECT json_group_array(user_id) FROM (
        SELECT user_id FROM tasks WHERE tasks.event_id = events.id
          AND tasks.state IN ('assigned', 'unacknowledged', 'claimed', 'in_progress', 'resolved', 'closed')
        ORDER BY lead DESC, created_at)),
    resolved_parts = (SELECT json_group_array(user_id) FROM (
        SELECT user_id FROM tasks WHERE tasks.event_id = events.id AND tasks.state IN ('resolved', 'closed')
        ORDER BY lead DESC, created_at));
