-- Atlas — Billing: monthly token budgets, threshold alerts and the outbox that delivers them.
-- Timestamps are INTEGER milliseconds since the Unix epoch.
CREATE TABLE billing_budgets (
    tenant_id TEXT PRIMARY KEY,
    monthly_tokens INTEGER CHECK (monthly_tokens IS NULL OR monthly_tokens > 0),
    -- Percentages of monthly_tokens, as a JSON array of integers, e.g. [80,100].
    thresholds TEXT NOT NULL,
    -- Refuse AI usage once the budget is used up.
    enforce INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

-- One row per tenant, period and threshold crossed: the primary key is what makes an alert
-- exactly-once per period, however many writers see the crossing.
CREATE TABLE billing_budget_alerts (
    tenant_id TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    threshold INTEGER NOT NULL,
    budget_tokens INTEGER NOT NULL,
    used_tokens INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, period_start, threshold)
);

-- Messages written in the transaction that caused them and delivered afterwards by the outbox
-- worker: claimed with a lease (claimed_by, claimed_until; FOR UPDATE SKIP LOCKED on PostgreSQL),
-- retried with exponential backoff (attempts, next_attempt_at) until delivered_at or failed_at.
CREATE TABLE billing_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    tenant_id TEXT,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    claimed_until INTEGER,
    delivered_at INTEGER,
    failed_at INTEGER,
    last_error TEXT
);
CREATE INDEX billing_outbox_due ON billing_outbox (next_attempt_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL;
