-- Atlas — Billing: cost-anomaly episodes. One open episode per tenant at most: the alert is sent
-- when an episode opens, so an anomaly that lasts hours (or outlives a restart, or is seen by two
-- instances) alerts once. Timestamps are milliseconds since the Unix epoch.
CREATE TABLE billing_cost_episodes (
    tenant_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    closed_at INTEGER,
    reason TEXT NOT NULL,
    peak_tokens_per_hour INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, started_at)
);
CREATE UNIQUE INDEX billing_cost_episodes_open ON billing_cost_episodes (tenant_id) WHERE closed_at IS NULL;
