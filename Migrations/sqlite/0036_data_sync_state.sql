-- Atlas — Data: the state of each pull connector (data/sources.yml, `connectors:`), so a rerun
-- continues after the last committed cursor instead of loading rows again. `cursor` is the
-- cursor column's last loaded value (as text), or the next page token of a paged HTTP pull.
-- Connectors are platform configuration, so this table is not tenant-scoped.
CREATE TABLE data_sync_state (
    connector TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    cursor TEXT,
    status TEXT NOT NULL,
    runs BIGINT NOT NULL DEFAULT 0,
    last_started_at BIGINT,
    last_finished_at BIGINT,
    last_success_at BIGINT,
    last_rows BIGINT NOT NULL DEFAULT 0,
    last_rejected BIGINT NOT NULL DEFAULT 0,
    total_rows BIGINT NOT NULL DEFAULT 0,
    total_rejected BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at BIGINT NOT NULL
);
