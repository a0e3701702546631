-- Atlas — Auth: users and their tenant memberships.
-- Timestamps are BIGINT milliseconds since the Unix epoch (Storage's representation of Date).
-- Emails are stored lower-cased, so the UNIQUE constraint is case-insensitive in effect.
CREATE TABLE auth_users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    is_platform_admin BOOLEAN NOT NULL DEFAULT FALSE,
    default_tenant TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login_at BIGINT
);

CREATE TABLE auth_memberships (
    tenant_id TEXT NOT NULL REFERENCES core_tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX auth_memberships_user ON auth_memberships (user_id);
