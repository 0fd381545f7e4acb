-- A reporter's grade is a suggestion; the ops centre sets the grade (`regrade`).
ALTER TABLE events ADD COLUMN suggested_grade TEXT
    CHECK (suggested_grade IN ('general', 'significant', 'serious', 'critical'));
