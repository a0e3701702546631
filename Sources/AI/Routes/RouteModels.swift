// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes

/// JSON bodies of the retrieval routes. Keys are spelled out (snake_case) rather than converted,
/// because metadata is free-form JSON whose keys must pass through untouched.
enum RetrievalJSON {
    static func decoder() -> JSONDecoder {
        JSONDecoder()
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .bytes(Array(try encoder().encode(value))))
    }
}

/// `POST /ai/documents` as JSON: one document, or `{"documents": [...]}`.
struct IngestBody: Decodable {
    struct Document: Decodable {
        var id: String?
        var title: String
        var text: String
        var metadata: JSONValue?
    }

    var documents: [Document]?
    var id: String?
    var title: String?
    var text: String?
    var metadata: JSONValue?
}

/// A stored document in responses (no text).
struct DocumentSummaryBody: Encodable {
    var id: String
    var title: String
    var metadata: JSONValue
    var chunkCount: Int
    var byteCount: Int
    var createdAt: Date
    var updatedAt: Date
    var status: String?

    enum CodingKeys: String, CodingKey {
        case id, title, metadata, status
        case chunkCount = "chunk_count"
        case byteCount = "byte_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(_ record: DocumentRecord, status: String? = nil) {
        id = record.id
        title = record.title
        metadata = record.metadata
        chunkCount = record.chunkCount
        byteCount = record.byteCount
        createdAt = record.createdAt
        updatedAt = record.updatedAt
        self.status = status
    }
}

/// The answer to a batch ingest.
struct BatchIngestBody: Encodable {
    var documents: [DocumentSummaryBody]
    var count: Int
    var created: Int
    var updated: Int
    var unchanged: Int
}

/// `GET /ai/documents`.
struct DocumentPageBody: Encodable {
    var documents: [DocumentSummaryBody]
    var nextCursor: String?
    var total: Int

    enum CodingKeys: String, CodingKey {
        case documents, total
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(documents, forKey: .documents)
        try container.encode(nextCursor, forKey: .nextCursor)   // explicit null on the last page
        try container.encode(total, forKey: .total)
    }
}

/// `GET /ai/documents/{id}`.
struct DocumentBody: Encodable {
    struct Chunk: Encodable {
        var id: String
        var ordinal: Int
        var start: Int
        var end: Int
    }

    var id: String
    var title: String
    var text: String
    var metadata: JSONValue
    var chunkCount: Int
    var byteCount: Int
    var createdAt: Date
    var updatedAt: Date
    var chunks: [Chunk]

    enum CodingKeys: String, CodingKey {
        case id, title, text, metadata, chunks
        case chunkCount = "chunk_count"
        case byteCount = "byte_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// `POST /ai/search`.
struct SearchBody: Decodable {
    var query: String
    var topK: Int?
    var mode: String?

    enum CodingKeys: String, CodingKey {
        case query, mode
        case topK = "top_k"
    }
}

struct SearchResultBody: Encodable {
    struct Hit: Encodable {
        var chunkID: String
        var documentID: String
        var title: String
        var text: String
        var ordinal: Int
        var start: Int
        var end: Int
        var score: Double
        var vectorScore: Double?
        var lexicalScore: Double?
        var highlights: [String]
        var metadata: JSONValue

        enum CodingKeys: String, CodingKey {
            case title, text, ordinal, start, end, score, highlights, metadata
            case chunkID = "chunk_id"
            case documentID = "document_id"
            case vectorScore = "vector_score"
            case lexicalScore = "lexical_score"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(chunkID, forKey: .chunkID)
            try container.encode(documentID, forKey: .documentID)
            try container.encode(title, forKey: .title)
            try container.encode(text, forKey: .text)
            try container.encode(ordinal, forKey: .ordinal)
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
            try container.encode(score, forKey: .score)
            try container.encode(vectorScore, forKey: .vectorScore)
            try container.encode(lexicalScore, forKey: .lexicalScore)
            try container.encode(highlights, forKey: .highlights)
            try container.encode(metadata, forKey: .metadata)
        }
    }

    var query: String
    var mode: String
    var topK: Int
    var results: [Hit]
    var tookMs: Double

    enum CodingKeys: String, CodingKey {
        case query, mode, results
        case topK = "top_k"
        case tookMs = "took_ms"
    }
}
