-- Atlas — Auth: per-tenant API keys `atl_<id>_<secret>`. Only the SHA-256 (hex) of the secret is stored.
CREATE TABLE auth_api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES core_tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    secret_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX auth_api_keys_tenant ON auth_api_keys (tenant_id, created_at);
