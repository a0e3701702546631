-- Atlas — Data: runs of the SQL models and their tests, and one result per model or test.
-- Timestamps are BIGINT milliseconds since the Unix epoch (Storage's representation of Date).
-- Runs build platform-wide models (every tenant's rows at once), so these tables are not
-- tenant-scoped; the catalog filters what a tenant sees.
CREATE TABLE data_runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('run', 'test', 'seed')),
    status TEXT NOT NULL CHECK (status IN ('running', 'success', 'error')),
    selector TEXT,
    project TEXT NOT NULL,
    requested_by TEXT,
    error TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX data_runs_started ON data_runs (started_at, id);

CREATE TABLE data_run_results (
    run_id TEXT NOT NULL REFERENCES data_runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('model', 'test', 'seed')),
    materialization TEXT,
    relation TEXT,
    status TEXT NOT NULL CHECK (status IN ('success', 'error', 'skipped', 'pass', 'fail')),
    rows_affected BIGINT,
    failures BIGINT,
    duration_ms DOUBLE PRECISION NOT NULL,
    error TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, position)
);
-- The freshness of a model is its last successful build: found by name, newest first.
CREATE INDEX data_run_results_name ON data_run_results (name, status, finished_at);
