-- Atlas — Auth: the append-only audit log. `tenant_id` is NULL for platform-level events.
-- `details` is a JSON object of strings. No foreign key to core_tenants: the log outlives what it
-- describes.
CREATE TABLE auth_audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT,
    occurred_at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    request_id TEXT,
    client_address TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX auth_audit_log_tenant ON auth_audit_log (tenant_id, id);

CREATE TRIGGER auth_audit_log_no_update BEFORE UPDATE ON auth_audit_log
BEGIN
    SELECT RAISE(ABORT, 'auth_audit_log is append-only');
END;
CREATE TRIGGER auth_audit_log_no_delete BEFORE DELETE ON auth_audit_log
BEGIN
    SELECT RAISE(ABORT, 'auth_audit_log is append-only');
END;
