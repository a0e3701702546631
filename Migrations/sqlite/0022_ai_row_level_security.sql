-- Atlas — AI: row-level security is a PostgreSQL feature (see postgres/0022_ai_row_level_security.sql).
-- On SQLite, tenant isolation rests on the tenant-scoped query layer alone; this file keeps the
-- migration numbers of both dialects aligned.
SELECT 1;
