-- Atlas — Billing: metered usage events, their rollups and manual adjustments.
-- Timestamps are BIGINT milliseconds since the Unix epoch (Storage's representation of Date).
--
-- Events are written in group commits (many requests, one transaction). The rollups are updated in
-- the same transaction, so they always equal the events they summarise:
--   billing_usage_hourly        per tenant and UTC hour: count, token sum, latency count and sum;
--   billing_usage_latency       per tenant, hour and latency bucket: count (for p50/p95);
--   billing_usage_periods       per tenant and billing period (UTC month): metered events and tokens
--                               plus the manual adjustments, i.e. `usage.tokens`/`usage.requests`.
-- Rollup rows are updated with `INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x`, which is
-- atomic per row, so several Atlas instances may write concurrently.
CREATE TABLE billing_usage_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    source TEXT NOT NULL,
    tokens BIGINT NOT NULL CHECK (tokens >= 0),
    latency_ms DOUBLE PRECISION CHECK (latency_ms IS NULL OR latency_ms >= 0),
    -- The latency's histogram bucket, stored so summaries group raw events without recomputing it.
    latency_bucket INTEGER,
    idempotency_key TEXT,
    occurred_at BIGINT NOT NULL
);
-- NULLs are distinct in a unique index (PostgreSQL's default NULLS DISTINCT), so only keyed events
-- are constrained.
CREATE UNIQUE INDEX billing_usage_events_idempotency ON billing_usage_events (tenant_id, idempotency_key);
CREATE INDEX billing_usage_events_tenant_time ON billing_usage_events (tenant_id, occurred_at, id);
-- Covers the daily summary's leading partial hour without touching the table.
CREATE INDEX billing_usage_events_time ON billing_usage_events (occurred_at) INCLUDE (tenant_id, latency_bucket, tokens, latency_ms);

CREATE TABLE billing_usage_hourly (
    tenant_id TEXT NOT NULL,
    hour_start BIGINT NOT NULL,
    events BIGINT NOT NULL,
    tokens BIGINT NOT NULL,
    latency_count BIGINT NOT NULL,
    latency_sum DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant_id, hour_start)
);
CREATE INDEX billing_usage_hourly_hour ON billing_usage_hourly (hour_start);

CREATE TABLE billing_usage_latency (
    tenant_id TEXT NOT NULL,
    hour_start BIGINT NOT NULL,
    bucket INTEGER NOT NULL,
    events BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, hour_start, bucket)
);
CREATE INDEX billing_usage_latency_hour ON billing_usage_latency (hour_start);

CREATE TABLE billing_usage_periods (
    tenant_id TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    events BIGINT NOT NULL DEFAULT 0,
    tokens BIGINT NOT NULL DEFAULT 0,
    adjusted_tokens BIGINT NOT NULL DEFAULT 0,
    adjusted_requests BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, period_start)
);

CREATE TABLE billing_usage_adjustments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    tokens_delta BIGINT NOT NULL,
    requests_delta BIGINT NOT NULL,
    actor TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX billing_usage_adjustments_tenant ON billing_usage_adjustments (tenant_id, created_at);
