// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// One cache entry as the in-memory mirror keeps it: enough to compare, not the answer.
struct CacheEntrySummary: Sendable {
    var id: String
    var embedding: [Float]
    var expiresAt: Date
}

/// The SQL of `ai_semantic_cache`. Every function takes the tenant first.
enum CacheStore {
    /// Live entries of the current generation made by `model`.
    static func entries(_ tenant: String, generation: Int64, model: String, dimensions: Int, now: Date,
                        on conn: any Connection) throws -> [CacheEntrySummary] {
        try conn.query("""
            SELECT id, embedding, expires_at FROM ai_semantic_cache WHERE tenant_id = \(tenant) \
            AND generation = \(generation) AND embedding_model = \(model) AND expires_at > \(now)
            """).compactMap { row in
            guard let vector = VectorCoding.decode(try row.decode("embedding", as: [UInt8].self), dimensions: dimensions) else { return nil }
            return CacheEntrySummary(id: try row.decode("id"), embedding: vector, expiresAt: try row.decode("expires_at"))
        }
    }

    /// Inserts or replaces an entry.
    static func upsert(_ tenant: String, id: String, question: String, answer: String, metadata: JSONValue, embedding: [Float],
                       model: String, generation: Int64, now: Date, expiresAt: Date, on conn: any Connection) throws {
        try conn.execute("""
            INSERT INTO ai_semantic_cache (tenant_id, id, question, answer, metadata, embedding, embedding_model, generation, \
            created_at, expires_at, hits) VALUES (\(tenant), \(id), \(question), \(answer), \(try SQLValue.json(metadata)), \
            \(VectorCoding.encode(embedding)), \(model), \(generation), \(now), \(expiresAt), 0) \
            ON CONFLICT (tenant_id, id) DO UPDATE SET question = excluded.question, answer = excluded.answer, \
            metadata = excluded.metadata, embedding = excluded.embedding, embedding_model = excluded.embedding_model, \
            generation = excluded.generation, created_at = excluded.created_at, expires_at = excluded.expires_at, hits = 0, \
            last_hit_at = NULL
            """)
    }

    /// Deletes expired entries, entries of older generations, and the oldest entries beyond
    /// `keep`; returns how many went.
    @discardableResult
    static func prune(_ tenant: String, generation: Int64, keep: Int, now: Date, on conn: any Connection) throws -> Int {
        var removed = try conn.execute("""
            DELETE FROM ai_semantic_cache WHERE tenant_id = \(tenant) AND (expires_at <= \(now) OR generation <> \(generation))
            """)
        let count = try conn.queryScalar("SELECT COUNT(*) FROM ai_semantic_cache WHERE tenant_id = \(tenant)", as: Int.self) ?? 0
        if count > keep {
            removed += try conn.execute("""
                DELETE FROM ai_semantic_cache WHERE tenant_id = \(tenant) AND id IN (SELECT id FROM ai_semantic_cache \
                WHERE tenant_id = \(tenant) ORDER BY created_at, id LIMIT \(count - keep))
                """)
        }
        return removed
    }

    /// Deletes every entry of a tenant (its documents changed).
    static func deleteAll(_ tenant: String, on conn: any Connection) throws {
        try conn.execute("DELETE FROM ai_semantic_cache WHERE tenant_id = \(tenant)")
    }

    /// Entries and total hits of a tenant.
    static func stats(_ tenant: String, on conn: any Connection) throws -> (entries: Int, hits: Int64) {
        let row = try conn.queryFirst("SELECT COUNT(*) AS entries, COALESCE(SUM(hits), 0) AS hits FROM ai_semantic_cache WHERE tenant_id = \(tenant)")
        return (try row?.decode("entries", as: Int.self) ?? 0, try row?.decode("hits", as: Int64.self) ?? 0)
    }
}
