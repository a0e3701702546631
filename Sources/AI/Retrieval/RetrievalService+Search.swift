// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Logging
import Storage

extension RetrievalService {
    /// What a search returns besides its hits.
    struct SearchOutcome: Sendable {
        var hits: [SearchHit]
        var generation: Int64
        var vectorCandidates: Int
        var lexicalCandidates: Int
    }

    /// Candidates taken from each ranking before fusion.
    static func candidateCount(topK: Int) -> Int { max(topK * 4, 40) }

    func search(_ query: String, tenant: TenantID, topK: Int, mode: SearchMode) async throws -> [SearchHit] {
        try await searchDetailed(query, tenant: tenant, topK: topK, mode: mode).hits
    }

    func search(_ query: QueryEmbedding, tenant: TenantID, topK: Int, mode: SearchMode) async throws -> [SearchHit] {
        try await searchDetailed(query.text, embedded: query, tenant: tenant, topK: topK, mode: mode).hits
    }

    func embedQuery(_ query: String, tenant: TenantID) async throws -> QueryEmbedding {
        let trimmed = try Self.validatedQuery(query)
        return QueryEmbedding(text: trimmed, vector: try await embed([trimmed], tenant: tenant).first, model: embedder.identifier)
    }

    /// The query trimmed; a 422 problem when it is empty or too long.
    static func validatedQuery(_ query: String) throws -> String {
        let trimmed = query.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw RetrievalError.invalidQuery("query: must not be empty") }
        guard trimmed.unicodeScalars.count <= Self.maxQueryLength else {
            throw RetrievalError.invalidQuery("query: at most \(Self.maxQueryLength) characters")
        }
        return trimmed
    }

    /// Ranks the tenant's chunks for `query`.
    ///
    /// 1. Vector candidates from the tenant's in-memory index (loaded from storage on first use).
    /// 2. In one read snapshot: the tenant's generation, the lexical candidates, reciprocal rank
    ///    fusion (hybrid) or one ranking, and the rows of the best `topK` only (a vector hit whose
    ///    row is gone — deleted by another instance — drops out and the ranking is made again, so
    ///    a result always exists in storage).
    /// 3. If storage is ahead of the index and no write of this process explains it, the index
    ///    is reloaded and the vector step and the ranking repeated.
    /// 4. Highlights.
    /// `embedded`, when given for the same text by the same embedder, is used instead of embedding again.
    func searchDetailed(_ query: String, embedded: QueryEmbedding? = nil, tenant: TenantID, topK: Int,
                        mode: SearchMode) async throws -> SearchOutcome {
        let trimmed = try Self.validatedQuery(query)
        guard (1...Self.maxTopK).contains(topK) else {
            throw RetrievalError.invalidQuery("top_k: must be between 1 and \(Self.maxTopK)")
        }
        let key = tenant.rawValue
        let candidates = Self.candidateCount(topK: topK)

        var queryVector: [Float]?
        if mode != .lexical {
            var vector = embedded.flatMap { $0.text == trimmed ? $0.vector(for: embedder) : nil }
            if vector == nil { vector = try await embed([trimmed], tenant: tenant).first }
            if let vector, VectorMath.isUsable(vector) { queryVector = vector }
        }
        let terms = mode == .vector ? [] : LexicalIndex.terms(for: trimmed)

        var index: TenantIndex?
        var vectorHits: [ScoredLabel] = []
        if let queryVector {
            let loaded = try await loadedIndex(key)
            index = loaded
            vectorHits = loaded.search(queryVector, k: candidates).results
        }

        let vectorFirst = vectorHits
        let (generation, lexicalHits, first) = try await database.read(tenant: key) { conn in
            let generation = try DocumentStore.generation(key, on: conn)
            let lexical = terms.isEmpty ? [] : try LexicalIndex.search(key, terms: terms, limit: candidates, on: conn)
            let ranking = try Self.rank(key, vector: vectorFirst, lexical: lexical, mode: mode, topK: topK, on: conn)
            return (generation, lexical, ranking)
        }
        var ranking = first

        if let queryVector, let current = index, current.isStale(comparedTo: generation) {
            metrics.increment("index_reloads_total", label: "behind_storage")
            let reloaded = try await indexes.ensureLoaded(key, force: true) { [self] in try await self.loadVectors(key) }
            let vectorAgain = reloaded.search(queryVector, k: candidates).results
            let lexical = lexicalHits
            ranking = try await database.read(tenant: key) { conn in
                try Self.rank(key, vector: vectorAgain, lexical: lexical, mode: mode, topK: topK, on: conn)
            }
        }
        let (ranked, rows) = (ranking.ranked, ranking.rows)

        let analyzer = TextAnalyzer.shared
        let queryTerms = Set(analyzer.terms(trimmed).filter { !TextAnalyzer.questionWords.contains($0) })
        let hits = ranked.prefix(topK).compactMap { item -> SearchHit? in
            guard let row = rows[item.label] else { return nil }
            return SearchHit(
                chunkID: row.id, documentID: row.documentID, title: row.title, text: row.text, ordinal: row.ordinal,
                start: row.start, end: row.end, score: item.score, vectorScore: item.vectorScore,
                lexicalScore: item.lexicalScore, highlights: Highlighter.snippets(text: row.text, queryTerms: queryTerms),
                metadata: row.metadata)
        }
        metrics.increment("searches_total", label: mode.rawValue)
        return SearchOutcome(hits: hits, generation: generation, vectorCandidates: ranking.vectorCandidates,
                             lexicalCandidates: ranking.lexicalCandidates)
    }

    /// A ranking and the rows of its best `topK`.
    struct Ranking: Sendable {
        var ranked: [HybridRanker.Fused]
        var rows: [Int64: ChunkRecord]
        var vectorCandidates: Int
        var lexicalCandidates: Int
    }

    /// Ranks the candidates (fused for `hybrid`) and reads the rows of the best `topK` only, in the
    /// caller's snapshot: the rest of the candidates is never read. A candidate whose row is gone
    /// (a vector hit deleted by another instance since this index saw it) leaves its list before
    /// fusion, exactly as if it had never been found, and the ranking is made again without it.
    static func rank(_ tenant: String, vector: [ScoredLabel], lexical: [(seq: Int64, score: Double)], mode: SearchMode, topK: Int,
                     on conn: any Connection) throws -> Ranking {
        var vectorList = vector.map { (label: $0.label, score: Double($0.score)) }
        var lexicalList = lexical.map { (label: $0.seq, score: $0.score) }
        var rows: [Int64: ChunkRecord] = [:]
        while true {
            let ranked: [HybridRanker.Fused]
            switch mode {
            case .hybrid:
                ranked = HybridRanker.fuse(vector: vectorList, lexical: lexicalList)
            case .vector:
                ranked = vectorList.enumerated().map {
                    HybridRanker.Fused(label: $1.label, score: $1.score, vectorRank: $0 + 1, vectorScore: $1.score)
                }
            case .lexical:
                ranked = lexicalList.enumerated().map {
                    HybridRanker.Fused(label: $1.label, score: $1.score, lexicalRank: $0 + 1, lexicalScore: $1.score)
                }
            }
            let unread = ranked.prefix(topK).map(\.label).filter { rows[$0] == nil }
            if !unread.isEmpty { rows.merge(try DocumentStore.chunks(tenant, seqs: unread, on: conn)) { first, _ in first } }
            let gone = Set(unread.filter { rows[$0] == nil })
            if gone.isEmpty {
                return Ranking(ranked: ranked, rows: rows, vectorCandidates: vectorList.count, lexicalCandidates: lexicalList.count)
            }
            vectorList.removeAll { gone.contains($0.label) }
            lexicalList.removeAll { gone.contains($0.label) }
        }
    }

    /// The tenant's index, loaded from storage if this process has not loaded it yet.
    func loadedIndex(_ tenant: String) async throws -> TenantIndex {
        try await indexes.ensureLoaded(tenant) { [self] in try await self.loadVectors(tenant) }
    }

    /// Reads every vector of the tenant. Chunks embedded by another model are embedded again with
    /// the current one and written back first (a model change must not mix incomparable vectors).
    func loadVectors(_ tenant: String) async throws -> (generation: Int64, vectors: [(seq: Int64, vector: [Float])]) {
        let model = embedder.identifier
        let dimensions = embedder.dimensions
        let started = ContinuousClock.now
        var stored = try await database.read(tenant: tenant) { conn in
            try DocumentStore.loadVectors(tenant, model: model, dimensions: dimensions, on: conn)
        }
        if !stored.stale.isEmpty, let tenantID = TenantID(tenant) {
            let stale = stored.stale
            let vectors = try await embed(stale.map { $0.title + "\n" + $0.text }, tenant: tenantID)
            let replacements = zip(stale, vectors).map { (seq: $0.seq, vector: $1) }
            let stamp = now()
            try await database.transaction(tenant: tenant) { conn in
                _ = try DocumentStore.lockTenant(tenant, now: stamp, on: conn)
                _ = try DocumentStore.replaceVectors(tenant, replacements, model: model, on: conn)
                _ = try DocumentStore.bumpGeneration(tenant, now: stamp, on: conn)
                try CacheStore.deleteAll(tenant, on: conn)
            }
            metrics.increment("chunks_reembedded_total", by: Int64(replacements.count))
            logger.info("ai.index.reembedded", metadata: ["tenant.id": "\(tenant)", "ai.chunks": "\(replacements.count)", "ai.model": "\(model)"])
            stored = try await database.read(tenant: tenant) { conn in
                try DocumentStore.loadVectors(tenant, model: model, dimensions: dimensions, on: conn)
            }
        }
        metrics.increment("index_loads_total")
        let elapsed = ContinuousClock.now - started
        logger.debug("ai.index.loaded", metadata: [
            "tenant.id": "\(tenant)", "ai.chunks": "\(stored.vectors.count)", "ai.generation": "\(stored.generation)",
            "duration_ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ])
        return (stored.generation, stored.vectors)
    }
}
