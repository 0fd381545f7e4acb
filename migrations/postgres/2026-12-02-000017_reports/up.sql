-- Evaluation reports (考核报表): each ops centre's area (city, district, street) gets one per
-- week and one per month, produced by the scheduler once the period is over, as CSV and XLSX.
CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('weekly', 'monthly')),
    area_code TEXT NOT NULL,
    period_from TIMESTAMP NOT NULL,
    period_to TIMESTAMP NOT NULL,
    rows INTEGER NOT NULL,
    csv BYTEA NOT NULL,
    xlsx BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- One report per area and period, however many servers produce them.
CREATE UNIQUE INDEX reports_period ON reports (kind, area_code, period_from);
CREATE INDEX reports_recent ON reports (period_from);
