DROP INDEX tasks_updated;
DROP INDEX worker_status_updated;
