-- Atlas — Data: the feature store. The offline table keeps every materialised value with its
-- event time, for point-in-time reads ("values as of T"); the online table keeps the latest
-- values per (view, tenant, entity) for serving. `feature_values` is a JSON object keyed by
-- feature name.
CREATE TABLE data_features_offline (
    view TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    event_time BIGINT NOT NULL,
    feature_values TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (view, tenant_id, entity, event_time)
);

CREATE TABLE data_features_online (
    view TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    event_time BIGINT NOT NULL,
    feature_values TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (view, tenant_id, entity)
);
CREATE INDEX data_features_online_tenant ON data_features_online (tenant_id, view);
