-- Atlas — Auth: row-level security is a PostgreSQL feature (see postgres/0007_auth_row_level_security.sql).
-- On SQLite, tenant isolation rests on the tenant-scoped query layer alone; this file keeps the
-- migration numbers of both dialects aligned.
SELECT 1;
