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
