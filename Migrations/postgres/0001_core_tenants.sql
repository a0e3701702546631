-- Atlas — Core: tenants and their usage counters (SPEC §3 "/tenants").
-- Timestamps are BIGINT milliseconds since the Unix epoch (Storage's representation of Date).
CREATE TABLE core_tenants (
    id TEXT PRIMARY KEY,
    plan TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    tokens BIGINT NOT NULL DEFAULT 0,
    requests BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL DEFAULT (CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)),
    updated_at BIGINT NOT NULL DEFAULT (CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT))
);
