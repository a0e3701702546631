// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Logging
import Storage

/// The ``SemanticCache`` over `ai_semantic_cache`, with an in-memory mirror of each tenant's
/// live entries (ids and question vectors, not answers) so a lookup is one scan, not a query per
/// entry.
///
/// Storage decides: a lookup reads the tenant's current document generation, the mirror is used
/// only when it was filled at that generation, and a hit is confirmed by reading the entry with
/// the tenant's generation in one statement, re-checking expiry and generation. So another
/// instance's writes, an expiry or an invalidation can make a lookup miss, never return a stale
/// answer. Hits are counted (`hits`, `last_hit_at`) by ``CacheHitCounter``, off the lookup's path.
final class StoredSemanticCache: SemanticCache, @unchecked Sendable {
    // @unchecked: `mirrors` is only touched while `lock` is held; the rest is immutable.
    let database: any Database
    let embedder: any Embedder
    let configuration: SemanticCacheConfiguration
    let metrics: RetrievalMetrics
    let logger: Logger
    let now: @Sendable () -> Date

    private struct Mirror {
        var generation: Int64
        var entries: [CacheEntrySummary]
    }

    private let lock = NSLock()
    private var mirrors: [String: Mirror] = [:]
    let hits: CacheHitCounter

    init(database: any Database, embedder: any Embedder, configuration: SemanticCacheConfiguration, metrics: RetrievalMetrics,
         logger: Logger, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.embedder = embedder
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.now = now
        hits = CacheHitCounter(database: database, logger: logger)
    }

    var isEnabled: Bool { configuration.isEnabled }

    /// The question as compared for identity: trimmed, white space collapsed, lower-cased.
    static func normalize(_ question: String) -> String {
        question.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ").lowercased()
    }

    func lookup(_ question: String, tenant: TenantID) async throws -> SemanticCacheLookup {
        try await lookup(question, vector: nil, tenant: tenant)
    }

    func lookup(_ query: QueryEmbedding, tenant: TenantID) async throws -> SemanticCacheLookup {
        try await lookup(query.text, vector: query.vector(for: embedder), tenant: tenant)
    }

    private func lookup(_ question: String, vector given: [Float]?, tenant: TenantID) async throws -> SemanticCacheLookup {
        let normalized = Self.normalize(question)
        guard !normalized.isEmpty else { throw RetrievalError.invalidQuery("question: must not be empty") }
        guard normalized.unicodeScalars.count <= RetrievalService.maxQueryLength else {
            throw RetrievalError.invalidQuery("question: at most \(RetrievalService.maxQueryLength) characters")
        }
        guard !question.unicodeScalars.contains("\u{0}") else {
            throw RetrievalError.invalidQuery("question: must not contain NUL characters")
        }
        let key = tenant.rawValue
        let vector: [Float]
        if let given { vector = given } else { vector = try await embedQuestion(question) }
        let model = embedder.identifier
        let dimensions = embedder.dimensions
        let stamp = now()
        let mirrored = lock.withLock { mirrors[key] }
        let enabled = isEnabled
        let (generation, loaded): (Int64, [CacheEntrySummary]?) = try await database.read(tenant: key) { conn in
            let generation = try DocumentStore.generation(key, on: conn)
            guard enabled else { return (generation, []) }
            if let mirrored, mirrored.generation == generation { return (generation, nil) }
            return (generation, try CacheStore.entries(key, generation: generation, model: model, dimensions: dimensions, now: stamp, on: conn))
        }
        let missKey = SemanticCacheKey(tenant: tenant, question: question, generation: generation, embedding: vector, model: model)
        guard enabled else { return .miss(missKey) }

        let entries: [CacheEntrySummary]
        if let loaded {
            entries = loaded
            lock.withLock {
                if (mirrors[key]?.generation ?? -1) <= generation { mirrors[key] = Mirror(generation: generation, entries: loaded) }
            }
        } else {
            entries = mirrored?.entries ?? []
        }

        var best: (entry: CacheEntrySummary, similarity: Float)?
        for entry in entries where entry.expiresAt > stamp && entry.embedding.count == vector.count {
            let similarity = VectorMath.dot(vector, entry.embedding)
            if similarity > (best?.similarity ?? -.infinity) { best = (entry, similarity) }
        }
        guard let best, Double(best.similarity) >= configuration.similarityThreshold else {
            metrics.increment("semantic_cache_misses_total")
            return .miss(missKey)
        }

        // Confirmed by a read: the entry is still stored, live, and of the generation the tenant's
        // documents are at in that snapshot. The hit is counted off this path (CacheHitCounter).
        let id = best.entry.id
        while true {
            let epoch = await hits.epochBeforeRead()
            let row = try await database.read(tenant: key) { conn in
                try Self.liveEntry(key, id: id, now: stamp, on: conn)
            }
            guard let row, try row.decode("generation", as: Int64.self) == generation,
                  try row.decode("current_generation", as: Int64?.self) ?? 0 == generation else {
                lock.withLock { mirrors[key]?.entries.removeAll { $0.id == id } }
                metrics.increment("semantic_cache_misses_total")
                return .miss(missKey)
            }
            guard let unwritten = hits.add(tenant: key, id: id, generation: generation, at: stamp, readAt: epoch) else { continue }
            metrics.increment("semantic_cache_hits_total")
            return .hit(SemanticCacheHit(
                question: try row.decode("question"), answer: try row.decode("answer"),
                metadata: JSONValue(jsonText: try row.decode("metadata", as: String.self)) ?? .emptyObject,
                similarity: Double(best.similarity), hits: try row.decode("hits", as: Int64.self) + unwritten,
                createdAt: try row.decode("created_at"), expiresAt: try row.decode("expires_at"), generation: generation))
        }
    }

