-- Atlas — Auth: opaque refresh tokens (stored as SHA-256 hex, never in clear) grouped in families
-- (one login session each), and revoked access-token ids kept until the token would have expired.
CREATE TABLE auth_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    tenant_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX auth_refresh_tokens_family ON auth_refresh_tokens (family_id);
CREATE INDEX auth_refresh_tokens_user ON auth_refresh_tokens (user_id);

-- `jti` holds an access token's id, or `sid:<family>` for a whole session ended by logout or by
-- refresh-token reuse.
CREATE TABLE auth_revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX auth_revoked_tokens_expiry ON auth_revoked_tokens (expires_at);
