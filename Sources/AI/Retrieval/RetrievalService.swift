// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Logging
import Storage

/// The outcome of ingesting one document.
struct IngestResult: Sendable {
    enum Status: String, Sendable, Codable {
        case created, updated, unchanged
    }
    var document: DocumentRecord
    var status: Status
}

/// Documents, chunks, embeddings and search for every tenant: the retrieval half of the AI
/// module, behind its routes, ``Retriever`` and the semantic cache's invalidation.
///
/// Write path: validate → chunk and embed (outside any transaction; a remote embedder may take
/// seconds) → one transaction that locks the tenant's generation row, writes documents, chunks,
/// vectors and lexical entries, deletes the tenant's semantic cache entries and advances the
/// generation → after commit, the in-memory index applies the change and the cache forgets its
/// copies. A crash before the commit leaves nothing; a crash after it leaves rows that the next
/// load of the index reads. So storage and search never disagree after a restart.
final class RetrievalService: Retriever, Sendable {
    let database: any Database
    let configuration: RetrievalConfiguration
    let embedder: any Embedder
    let chunker: Chunker
    let indexes: IndexRegistry
    let cache: StoredSemanticCache
    let metrics: RetrievalMetrics
    let logger: Logger
    let usageMeter: (any UsageMeter)?
    let now: @Sendable () -> Date

    init(database: any Database, configuration: RetrievalConfiguration, embedder: any Embedder, cache: StoredSemanticCache,
         metrics: RetrievalMetrics, logger: Logger, usageMeter: (any UsageMeter)?, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.configuration = configuration
        self.embedder = embedder
        self.chunker = Chunker(maxCharacters: configuration.chunkSize, overlapCharacters: configuration.chunkOverlap)
        self.indexes = IndexRegistry(policy: IndexPolicy(
            dimensions: embedder.dimensions, hnswThreshold: configuration.hnswThreshold, parameters: configuration.hnswParameters))
        self.cache = cache
        self.metrics = metrics
        self.logger = logger
        self.usageMeter = usageMeter
        self.now = now
    }

    // MARK: Validation

    /// A document checked and ready: its id, hashes and size.
    struct Prepared: Sendable {
        var id: String
        var title: String
        var text: String
        var metadata: JSONValue
        var contentHash: String
        var metadataHash: String
        var byteCount: Int
    }

    static let maxTitleLength = 500
    static let maxMetadataBytes = 64 * 1024
    static let maxQueryLength = 4000
    static let maxTopK = 100

