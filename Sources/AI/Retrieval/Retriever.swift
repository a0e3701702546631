// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation

/// How a search ranks chunks.
public enum SearchMode: String, Sendable, Codable, CaseIterable {
    /// Vector and lexical rankings fused by reciprocal rank (the default).
    case hybrid
    /// Cosine similarity of embeddings only.
    case vector
    /// Full-text ranking only (SQLite FTS5 BM25, PostgreSQL `ts_rank_cd`).
    case lexical
}

/// One ranked chunk.
public struct SearchHit: Sendable, Hashable {
    public var chunkID: String
    public var documentID: String
    public var title: String
    public var text: String
    /// 0-based position of the chunk in its document.
    public var ordinal: Int
    /// Scalar offsets of the chunk in its document's text.
    public var start: Int
    public var end: Int
    /// The ranking score: the fused score for `hybrid`, the cosine similarity for `vector`, the
    /// lexical score for `lexical`. Higher is better; compare scores of one response only.
    public var score: Double
    /// Cosine similarity of the query and chunk embeddings, when the chunk was a vector candidate.
    public var vectorScore: Double?
    /// The lexical score, when the chunk was a lexical candidate.
    public var lexicalScore: Double?
    /// Snippets with the query's terms wrapped in `<mark>`, HTML-escaped.
    public var highlights: [String]
    /// The document's metadata.
    public var metadata: JSONValue
}

/// Retrieval over a tenant's documents, for the agent runtime's `retrieve` node.
///
/// ```swift
/// let hits = try await module.retriever.search("how do refunds work?", tenant: tenant, topK: 4, mode: .hybrid)
/// let context = hits.map(\.text).joined(separator: "\n\n")
/// ```
public protocol Retriever: Sendable {
    /// The `topK` best chunks of `tenant`'s documents for `query`, best first.
    func search(_ query: String, tenant: TenantID, topK: Int, mode: SearchMode) async throws -> [SearchHit]

    /// The tenant's document generation: it changes whenever the tenant's documents change.
    func generation(of tenant: TenantID) async throws -> Int64

    /// Embeds `query` once, so that a search and a semantic-cache lookup of the same question
    /// share one embedding (one call, one metered request, for a remote embedder).
    func embedQuery(_ query: String, tenant: TenantID) async throws -> QueryEmbedding

    /// ``search(_:tenant:topK:mode:)`` with the query's embedding already computed.
    func search(_ query: QueryEmbedding, tenant: TenantID, topK: Int, mode: SearchMode) async throws -> [SearchHit]
}

extension Retriever {
    /// Embeds nothing: a retriever without embeddings of its own searches by the text.
    public func embedQuery(_ query: String, tenant: TenantID) async throws -> QueryEmbedding {
        QueryEmbedding(text: query, vector: nil, model: "")
    }

    public func search(_ query: QueryEmbedding, tenant: TenantID, topK: Int, mode: SearchMode) async throws -> [SearchHit] {
        try await search(query.text, tenant: tenant, topK: topK, mode: mode)
    }
}

/// A query and its embedding, computed once (``Retriever/embedQuery(_:tenant:)``) and handed to
/// both the search and the semantic cache.
///
/// ```swift
/// let query = try await ai.retriever.embedQuery(question, tenant: tenant)
/// if let hit = try await ai.semanticCache.lookup(query, tenant: tenant).hit { … }
/// let hits = try await ai.retriever.search(query, tenant: tenant, topK: 4, mode: .hybrid)
/// ```
public struct QueryEmbedding: Sendable, Hashable {
    /// The query as it was embedded (trimmed).
    public let text: String
    /// Its embedding, `nil` when the retriever computed none.
    public let vector: [Float]?
    /// The embedder's ``Embedder/identifier``: a vector is only reused by parts using the same model.
    public let model: String

    public init(text: String, vector: [Float]?, model: String) {
        self.text = text
        self.vector = vector
        self.model = model
    }

    /// The vector, when it was made by `embedder` and has its dimensions.
    func vector(for embedder: any Embedder) -> [Float]? {
        guard let vector, model == embedder.identifier, vector.count == embedder.dimensions else { return nil }
        return vector
    }
}

/// A document to ingest.
public struct DocumentInput: Sendable, Hashable {
    /// The id to store it under; `nil` derives one from the title and text, so the same document
    /// posted twice is stored once.
    public var id: String?
    public var title: String
    public var text: String
    /// A JSON object; `nil` is `{}`.
    public var metadata: JSONValue?

    public init(id: String? = nil, title: String, text: String, metadata: JSONValue? = nil) {
        self.id = id
        self.title = title
        self.text = text
        self.metadata = metadata
    }
}
