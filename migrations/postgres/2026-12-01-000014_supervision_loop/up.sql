-- Supervision as a loop: an order is due a reply by the responsible unit; the issuing level
-- accepts it (closed) or sends it back (open again); unanswered past its due time it escalates.
ALTER TABLE supervision_orders ADD COLUMN state TEXT NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'replied', 'closed', 'escalated'));
ALTER TABLE supervision_orders ADD COLUMN due_at TIMESTAMP;
ALTER TABLE supervision_orders ADD COLUMN reply TEXT;
ALTER TABLE supervision_orders ADD COLUMN reply_evidence TEXT NOT NULL DEFAULT '[]';
ALTER TABLE supervision_orders ADD COLUMN replied_by TEXT REFERENCES users (id);
ALTER TABLE supervision_orders ADD COLUMN replied_at TIMESTAMP;
ALTER TABLE supervision_orders ADD COLUMN decided_by TEXT REFERENCES users (id);
ALTER TABLE supervision_orders ADD COLUMN decided_at TIMESTAMP;
ALTER TABLE supervision_orders ADD COLUMN send_back_reason TEXT;
ALTER TABLE supervision_orders ADD COLUMN escalated_to TEXT;
-- Orders issued before the loop existed are due a day after they were issued.
UPDATE supervision_orders SET due_at = created_at + INTERVAL '24 hours';
CREATE INDEX supervision_orders_due ON supervision_orders (state, due_at);