    /// Whether `id` can name a document: 1–128 of `A–Z a–z 0–9 . _ : -`, starting with a letter or digit.
    static func isValidDocumentID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...128).contains(bytes.count) else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        }
        return alphanumeric(bytes[0]) && bytes.allSatisfy { alphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x3A || $0 == 0x2D }
    }

    func prepare(_ input: DocumentInput, field: String = "") throws -> Prepared {
        let title = input.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty else { throw RetrievalError.invalidDocument("\(field)title: must not be empty") }
        guard title.unicodeScalars.count <= Self.maxTitleLength else {
            throw RetrievalError.invalidDocument("\(field)title: at most \(Self.maxTitleLength) characters")
        }
        let byteCount = input.text.utf8.count
        guard byteCount <= configuration.maxDocumentBytes else {
            throw RetrievalError.tooLarge("\(field)text: \(byteCount) bytes; at most \(configuration.maxDocumentBytes) bytes per document")
        }
        guard input.text.contains(where: { !$0.isWhitespace }) else {
            throw RetrievalError.invalidDocument("\(field)text: must contain some text")
        }
        // PostgreSQL text cannot hold U+0000 (and jsonb refuses \u0000): refuse it everywhere.
        guard !input.text.unicodeScalars.contains("\u{0}") else {
            throw RetrievalError.invalidDocument("\(field)text: must not contain NUL characters")
        }
        guard !title.unicodeScalars.contains("\u{0}") else {
            throw RetrievalError.invalidDocument("\(field)title: must not contain NUL characters")
        }
        let metadata = input.metadata ?? .emptyObject
        guard metadata.isObject else { throw RetrievalError.invalidDocument("\(field)metadata: must be a JSON object") }
        guard metadata.depth <= 16 else { throw RetrievalError.invalidDocument("\(field)metadata: nested more than 16 levels") }
        let metadataText = metadata.jsonText
        guard !metadata.containsNUL else { throw RetrievalError.invalidDocument("\(field)metadata: must not contain NUL characters") }
        guard metadataText.utf8.count <= Self.maxMetadataBytes else {
            throw RetrievalError.invalidDocument("\(field)metadata: at most \(Self.maxMetadataBytes) bytes of JSON")
        }
        let contentHash = StableHash.hex128(title + "\u{0}" + input.text)
        let id: String
        if let given = input.id {
            guard Self.isValidDocumentID(given) else {
                throw RetrievalError.invalidDocument(
                    "\(field)id: 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit")
            }
            id = given
        } else {
            id = "doc_" + contentHash
        }
        return Prepared(id: id, title: title, text: input.text, metadata: metadata, contentHash: contentHash,
                        metadataHash: StableHash.hex128(metadataText), byteCount: byteCount)
    }

    // MARK: Ingest

    /// Thrown inside a transaction when a document changed between the pre-read and the write,
    /// so its new text was never embedded; the ingest starts over.
    private struct ChangedMeanwhile: Error {}

    /// Stores `inputs` for `tenant` in one transaction. Documents whose title and text are already
    /// stored under the same id are left alone (their metadata is updated if it differs).
    func ingest(_ inputs: [DocumentInput], tenant: TenantID) async throws -> [IngestResult] {
        guard !inputs.isEmpty else { throw RetrievalError.invalidDocument("documents: at least one document is required") }
        guard inputs.count <= configuration.maxBatchDocuments else {
            throw RetrievalError.tooLarge("documents: at most \(configuration.maxBatchDocuments) documents per request")
        }
        let prepared = try inputs.enumerated().map { index, input in
            try prepare(input, field: inputs.count > 1 ? "documents[\(index)]." : "")
        }
        var seen = Set<String>()
        for document in prepared where !seen.insert(document.id).inserted {
            throw RetrievalError.invalidDocument("documents: the id '\(document.id)' appears twice in one request")
        }
        for attempt in 1...3 {
            do {
                return try await ingestOnce(prepared, tenant: tenant)
            } catch is ChangedMeanwhile where attempt < 3 {
                continue
            }
        }
        throw RetrievalError(status: 409, code: "concurrent_update", detail: "the documents changed while being stored; try again")
    }

    private func ingestOnce(_ prepared: [Prepared], tenant: TenantID) async throws -> [IngestResult] {
        let key = tenant.rawValue
        let ids = prepared.map(\.id)
        let existing = try await database.read(tenant: key) { conn in
            try DocumentStore.hashes(key, ids: ids, on: conn).mapValues { $0.content }
        }

        // Chunk and embed every document whose text is new.
        var chunked: [String: [Chunker.Chunk]] = [:]
        var texts: [String] = []
        for document in prepared where existing[document.id] != document.contentHash {
            let chunks = chunker.chunks(of: document.text)
            chunked[document.id] = chunks
            texts.append(contentsOf: chunks.map { document.title + "\n" + $0.text })
        }
        let vectors = try await embed(texts, tenant: tenant)
        var newChunks: [String: [NewChunk]] = [:]
        var offset = 0
        for document in prepared {
            guard let chunks = chunked[document.id] else { continue }
            newChunks[document.id] = chunks.map { chunk in
                NewChunk(id: "\(document.id):\(chunk.ordinal)", ordinal: chunk.ordinal, text: chunk.text,
                         start: chunk.start, end: chunk.end, embedding: vectors[offset + chunk.ordinal])
            }
            offset += chunks.count
        }

        let index = indexes.index(for: key)
        index.beginWrite()
        defer { index.endWrite() }
        let stamp = now()
        let model = embedder.identifier
        let cache = self.cache
        let embedded = newChunks
        let results: [IngestResult] = try await database.transaction(tenant: key) { conn in
            _ = try DocumentStore.lockTenant(key, now: stamp, on: conn)
            let current = try DocumentStore.hashes(key, ids: ids, on: conn)
            var results: [IngestResult] = []
            var removed: [Int64] = []
            var added: [(seq: Int64, vector: [Float])] = []
            var changed = false
            for document in prepared {
                var record = DocumentRecord(
                    id: document.id, title: document.title, text: document.text, metadata: document.metadata,
                    contentHash: document.contentHash, metadataHash: document.metadataHash, chunkCount: 0,
                    byteCount: document.byteCount, createdAt: stamp, updatedAt: stamp)
                if let stored = current[document.id], stored.content == document.contentHash {
                    if stored.metadata == document.metadataHash {
                        results.append(IngestResult(document: try DocumentStore.document(key, id: document.id, withText: false, on: conn) ?? record,
                                                    status: .unchanged))
                    } else {
                        try DocumentStore.updateMetadata(key, id: document.id, metadata: document.metadata,
                                                         metadataHash: document.metadataHash, now: stamp, on: conn)
                        changed = true
                        results.append(IngestResult(document: try DocumentStore.document(key, id: document.id, withText: false, on: conn) ?? record,
                                                    status: .updated))
                    }
                    continue
                }
                guard let chunks = embedded[document.id] else { throw ChangedMeanwhile() }
                let replacing = current[document.id] != nil
                if replacing { removed += try DocumentStore.deleteChunks(key, documentID: document.id, on: conn) }
                record.chunkCount = chunks.count
                try DocumentStore.upsert(key, record, on: conn)
                added += try DocumentStore.insertChunks(key, documentID: document.id, title: document.title, chunks: chunks,
                                                        model: model, on: conn)
                changed = true
                let stored = try DocumentStore.document(key, id: document.id, withText: false, on: conn) ?? record
                results.append(IngestResult(document: stored, status: replacing ? .updated : .created))
            }
            if changed {
                let generation = try DocumentStore.bumpGeneration(key, now: stamp, on: conn)
                try CacheStore.deleteAll(key, on: conn)
                let delta = IndexDelta(generation: generation, removed: removed, added: added)
                conn.afterCommit {
                    index.apply(delta)
                    cache.documentsChanged(key, generation: generation)
                }
            }
            return results
        }
        for result in results {
            metrics.increment("documents_ingested_total", label: result.status.rawValue)
            if result.status != .unchanged { metrics.increment("chunks_indexed_total", by: Int64(newChunks[result.document.id]?.count ?? 0)) }
        }
        return results
    }

    /// Embeds `texts` (nothing for an empty list), maps provider failures to problems and meters
    /// the tokens a remote provider charged.
    func embed(_ texts: [String], tenant: TenantID) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let result: Embeddings
        do {
            result = try await embedder.embed(texts)
        } catch let error as EmbeddingError {
            metrics.increment("embedding_errors_total")
            logger.warning("ai.embedding_failed", metadata: ["tenant.id": "\(tenant.rawValue)", "error": "\(error.description)"])
            throw RetrievalError.embedding(error)
        }
        guard result.vectors.count == texts.count, result.vectors.allSatisfy({ $0.count == embedder.dimensions }) else {
            metrics.increment("embedding_errors_total")
            throw RetrievalError.embedding(EmbeddingError(reason: "the embedder returned the wrong number or size of vectors", transient: false))
        }
        metrics.increment("embedding_requests_total")
        if result.tokens > 0, let usageMeter {
            do {
                try await usageMeter.record(UsageRecord(tenant: tenant, source: "ai.embeddings", tokens: Int64(result.tokens)))
            } catch {
                logger.warning("ai.embedding_usage_not_recorded", metadata: ["tenant.id": "\(tenant.rawValue)", "error": "\(error)"])
            }
        }
        return result.vectors
    }

    // MARK: Read and delete

    /// A document with its text and chunks, or `nil` when the tenant has none under `id`.
    func document(_ id: String, tenant: TenantID) async throws -> (document: DocumentRecord, chunks: [ChunkRecord])? {
        guard Self.isValidDocumentID(id) else { return nil }
        let key = tenant.rawValue
        return try await database.read(tenant: key) { conn in
            guard let document = try DocumentStore.document(key, id: id, on: conn) else { return nil }
            return (document, try DocumentStore.chunks(key, documentID: id, on: conn))
        }
    }

    /// A page of the tenant's documents, newest first, the cursor of the next page, and the total.
    func documents(tenant: TenantID, limit: Int, cursor: String?) async throws -> (documents: [DocumentRecord], next: String?, total: Int) {
        let position = try cursor.map(Self.decodeCursor)
        let key = tenant.rawValue
        return try await database.read(tenant: key) { conn in
            let page = try DocumentStore.list(key, limit: limit + 1, after: position, on: conn)
            let total = try DocumentStore.counts(key, on: conn).documents
            let shown = Array(page.prefix(limit))
            let next = page.count > limit ? shown.last.map(Self.encodeCursor) : nil
            return (shown, next, total)
        }
    }

    /// Deletes a document from storage, the lexical index, the vector index and the tenant's
    /// semantic cache; returns whether it existed.
    func delete(_ id: String, tenant: TenantID) async throws -> Bool {
        guard Self.isValidDocumentID(id) else { return false }
        let key = tenant.rawValue
        let index = indexes.index(for: key)
        let cache = self.cache
        let stamp = now()
        index.beginWrite()
        defer { index.endWrite() }
        let removed: Int? = try await database.transaction(tenant: key) { conn in
            _ = try DocumentStore.lockTenant(key, now: stamp, on: conn)
            guard let seqs = try DocumentStore.deleteDocument(key, id: id, on: conn) else { return nil }
            let generation = try DocumentStore.bumpGeneration(key, now: stamp, on: conn)
            try CacheStore.deleteAll(key, on: conn)
            let delta = IndexDelta(generation: generation, removed: seqs, added: [])
            conn.afterCommit {
                index.apply(delta)
                cache.documentsChanged(key, generation: generation)
            }
            return seqs.count
        }
        guard removed != nil else { return false }
        metrics.increment("documents_deleted_total")
        return true
    }

    func generation(of tenant: TenantID) async throws -> Int64 {
        let key = tenant.rawValue
        return try await database.read(tenant: key) { try DocumentStore.generation(key, on: $0) }
    }

    // MARK: Cursor

    /// `base64url("<created_at ms>:<id>")`: opaque to clients, checked on the way back.
    static func encodeCursor(_ document: DocumentRecord) -> String {
        let millis = Int64((document.createdAt.timeIntervalSince1970 * 1000).rounded(.down))
        return Data("\(millis):\(document.id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ text: String) throws -> (createdAt: Date, id: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard text.count <= 400, let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8),
              let colon = decoded.firstIndex(of: ":"), let millis = Int64(decoded[..<colon]),
              isValidDocumentID(String(decoded[decoded.index(after: colon)...])) else {
            throw RetrievalError.badRequest("cursor: not a cursor this API returned", code: "invalid_cursor")
        }
        return (Date(timeIntervalSince1970: Double(millis) / 1000), String(decoded[decoded.index(after: colon)...]))
    }
}
