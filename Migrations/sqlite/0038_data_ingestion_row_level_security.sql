-- Atlas — Data: row-level security is a PostgreSQL feature (see
-- postgres/0038_data_ingestion_row_level_security.sql). On SQLite, tenant isolation rests on the
-- tenant-scoped queries alone; this file keeps the migration numbers of both dialects aligned.
SELECT 1;
