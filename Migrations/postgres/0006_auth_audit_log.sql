-- Atlas — Auth: the append-only audit log. `tenant_id` is NULL for platform-level events.
-- `details` is a JSON object of strings. No foreign key to core_tenants: the log outlives what it
-- describes.
CREATE TABLE auth_audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT,
    occurred_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    request_id TEXT,
    client_address TEXT,
    details JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX auth_audit_log_tenant ON auth_audit_log (tenant_id, id);

CREATE FUNCTION auth_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'auth_audit_log is append-only';
END;
$$;
CREATE TRIGGER auth_audit_log_no_change BEFORE UPDATE OR DELETE ON auth_audit_log
    FOR EACH ROW EXECUTE FUNCTION auth_audit_log_append_only();
CREATE TRIGGER auth_audit_log_no_truncate BEFORE TRUNCATE ON auth_audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION auth_audit_log_append_only();
