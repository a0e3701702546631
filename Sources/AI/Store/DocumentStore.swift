// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// A stored document, as listed or read.
struct DocumentRecord: Sendable {
    var id: String
    var title: String
    /// `nil` when the listing did not load it.
    var text: String?
    var metadata: JSONValue
    var contentHash: String
    var metadataHash: String
    var chunkCount: Int
    var byteCount: Int
    var createdAt: Date
    var updatedAt: Date
}

/// A chunk ready to be stored: its text, position and vector.
struct NewChunk: Sendable {
    var id: String
    var ordinal: Int
    var text: String
    var start: Int
    var end: Int
    var embedding: [Float]
}

/// A stored chunk with its document's title and metadata, as search returns it.
struct ChunkRecord: Sendable {
    var seq: Int64
    var id: String
    var documentID: String
    var ordinal: Int
    var title: String
    var text: String
    var start: Int
    var end: Int
    var metadata: JSONValue
}

/// What loading a tenant's vectors found: the generation they belong to, the usable vectors, and
/// chunks whose vectors were made by another model (or are damaged) and must be embedded again.
struct StoredVectors: Sendable {
    var generation: Int64
    var vectors: [(seq: Int64, vector: [Float])]
    var stale: [(seq: Int64, title: String, text: String)]
}

/// The SQL of documents, chunks and the per-tenant generation. Every function takes the tenant
/// first and runs on a connection the caller opened with `read(tenant:)`/`transaction(tenant:)`.
///
/// The generation (`ai_tenant_state.generation`) counts committed changes to a tenant's
/// documents. Writers lock the tenant's row first (``lockTenant(_:now:on:)``), so writes to one
/// tenant are serialised and each committed change has its own generation; the in-memory index
/// and the semantic cache compare it with what they hold.
enum DocumentStore {
    // MARK: Generation

    /// Creates the tenant's state row if needed, locks it for the rest of the transaction
    /// (PostgreSQL `FOR UPDATE`; SQLite's writer already excludes other writers) and returns the
    /// current generation.
    static func lockTenant(_ tenant: String, now: Date, on conn: any Connection) throws -> Int64 {
        try conn.execute("""
            INSERT INTO ai_tenant_state (tenant_id, generation, updated_at) VALUES (\(tenant), 0, \(now)) \
            ON CONFLICT (tenant_id) DO NOTHING
            """)
        let generation = try conn.queryScalar(
            "SELECT generation FROM ai_tenant_state WHERE tenant_id = \(tenant) \(conn.dialect.forUpdate)", as: Int64.self)
        return generation ?? 0
    }

    /// Advances the generation; returns the new value.
    static func bumpGeneration(_ tenant: String, now: Date, on conn: any Connection) throws -> Int64 {
        let generation = try conn.queryScalar("""
            UPDATE ai_tenant_state SET generation = generation + 1, updated_at = \(now) \
            WHERE tenant_id = \(tenant) RETURNING generation
            """, as: Int64.self)
        guard let generation else {
            throw StorageError(StorageError.misuse, "bumpGeneration called without lockTenant")
        }
        return generation
    }

    /// The current generation (0 before the first change).
    static func generation(_ tenant: String, on conn: any Connection) throws -> Int64 {
        try conn.queryScalar("SELECT generation FROM ai_tenant_state WHERE tenant_id = \(tenant)", as: Int64.self) ?? 0
    }

    // MARK: Documents

    private static func record(_ row: Row, withText: Bool) throws -> DocumentRecord {
        let metadataText = try row.decode("metadata", as: String.self)
        return DocumentRecord(
            id: try row.decode("id"),
            title: try row.decode("title"),
            text: withText ? try row.decode("text", as: String.self) : nil,
            metadata: JSONValue(jsonText: metadataText) ?? .emptyObject,
            contentHash: try row.decode("content_hash"),
            metadataHash: try row.decode("metadata_hash"),
            chunkCount: try row.decode("chunk_count"),
            byteCount: try row.decode("byte_count"),
            createdAt: try row.decode("created_at"),
            updatedAt: try row.decode("updated_at"))
    }

    static func document(_ tenant: String, id: String, withText: Bool = true, on conn: any Connection) throws -> DocumentRecord? {
        let text: SQLQuery = withText ? "text" : "NULL AS text"
        return try conn.queryFirst("""
            SELECT id, title, \(text), metadata, content_hash, metadata_hash, chunk_count, byte_count, created_at, updated_at \
            FROM ai_documents WHERE tenant_id = \(tenant) AND id = \(id)
            """).map { try record($0, withText: withText) }
    }

