-- Atlas — AI: documents, their chunks with embeddings, the lexical index and the per-tenant
-- generation counter. Timestamps are BIGINT milliseconds since the Unix epoch.
--
-- Storage is the source of truth for retrieval: a chunk, its vector (IEEE 754 binary32,
-- little-endian) and its full-text entry are written in one transaction, and the in-memory
-- vector index is rebuilt from these rows. `ai_tenant_state.generation` counts committed changes
-- to a tenant's documents; indexes and the semantic cache compare it with what they hold.
CREATE TABLE ai_documents (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    content_hash TEXT NOT NULL,
    metadata_hash TEXT NOT NULL,
    chunk_count BIGINT NOT NULL,
    byte_count BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ai_documents_tenant_created ON ai_documents (tenant_id, created_at, id);

-- `seq` is the chunk's label in the vector index and its rowid in the FTS5 table. AUTOINCREMENT,
-- so a deleted chunk's number is never reused (sqlite.org/autoinc.html).
CREATE TABLE ai_chunks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    ordinal BIGINT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    start_offset BIGINT NOT NULL,
    end_offset BIGINT NOT NULL,
    embedding BLOB NOT NULL,
    embedding_model TEXT NOT NULL,
    dimensions BIGINT NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, document_id) REFERENCES ai_documents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ai_chunks_document ON ai_chunks (tenant_id, document_id, ordinal);

-- Kept in step by the application in the chunk's transaction (triggers cannot write a virtual
-- table while trusted_schema is OFF). Not an external-content table, so a row is deleted by rowid
-- alone.
CREATE VIRTUAL TABLE ai_chunks_fts USING fts5(title, text, tokenize = 'porter unicode61 remove_diacritics 2');

CREATE TABLE ai_tenant_state (
    tenant_id TEXT PRIMARY KEY,
    generation BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
