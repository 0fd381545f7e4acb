-- The category catalog (事件/部件分类). Deadlines are minutes per stage and grade, as JSON:
-- {"accept": {"general": 120, "significant": 60, "serious": 30, "critical": 15}, "dispatch": …}.
CREATE TABLE categories (
    code TEXT PRIMARY KEY NOT NULL,
    family TEXT NOT NULL CHECK (family IN ('component', 'event')),
    major_code TEXT NOT NULL,
    major_name TEXT NOT NULL,
    minor_code TEXT NOT NULL,
    minor_name TEXT NOT NULL,
    default_grade TEXT NOT NULL CHECK (default_grade IN ('general', 'significant', 'serious', 'critical')),
    deadlines TEXT NOT NULL,
    handler_kind TEXT NOT NULL CHECK (handler_kind IN ('grid_worker', 'department', 'volunteer')),
    department_code TEXT,
    after_photo_required BOOLEAN NOT NULL,
    duplicate_radius_m INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX categories_minor ON categories(family, major_code, minor_code);