    /// Content and metadata hashes of the documents among `ids` that exist.
    static func hashes(_ tenant: String, ids: [String], on conn: any Connection) throws -> [String: (content: String, metadata: String)] {
        guard !ids.isEmpty else { return [:] }
        var result: [String: (content: String, metadata: String)] = [:]
        for row in try conn.query("""
            SELECT id, content_hash, metadata_hash FROM ai_documents WHERE tenant_id = \(tenant) AND id IN (\(list: ids))
            """) {
            result[try row.decode("id")] = (try row.decode("content_hash"), try row.decode("metadata_hash"))
        }
        return result
    }

    /// Inserts or replaces the document row (its creation time is kept on replace).
    static func upsert(_ tenant: String, _ document: DocumentRecord, on conn: any Connection) throws {
        try conn.execute("""
            INSERT INTO ai_documents (tenant_id, id, title, text, metadata, content_hash, metadata_hash, chunk_count, \
            byte_count, created_at, updated_at) VALUES (\(tenant), \(document.id), \(document.title), \(document.text ?? ""), \
            \(try SQLValue.json(document.metadata)), \(document.contentHash), \(document.metadataHash), \(document.chunkCount), \
            \(document.byteCount), \(document.createdAt), \(document.updatedAt)) \
            ON CONFLICT (tenant_id, id) DO UPDATE SET title = excluded.title, text = excluded.text, \
            metadata = excluded.metadata, content_hash = excluded.content_hash, metadata_hash = excluded.metadata_hash, \
            chunk_count = excluded.chunk_count, byte_count = excluded.byte_count, updated_at = excluded.updated_at
            """)
    }

    /// Updates only the metadata of an existing document.
    static func updateMetadata(_ tenant: String, id: String, metadata: JSONValue, metadataHash: String, now: Date,
                               on conn: any Connection) throws {
        try conn.execute("""
            UPDATE ai_documents SET metadata = \(try SQLValue.json(metadata)), metadata_hash = \(metadataHash), \
            updated_at = \(now) WHERE tenant_id = \(tenant) AND id = \(id)
            """)
    }

    /// Deletes the chunks of a document from every table; returns their `seq`s.
    static func deleteChunks(_ tenant: String, documentID: String, on conn: any Connection) throws -> [Int64] {
        let seqs = try conn.query(
            "SELECT seq FROM ai_chunks WHERE tenant_id = \(tenant) AND document_id = \(documentID)"
        ).map { try $0.decode("seq", as: Int64.self) }
        guard !seqs.isEmpty else { return [] }
        try LexicalIndex.removeDocument(tenant, documentID: documentID, on: conn)
        try conn.execute("DELETE FROM ai_chunks WHERE tenant_id = \(tenant) AND document_id = \(documentID)")
        return seqs
    }

    /// Deletes a document and its chunks; returns the removed chunks' `seq`s, or `nil` when the
    /// tenant has no such document.
    static func deleteDocument(_ tenant: String, id: String, on conn: any Connection) throws -> [Int64]? {
        let seqs = try deleteChunks(tenant, documentID: id, on: conn)
        let deleted = try conn.execute("DELETE FROM ai_documents WHERE tenant_id = \(tenant) AND id = \(id)")
        return deleted == 0 ? nil : seqs
    }

    /// Stores chunks and their lexical entries; returns each chunk's `seq` with its vector.
    static func insertChunks(_ tenant: String, documentID: String, title: String, chunks: [NewChunk], model: String,
                             on conn: any Connection) throws -> [(seq: Int64, vector: [Float])] {
        var stored: [(seq: Int64, vector: [Float])] = []
        stored.reserveCapacity(chunks.count)
        for chunk in chunks {
            let seq = try conn.queryScalar("""
                INSERT INTO ai_chunks (tenant_id, id, document_id, ordinal, title, text, start_offset, end_offset, \
                embedding, embedding_model, dimensions) VALUES (\(tenant), \(chunk.id), \(documentID), \(chunk.ordinal), \
                \(title), \(chunk.text), \(chunk.start), \(chunk.end), \(VectorCoding.encode(chunk.embedding)), \(model), \
                \(chunk.embedding.count)) RETURNING seq
                """, as: Int64.self)
            guard let seq else { throw StorageError(StorageError.internalError, "INSERT … RETURNING seq returned no row") }
            try LexicalIndex.insert(seq: seq, title: title, text: chunk.text, on: conn)
            stored.append((seq, chunk.embedding))
        }
        return stored
    }

    /// A page of documents, newest first, after the `(created_at, id)` position of the cursor.
    static func list(_ tenant: String, limit: Int, after cursor: (createdAt: Date, id: String)?, on conn: any Connection) throws -> [DocumentRecord] {
        let position: SQLQuery = cursor.map { "AND (created_at < \($0.createdAt) OR (created_at = \($0.createdAt) AND id < \($0.id)))" } ?? ""
        return try conn.query("""
            SELECT id, title, NULL AS text, metadata, content_hash, metadata_hash, chunk_count, byte_count, created_at, \
            updated_at FROM ai_documents WHERE tenant_id = \(tenant) \(position) \
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """).map { try record($0, withText: false) }
    }

