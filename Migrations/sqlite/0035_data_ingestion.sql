-- Atlas — Data: the source registry, ingest batches and rejected records. Timestamps are BIGINT
-- milliseconds since the Unix epoch.
--
-- `data_sources` holds each source's schema (declared in the sources file or inferred from its
-- first records) as the JSON of a SourceDefinition; the raw tables `data_raw_<source>` are created
-- at runtime from it, so they are not listed here. Sources are platform-wide; their rows are
-- per tenant.
CREATE TABLE data_sources (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    origin TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One committed load into a source for a tenant (an HTTP push, a file, one sync page). The
-- catalog reads a source's freshness from here.
CREATE TABLE data_ingest_batches (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    source TEXT NOT NULL,
    origin TEXT NOT NULL,
    format TEXT NOT NULL,
    accepted BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL
);
CREATE INDEX data_ingest_batches_tenant_source ON data_ingest_batches (tenant_id, source, finished_at);

-- Records refused by validation, with the line they start on in their body or file.
CREATE TABLE data_ingest_errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    source TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    line BIGINT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX data_ingest_errors_tenant_source ON data_ingest_errors (tenant_id, source, created_at);
CREATE INDEX data_ingest_errors_batch ON data_ingest_errors (batch_id);
