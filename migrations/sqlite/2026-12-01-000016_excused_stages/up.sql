-- Excused lateness (容错免责): each late stage the ops centre excused, by whom, when and why (also
-- on the timeline). Excused stages stay counted in events.late_stages and no longer count against
-- the on-time rate.
CREATE TABLE event_excuses (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    excused_at TIMESTAMP NOT NULL,
    excused_by TEXT NOT NULL REFERENCES users (id),
    reason TEXT NOT NULL,
    PRIMARY KEY (event_id, excused_at)
);