    /// Number of documents and chunks of a tenant.
    static func counts(_ tenant: String, on conn: any Connection) throws -> (documents: Int, chunks: Int) {
        let documents = try conn.queryScalar("SELECT COUNT(*) FROM ai_documents WHERE tenant_id = \(tenant)", as: Int.self) ?? 0
        let chunks = try conn.queryScalar("SELECT COUNT(*) FROM ai_chunks WHERE tenant_id = \(tenant)", as: Int.self) ?? 0
        return (documents, chunks)
    }

    // MARK: Chunks

    private static let chunkColumns: SQLQuery = """
        c.seq AS seq, c.id AS id, c.document_id AS document_id, c.ordinal AS ordinal, c.title AS title, c.text AS text, \
        c.start_offset AS start_offset, c.end_offset AS end_offset, d.metadata AS metadata
        """

    private static func chunk(_ row: Row) throws -> ChunkRecord {
        ChunkRecord(
            seq: try row.decode("seq"), id: try row.decode("id"), documentID: try row.decode("document_id"),
            ordinal: try row.decode("ordinal"), title: try row.decode("title"), text: try row.decode("text"),
            start: try row.decode("start_offset"), end: try row.decode("end_offset"),
            metadata: JSONValue(jsonText: try row.decode("metadata", as: String.self)) ?? .emptyObject)
    }

    /// The chunks of `seqs` that still exist, by `seq`.
    static func chunks(_ tenant: String, seqs: [Int64], on conn: any Connection) throws -> [Int64: ChunkRecord] {
        guard !seqs.isEmpty else { return [:] }
        var result: [Int64: ChunkRecord] = [:]
        for row in try conn.query("""
            SELECT \(chunkColumns) FROM ai_chunks c JOIN ai_documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id \
            WHERE c.tenant_id = \(tenant) AND c.seq IN (\(list: seqs))
            """) {
            let record = try chunk(row)
            result[record.seq] = record
        }
        return result
    }

    /// A document's chunks in order.
    static func chunks(_ tenant: String, documentID: String, on conn: any Connection) throws -> [ChunkRecord] {
        try conn.query("""
            SELECT \(chunkColumns) FROM ai_chunks c JOIN ai_documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id \
            WHERE c.tenant_id = \(tenant) AND c.document_id = \(documentID) ORDER BY c.ordinal
            """).map(chunk)
    }

    // MARK: Vectors

    /// Every chunk vector of a tenant, read in pages of `pageSize` inside the caller's snapshot,
    /// with the generation of that snapshot.
    static func loadVectors(_ tenant: String, model: String, dimensions: Int, pageSize: Int = 2000,
                            on conn: any Connection) throws -> StoredVectors {
        let generation = try self.generation(tenant, on: conn)
        var vectors: [(seq: Int64, vector: [Float])] = []
        var staleSeqs: [Int64] = []
        var after: Int64 = -1
        while true {
            let rows = try conn.query("""
                SELECT seq, embedding, embedding_model FROM ai_chunks WHERE tenant_id = \(tenant) AND seq > \(after) \
                ORDER BY seq LIMIT \(pageSize)
                """)
            for row in rows {
                let seq = try row.decode("seq", as: Int64.self)
                let bytes = try row.decode("embedding", as: [UInt8].self)
                if try row.decode("embedding_model", as: String.self) == model,
                   let vector = VectorCoding.decode(bytes, dimensions: dimensions) {
                    vectors.append((seq, vector))
                } else {
                    staleSeqs.append(seq)
                }
                after = seq
            }
            if rows.count < pageSize { break }
        }
        var stale: [(seq: Int64, title: String, text: String)] = []
        var index = 0
        while index < staleSeqs.count {
            let page = Array(staleSeqs[index..<min(staleSeqs.count, index + 500)])
            for row in try conn.query("SELECT seq, title, text FROM ai_chunks WHERE tenant_id = \(tenant) AND seq IN (\(list: page))") {
                stale.append((try row.decode("seq"), try row.decode("title"), try row.decode("text")))
            }
            index += page.count
        }
        return StoredVectors(generation: generation, vectors: vectors, stale: stale)
    }

    /// Replaces the vectors of existing chunks (after a model change); returns the `seq`s updated.
    static func replaceVectors(_ tenant: String, _ vectors: [(seq: Int64, vector: [Float])], model: String,
                               on conn: any Connection) throws -> [Int64] {
        var updated: [Int64] = []
        for item in vectors {
            let changed = try conn.execute("""
                UPDATE ai_chunks SET embedding = \(VectorCoding.encode(item.vector)), embedding_model = \(model), \
                dimensions = \(item.vector.count) WHERE tenant_id = \(tenant) AND seq = \(item.seq)
                """)
            if changed > 0 { updated.append(item.seq) }
        }
        return updated
    }
}
