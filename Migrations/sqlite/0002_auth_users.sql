-- Atlas — Auth: users and their tenant memberships.
-- Timestamps are INTEGER milliseconds since the Unix epoch (Storage's representation of Date).
-- Emails are stored lower-cased, so the UNIQUE constraint is case-insensitive in effect.
CREATE TABLE auth_users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    is_platform_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_platform_admin IN (0, 1)),
    default_tenant TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_login_at INTEGER
);

CREATE TABLE auth_memberships (
    tenant_id TEXT NOT NULL REFERENCES core_tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX auth_memberships_user ON auth_memberships (user_id);
