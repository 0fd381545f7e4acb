DROP INDEX tasks_event_state;
ALTER TABLE events DROP CONSTRAINT events_escalation_level_valid;
ALTER TABLE events DROP CONSTRAINT events_source_valid;
ALTER TABLE events DROP CONSTRAINT events_state_valid;
ALTER TABLE events ADD COLUMN assignees TEXT NOT NULL DEFAULT '[]';
ALTER TABLE events ADD COLUMN resolved_parts TEXT NOT NULL DEFAULT '[]';
UPDATE events SET
    assignees = COALESCE((SELECT json_agg(user_id ORDER BY lead DESC, created_at)::text FROM tasks
        WHERE tasks.event_id = events.id
          AND tasks.state IN ('assigned', 'unacknowledged', 'claimed', 'in_progress', 'resolved', 'closed')), '[]'),
    resolved_parts = COALESCE((SELECT json_agg(user_id ORDER BY lead DESC, created_at)::text FROM tasks
        WHERE tasks.event_id = events.id AND tasks.state IN ('resolved', 'closed')), '[]');
