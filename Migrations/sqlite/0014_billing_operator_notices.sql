-- Atlas — Billing: operator notices (human review, cost anomalies) share the budget alerts' outbox.
-- A notice carries a stable key per episode; the unique index makes a repeat a no-op, so a
-- retried or concurrent sender stores it once.
ALTER TABLE billing_outbox ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX billing_outbox_dedupe ON billing_outbox (dedupe_key) WHERE dedupe_key IS NOT NULL;
