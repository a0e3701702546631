-- Atlas — Billing: cost-anomaly episodes. One open episode per tenant at most: the alert is sent
-- when an episode opens, so an anomaly that lasts hours (or outlives a restart, or is seen by two
-- instances) alerts once. Timestamps are milliseconds since the Unix epoch.
CREATE TABLE billing_cost_episodes (
    tenant_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    closed_at BIGINT,
    reason TEXT NOT NULL,
    peak_tokens_per_hour BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, started_at)
);
CREATE UNIQUE INDEX billing_cost_episodes_open ON billing_cost_episodes (tenant_id) WHERE closed_at IS NULL;
