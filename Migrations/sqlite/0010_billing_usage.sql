-- Atlas — Billing: metered usage events, their rollups and manual adjustments.
-- Timestamps are INTEGER milliseconds since the Unix epoch (Storage's representation of Date).
--
-- Events are written in group commits (many requests, one transaction). The rollups are updated in
-- the same transaction, so they always equal the events they summarise:
--   billing_usage_hourly        per tenant and UTC hour: count, token sum, latency count and sum;
--   billing_usage_latency       per tenant, hour and latency bucket: count (for p50/p95);
--   billing_usage_periods       per tenant and billing period (UTC month): metered events and tokens
--                               plus the manual adjustments, i.e. `usage.tokens`/`usage.requests`.
CREATE TABLE billing_usage_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    source TEXT NOT NULL,
    tokens INTEGER NOT NULL CHECK (tokens >= 0),
    latency_ms REAL CHECK (latency_ms IS NULL OR latency_ms >= 0),
    -- The latency's histogram bucket, stored so summaries group raw events without recomputing it.
    latency_bucket INTEGER,
    idempotency_key TEXT,
    occurred_at INTEGER NOT NULL
);
-- NULL keys are distinct in a UNIQUE index (sqlite.org/lang_createindex.html), so only keyed
-- events are constrained.
CREATE UNIQUE INDEX billing_usage_events_idempotency ON billing_usage_events (tenant_id, idempotency_key);
CREATE INDEX billing_usage_events_tenant_time ON billing_usage_events (tenant_id, occurred_at, id);
-- Covers the daily summary's leading partial hour without touching the table.
CREATE INDEX billing_usage_events_time ON billing_usage_events (occurred_at, tenant_id, latency_bucket, tokens, latency_ms);

CREATE TABLE billing_usage_hourly (
    tenant_id TEXT NOT NULL,
    hour_start INTEGER NOT NULL,
    events INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    latency_count INTEGER NOT NULL,
    latency_sum REAL NOT NULL,
    PRIMARY KEY (tenant_id, hour_start)
) WITHOUT ROWID;
CREATE INDEX billing_usage_hourly_hour ON billing_usage_hourly (hour_start, tenant_id, events, tokens, latency_count, latency_sum);

CREATE TABLE billing_usage_latency (
    tenant_id TEXT NOT NULL,
    hour_start INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    events INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, hour_start, bucket)
) WITHOUT ROWID;
CREATE INDEX billing_usage_latency_hour ON billing_usage_latency (hour_start, tenant_id, bucket, events);

CREATE TABLE billing_usage_periods (
    tenant_id TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    events INTEGER NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    adjusted_tokens INTEGER NOT NULL DEFAULT 0,
    adjusted_requests INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, period_start)
) WITHOUT ROWID;

CREATE TABLE billing_usage_adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    tokens_delta INTEGER NOT NULL,
    requests_delta INTEGER NOT NULL,
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX billing_usage_adjustments_tenant ON billing_usage_adjustments (tenant_id, created_at);
