-- Atlas — AI: the semantic cache. An entry answers later questions whose embedding is close
-- enough to its question's (the threshold is calibrated in bench/RESULTS.md, "Retrieval").
-- `generation` is the tenant's document generation the answer was computed against: a lookup
-- only considers entries of the current generation, and a change to the tenant's documents
-- deletes the tenant's entries in the same transaction. `hits` counts answers served.
CREATE TABLE ai_semantic_cache (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    embedding BLOB NOT NULL,
    embedding_model TEXT NOT NULL,
    generation BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    hits BIGINT NOT NULL DEFAULT 0,
    last_hit_at BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ai_semantic_cache_expiry ON ai_semantic_cache (tenant_id, expires_at);
