-- A department's own system (its work-order system) acting on the department's tasks with an API
-- key: an account of its own holding the department handler's role over an area, so it goes
-- through the same state machine and timeline as a person, recorded as that system.
CREATE TABLE department_systems (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    department_id TEXT NOT NULL REFERENCES departments (id),
    name TEXT NOT NULL,
    area_code TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX department_systems_department ON department_systems (department_id);
