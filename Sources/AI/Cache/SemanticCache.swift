// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation

/// A tenant's cache of answers, keyed by the meaning of the question: a question whose
/// embedding is within ``SemanticCacheConfiguration/similarityThreshold`` of a cached question's
/// gets that question's answer.
///
/// Entries expire after ``SemanticCacheConfiguration/ttl``, and all of a tenant's entries are
/// dropped when its documents change (an answer computed from old documents must not outlive
/// them). A store made with a ``SemanticCacheKey`` whose generation is no longer current is
/// ignored, so an answer computed while the documents changed is never cached.
///
/// ```swift
/// switch try await cache.lookup(question, tenant: tenant) {
/// case .hit(let hit):
///     return hit.answer
/// case .miss(let key):
///     let answer = try await llm.answer(question, context: try await retriever.search(…))
///     try await cache.store(answer, metadata: nil, for: key)
///     return answer
/// }
/// ```
public protocol SemanticCache: Sendable {
    /// Whether lookups can hit (`ATLAS_AI_ENABLE_SEMANTIC_CACHE`); when disabled every lookup
    /// misses and stores do nothing.
    var isEnabled: Bool { get }

    /// The closest cached answer for `question`, or a key to store the answer under.
    func lookup(_ question: String, tenant: TenantID) async throws -> SemanticCacheLookup

    /// ``lookup(_:tenant:)`` for a question already embedded (``Retriever/embedQuery(_:tenant:)``):
    /// its vector is used when the cache's embedder made it.
    func lookup(_ query: QueryEmbedding, tenant: TenantID) async throws -> SemanticCacheLookup

    /// Caches `answer` for the question of `key`; returns `false` when nothing was stored
    /// (disabled, or the tenant's documents changed since the lookup).
    @discardableResult
    func store(_ answer: String, metadata: JSONValue?, for key: SemanticCacheKey) async throws -> Bool

    /// Drops every entry of `tenant`.
    func invalidate(tenant: TenantID) async throws
}

extension SemanticCache {
    public func lookup(_ query: QueryEmbedding, tenant: TenantID) async throws -> SemanticCacheLookup {
        try await lookup(query.text, tenant: tenant)
    }
}

/// The result of ``SemanticCache/lookup(_:tenant:)``.
public enum SemanticCacheLookup: Sendable {
    case hit(SemanticCacheHit)
    case miss(SemanticCacheKey)

    /// The hit, if any.
    public var hit: SemanticCacheHit? {
        if case .hit(let hit) = self { return hit }
        return nil
    }

    /// The tenant's document generation the lookup saw: a hit's entry belongs to it.
    public var generation: Int64 {
        switch self {
        case .hit(let hit): hit.generation
        case .miss(let key): key.generation
        }
    }
}

/// A cached answer.
public struct SemanticCacheHit: Sendable, Hashable {
    /// The cached question that matched.
    public var question: String
    public var answer: String
    public var metadata: JSONValue
    /// Cosine similarity of the asked and the cached question.
    public var similarity: Double
    /// Answers served from this entry, this one included.
    public var hits: Int64
    public var createdAt: Date
    public var expiresAt: Date
    /// The tenant's document generation the entry was stored at and confirmed against: its
    /// documents have not changed since the answer was computed.
    public var generation: Int64
}

/// What a miss hands back to store the answer under: the question, its embedding and the
/// document generation the answer will be computed against.
public struct SemanticCacheKey: Sendable, Hashable {
    public let tenant: TenantID
    public let question: String
    /// The tenant's document generation at lookup time.
    public let generation: Int64
    let embedding: [Float]
    let model: String
}

/// Settings of the semantic cache:
///
/// | variable | default | meaning |
/// | --- | --- | --- |
/// | `ATLAS_AI_ENABLE_SEMANTIC_CACHE` | `true` | whether the cache answers at all |
/// | `ATLAS_AI_CACHE_SIMILARITY` | `0.70` | least cosine similarity of two questions for a hit (calibrated for the built-in embedder, see bench/RESULTS.md) |
/// | `ATLAS_AI_CACHE_TTL` | `3600` | seconds an answer stays valid |
/// | `ATLAS_AI_CACHE_MAX_ENTRIES` | `1000` | entries kept per tenant; the oldest go first |
public struct SemanticCacheConfiguration: Sendable {
    /// The threshold chosen on the labelled paraphrase pairs of `Tests/AITests/Fixtures`: the
    /// highest recall whose precision is at least 0.95 (bench/RESULTS.md, "Retrieval").
    public static let calibratedThreshold = 0.70

    public var isEnabled: Bool
    public var similarityThreshold: Double
    public var ttl: TimeInterval
    public var maxEntriesPerTenant: Int

    public init(isEnabled: Bool = true, similarityThreshold: Double = SemanticCacheConfiguration.calibratedThreshold,
                ttl: TimeInterval = 3600, maxEntriesPerTenant: Int = 1000) {
        self.isEnabled = isEnabled
        self.similarityThreshold = similarityThreshold
        self.ttl = ttl
        self.maxEntriesPerTenant = max(1, maxEntriesPerTenant)
    }

    /// Reads the variables in the table above; throws ``ConfigurationError`` naming the variable.
    public init(environment: EnvironmentReader) throws {
        self.init(
            isEnabled: try environment.bool("ATLAS_AI_ENABLE_SEMANTIC_CACHE", default: true),
            similarityThreshold: try environment.double("ATLAS_AI_CACHE_SIMILARITY", default: Self.calibratedThreshold, in: 0.1...1.0),
            ttl: try environment.double("ATLAS_AI_CACHE_TTL", default: 3600, in: 1...(30 * 86_400)),
            maxEntriesPerTenant: try environment.int("ATLAS_AI_CACHE_MAX_ENTRIES", default: 1000, in: 1...1_000_000))
    }
}
