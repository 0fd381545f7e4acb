-- The duty roster (backend/src/roster.rs) asks every second, on every server, what changed since
-- its last look: workers' statuses and tasks by when they were written. Without these indexes
-- each look would read both tables whole (a city-year holds about a million tasks).
CREATE INDEX worker_status_updated ON worker_status (updated_at);
CREATE INDEX tasks_updated ON tasks (updated_at);
