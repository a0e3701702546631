-- Atlas — AI: row-level security on the AI tables, behind the tenant-scoped query layer, with
-- the convention of 0007_auth_row_level_security.sql: a row is visible and writable when its
-- tenant_id equals the transaction's `atlas.tenant` setting, or when that setting is '*' (never a
-- valid tenant id; platform-wide maintenance only). FORCE applies the policies to the tables'
-- owner, the role Atlas runs as.
ALTER TABLE ai_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY ai_documents_tenant ON ai_documents
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');

ALTER TABLE ai_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY ai_chunks_tenant ON ai_chunks
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');

ALTER TABLE ai_tenant_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_tenant_state FORCE ROW LEVEL SECURITY;
CREATE POLICY ai_tenant_state_tenant ON ai_tenant_state
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');

ALTER TABLE ai_semantic_cache ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_semantic_cache FORCE ROW LEVEL SECURITY;
CREATE POLICY ai_semantic_cache_tenant ON ai_semantic_cache
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');
