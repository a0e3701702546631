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

    /// Ranks the tenant's chunks for `query`.
    ///
    /// 1. Vector candidates from the tenant's in-memory index (loaded from storage on first use).
    /// 2. In one read snapshot: the tenant's generation, the lexical candidates, and the rows of
    ///    every candidate (a vector hit whose row is gone — deleted by another instance — drops
    ///    out here, so a result always exists in storage).
    /// 3. If storage is ahead of the index and no write of this process explains it, the index
    ///    is reloaded and the vector step repeated.
    /// 4. Reciprocal rank fusion (hybrid) or one ranking, then highlights.
    func searchDetailed(_ query: String, tenant: TenantID, topK: Int, mode: SearchMode) async throws -> SearchOutcome {
        let trimmed = query.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw RetrievalError.invalidQuery("query: must not be empty") }
        guard trimmed.unicodeScalars.count <= Self.maxQueryLength else {
            throw RetrievalError.invalidQuery("query: at most \(Self.maxQueryLength) characters")
        }
        guard (1...Self.maxTopK).contains(topK) else {
            throw RetrievalError.invalidQuery("top_k: must be between 1 and \(Self.maxTopK)")
        }
        let key = tenant.rawValue
        let candidates = Self.candidateCount(topK: topK)

        var queryVector: [Float]?
        if mode != .lexical, let vector = try await embed([trimmed], tenant: tenant).first, VectorMath.isUsable(vector) {
            queryVector = vector
        }
        let terms = mode == .vector ? [] : LexicalIndex.terms(for: trimmed)

        var index: TenantIndex?
        var vectorHits: [ScoredLabel] = []
        if let queryVector {
            let loaded = try await loadedIndex(key)
            index = loaded
            vectorHits = loaded.search(queryVector, k: candidates).results
        }

        let firstSeqs = vectorHits.map(\.label)
        var (generation, lexicalHits, rows) = try await database.read(tenant: key) { conn in
            let generation = try DocumentStore.generation(key, on: conn)
            let lexical = terms.isEmpty ? [] : try LexicalIndex.search(key, terms: terms, limit: candidates, on: conn)
            let rows = try DocumentStore.chunks(key, seqs: Array(Set(firstSeqs + lexical.map(\.seq))), on: conn)
            return (generation, lexical, rows)
        }

        if let queryVector, let current = index, current.isStale(comparedTo: generation) {
            metrics.increment("index_reloads_total", label: "behind_storage")
            let reloaded = try await indexes.ensureLoaded(key, force: true) { [self] in try await self.loadVectors(key) }
            vectorHits = reloaded.search(queryVector, k: candidates).results
            let missing = vectorHits.map(\.label).filter { rows[$0] == nil }
            if !missing.isEmpty {
                let more = try await database.read(tenant: key) { try DocumentStore.chunks(key, seqs: missing, on: $0) }
                rows.merge(more) { first, _ in first }
            }
        }

        let vectorList = vectorHits.filter { rows[$0.label] != nil }.map { (label: $0.label, score: Double($0.score)) }
        let lexicalList = lexicalHits.filter { rows[$0.seq] != nil }.map { (label: $0.seq, score: $0.score) }
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
        return SearchOutcome(hits: hits, generation: generation, vectorCandidates: vectorList.count, lexicalCandidates: lexicalList.count)
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
