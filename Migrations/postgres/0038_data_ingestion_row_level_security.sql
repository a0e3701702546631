-- Atlas — Data: row-level security on the ingestion and feature-store tables, with the convention
-- of 0022_ai_row_level_security.sql (tenant_id equals the transaction's `atlas.tenant`, or that
-- setting is '*'). The raw tables `data_raw_<source>` get the same policy on their `tenant`
-- column when ingestion creates them.
ALTER TABLE data_ingest_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_ingest_batches FORCE ROW LEVEL SECURITY;
CREATE POLICY data_ingest_batches_tenant ON data_ingest_batches
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');
ALTER TABLE data_ingest_errors ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_ingest_errors FORCE ROW LEVEL SECURITY;
CREATE POLICY data_ingest_errors_tenant ON data_ingest_errors
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');
ALTER TABLE data_features_offline ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_features_offline FORCE ROW LEVEL SECURITY;
CREATE POLICY data_features_offline_tenant ON data_features_offline
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');
ALTER TABLE data_features_online ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_features_online FORCE ROW LEVEL SECURITY;
CREATE POLICY data_features_online_tenant ON data_features_online
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');
