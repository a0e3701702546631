-- Atlas — Auth: row-level security on the tenant-scoped auth tables, a second wall behind the
-- tenant-scoped query layer (postgresql.org/docs/15/ddl-rowsecurity.html).
--
-- Storage sets `atlas.tenant` for each transaction (set_config(..., true)). A row is visible and
-- writable when its tenant_id equals that setting. The value '*' (never a valid tenant id) opens
-- every row: Auth passes it explicitly for its platform-wide reads (authentication look-ups,
-- /auth/me, a platform administrator's listings). A transaction that sets nothing sees nothing.
--
-- FORCE applies the policies to the tables' owner too, i.e. to the role Atlas runs as. A superuser
-- or a role with BYPASSRLS still bypasses them: run Atlas as an ordinary role.
ALTER TABLE auth_memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY auth_memberships_tenant ON auth_memberships
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');

ALTER TABLE auth_api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY auth_api_keys_tenant ON auth_api_keys
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');

-- Platform-level entries (tenant_id NULL) are visible only to platform-wide transactions.
ALTER TABLE auth_audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY auth_audit_log_tenant ON auth_audit_log
    USING (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
    WITH CHECK (tenant_id = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*');