    /// The entry if it is live, with the tenant's current generation read in the same statement.
    private static func liveEntry(_ tenant: String, id: String, now: Date, on conn: any Connection) throws -> Row? {
        try conn.queryFirst("""
            SELECT question, answer, metadata, hits, created_at, expires_at, generation, \
            (SELECT generation FROM ai_tenant_state WHERE tenant_id = \(tenant)) AS current_generation \
            FROM ai_semantic_cache WHERE tenant_id = \(tenant) AND id = \(id) AND expires_at > \(now)
            """)
    }

    func store(_ answer: String, metadata: JSONValue?, for key: SemanticCacheKey) async throws -> Bool {
        guard isEnabled else { return false }
        guard key.model == embedder.identifier else { return false }
        let metadata = metadata ?? .emptyObject
        guard answer.utf8.count <= 1_048_576 else { throw RetrievalError.invalidDocument("answer: at most 1 MiB") }
        guard !answer.unicodeScalars.contains("\u{0}"), !metadata.containsNUL else {
            throw RetrievalError.invalidDocument("answer: must not contain NUL characters")
        }
        let tenant = key.tenant.rawValue
        let id = "qa_" + StableHash.hex128(Self.normalize(key.question))
        let stamp = now()
        let expires = stamp.addingTimeInterval(configuration.ttl)
        let keep = configuration.maxEntriesPerTenant
        let stored: Bool = try await database.transaction(tenant: tenant) { [self] conn in
            guard try DocumentStore.generation(tenant, on: conn) == key.generation else { return false }
            try CacheStore.upsert(tenant, id: id, question: key.question, answer: answer, metadata: metadata,
                                  embedding: key.embedding, model: key.model, generation: key.generation, now: stamp,
                                  expiresAt: expires, on: conn)
            let pruned = try CacheStore.prune(tenant, generation: key.generation, keep: keep, now: stamp, on: conn)
            let entry = CacheEntrySummary(id: id, embedding: key.embedding, expiresAt: expires)
            conn.afterCommit { [self] in
                lock.withLock {
                    guard var mirror = mirrors[tenant], mirror.generation == key.generation else { return }
                    if pruned > 0 {
                        mirrors[tenant] = nil
                        return
                    }
                    mirror.entries.removeAll { $0.id == id }
                    mirror.entries.append(entry)
                    mirrors[tenant] = mirror
                }
            }
            return true
        }
        if stored { metrics.increment("semantic_cache_stores_total") }
        return stored
    }

    func invalidate(tenant: TenantID) async throws {
        let key = tenant.rawValue
        try await database.transaction(tenant: key) { try CacheStore.deleteAll(key, on: $0) }
        lock.withLock { mirrors[key] = nil }
        metrics.increment("semantic_cache_invalidations_total")
    }

    /// Called after a commit that changed the tenant's documents (which also deleted its entries).
    func documentsChanged(_ tenant: String, generation: Int64) {
        lock.withLock {
            if (mirrors[tenant]?.generation ?? -1) < generation { mirrors[tenant] = Mirror(generation: generation, entries: []) }
        }
        metrics.increment("semantic_cache_invalidations_total")
    }

    /// Entries and hits stored for a tenant.
    func stats(tenant: TenantID) async throws -> (entries: Int, hits: Int64) {
        await hits.flush()
        let key = tenant.rawValue
        return try await database.read(tenant: key) { try CacheStore.stats(key, on: $0) }
    }

    private func embedQuestion(_ question: String) async throws -> [Float] {
        do {
            guard let vector = try await embedder.embed([question]).vectors.first, vector.count == embedder.dimensions else {
                throw EmbeddingError(reason: "the embedder returned no vector", transient: false)
            }
            return vector
        } catch let error as EmbeddingError {
            metrics.increment("embedding_errors_total")
            throw RetrievalError.embedding(error)
        }
    }
}
