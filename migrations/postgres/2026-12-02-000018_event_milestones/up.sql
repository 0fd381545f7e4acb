-- When each event reached the moments evaluation measures (accepted, first dispatched, last
-- resolved, closed) and how often it was sent back: kept as the timeline is written, so that
-- evaluation reads one row per event instead of grouping its timeline. Events filed before get
-- theirs from their timelines.
CREATE TABLE event_milestones (
    event_id TEXT PRIMARY KEY NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    accepted_at TIMESTAMP,
    dispatched_at TIMESTAMP,
    resolved_at TIMESTAMP,
    closed_at TIMESTAMP,
    returns INTEGER NOT NULL DEFAULT 0
);
INSERT INTO event_milestones (event_id, accepted_at, dispatched_at, resolved_at, closed_at, returns)
SELECT l.event_id,
    MIN(CASE WHEN l.action = 'accept' THEN l.created_at END),
    MIN(CASE WHEN l.action = 'dispatch' THEN l.created_at END),
    MAX(CASE WHEN l.action = 'resolve' THEN l.created_at END),
    MIN(CASE WHEN l.to_state = 'closed' AND l.from_state <> 'closed' AND l.action <> 'merge' THEN l.created_at END),
    SUM(CASE WHEN l.action = 'return' THEN 1 ELSE 0 END)
FROM event_log l
GROUP BY l.event_id;
