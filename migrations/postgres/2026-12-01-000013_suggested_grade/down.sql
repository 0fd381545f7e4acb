ALTER TABLE events DROP COLUMN suggested_grade;
