-- Atlas — AI: graph runs and their checkpoints (Sources/AI/README.md, "Agent runtime").
-- A run is one execution of a named graph for a tenant; its checkpoints, one per superstep and
-- one per stop for review, are its history (`seq` orders them). `owner` and `lease_expires_at`
-- say which process executes a `running` run: a process claims a run only when the lease has
-- expired, and renews it while it works, so two processes on one database never both run it.
-- Times are Unix milliseconds.
CREATE TABLE ai_runs (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    graph TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'interrupted', 'completed', 'failed')),
    input TEXT NOT NULL DEFAULT '{}',
    state TEXT,
    interrupt TEXT,
    error TEXT,
    step BIGINT NOT NULL DEFAULT 0,
    checkpoint_id TEXT,
    parent_run_id TEXT,
    parent_checkpoint_id TEXT,
    owner TEXT,
    lease_expires_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ai_runs_pending ON ai_runs (status, lease_expires_at);
CREATE INDEX ai_runs_thread ON ai_runs (tenant_id, thread_id, created_at);

CREATE TABLE ai_checkpoints (
    tenant_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    parent_id TEXT,
    step BIGINT NOT NULL,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, run_id, seq),
    UNIQUE (tenant_id, run_id, id)
);
