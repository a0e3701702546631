// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes

/// The document and search routes (SPEC §3, "Added by Atlas"). Every route acts in the request's
/// tenant (`X-Atlas-Tenant`, else the credential's default tenant) and declares its permission:
///
/// | route | permission |
/// | --- | --- |
/// | `POST /ai/documents` | `ai.documents.write` |
/// | `GET /ai/documents` | `ai.read` |
/// | `GET /ai/documents/{id}` | `ai.read` |
/// | `DELETE /ai/documents/{id}` | `ai.documents.write` |
/// | `POST /ai/search` | `ai.read` |
///
/// A document id of another tenant answers 404, exactly like an id that does not exist.
struct RetrievalRoutes: Sendable {
    let service: RetrievalService

    func register(_ routes: SecuredRoutes) {
        let service = self.service
        routes.post("/ai/documents", requires: .aiDocumentsWrite, tenant: .request) { request, context in
            try await Self.ingest(request, tenant: context.tenantID, service: service)
        }
        routes.get("/ai/documents", requires: .aiRead, tenant: .request) { request, context in
            let limit = try request.query.get("limit", as: Int.self) ?? 20
            guard (1...100).contains(limit) else {
                throw RetrievalError.badRequest("query parameter `limit` must be between 1 and 100", code: "invalid_parameter")
            }
            let page = try await service.documents(tenant: context.tenantID, limit: limit, cursor: request.query["cursor"])
            return try RetrievalJSON.response(DocumentPageBody(
                documents: page.documents.map { DocumentSummaryBody($0) }, nextCursor: page.next, total: page.total))
        }
        routes.get("/ai/documents/{id}", requires: .aiRead, tenant: .request) { _, context in
            let id = try context.requestContext.parameters.require("id")
            guard let found = try await service.document(id, tenant: context.tenantID) else {
                throw RetrievalError.documentNotFound(id)
            }
            let document = found.document
            return try RetrievalJSON.response(DocumentBody(
                id: document.id, title: document.title, text: document.text ?? "", metadata: document.metadata,
                chunkCount: document.chunkCount, byteCount: document.byteCount, createdAt: document.createdAt,
                updatedAt: document.updatedAt,
                chunks: found.chunks.map { DocumentBody.Chunk(id: $0.id, ordinal: $0.ordinal, start: $0.start, end: $0.end) }))
        }
        routes.delete("/ai/documents/{id}", requires: .aiDocumentsWrite, tenant: .request) { _, context in
            let id = try context.requestContext.parameters.require("id")
            guard try await service.delete(id, tenant: context.tenantID) else { throw RetrievalError.documentNotFound(id) }
            return .empty()
        }
        routes.post("/ai/search", requires: .aiRead, tenant: .request) { request, context in
            let started = ContinuousClock.now
            let body = try Self.decodeJSON(SearchBody.self, from: request)
            let mode: SearchMode
            if let name = body.mode {
                guard let parsed = SearchMode(rawValue: name.lowercased()) else {
                    throw RetrievalError.invalidQuery("mode: must be one of hybrid, vector, lexical")
                }
                mode = parsed
            } else {
                mode = .hybrid
            }
            let topK = body.topK ?? 5
            let hits = try await service.search(body.query, tenant: context.tenantID, topK: topK, mode: mode)
            let elapsed = ContinuousClock.now - started
            return try RetrievalJSON.response(SearchResultBody(
                query: body.query, mode: mode.rawValue, topK: topK,
                results: hits.map {
                    SearchResultBody.Hit(
                        chunkID: $0.chunkID, documentID: $0.documentID, title: $0.title, text: $0.text, ordinal: $0.ordinal,
                        start: $0.start, end: $0.end, score: $0.score, vectorScore: $0.vectorScore,
                        lexicalScore: $0.lexicalScore, highlights: $0.highlights, metadata: $0.metadata)
                },
                tookMs: (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15).rounded(toPlaces: 3)))
        }
    }

    // MARK: Ingest

    static func ingest(_ request: Request, tenant: TenantID, service: RetrievalService) async throws -> Response {
        let contentType = request.headers["Content-Type"].map(mediaType) ?? "application/json"
        let inputs: [DocumentInput]
        let batch: Bool
        if contentType == "application/json" || contentType.hasSuffix("+json") {
            let body = try decodeJSON(IngestBody.self, from: request)
            if let documents = body.documents {
                guard body.title == nil, body.text == nil, body.id == nil, body.metadata == nil else {
                    throw RetrievalError.invalidDocument("send either one document ({title, text, metadata}) or {documents: [...]}, not both")
                }
                inputs = documents.map { DocumentInput(id: $0.id, title: $0.title, text: $0.text, metadata: $0.metadata) }
                batch = true
            } else {
                guard let title = body.title else { throw RetrievalError.invalidDocument("title: required field is missing") }
                guard let text = body.text else { throw RetrievalError.invalidDocument("text: required field is missing") }
                inputs = [DocumentInput(id: body.id, title: title, text: text, metadata: body.metadata)]
                batch = false
            }
        } else if contentType.hasPrefix("text/") {
            inputs = [try plainTextDocument(request)]
            batch = false
        } else {
            throw RetrievalError.unsupportedMediaType(
                "POST /ai/documents takes application/json ({title, text, metadata} or {documents: [...]}) or text/plain")
        }

        let results = try await service.ingest(inputs, tenant: tenant)
        let created = results.contains { $0.status == .created }
        let status: HTTPResponse.Status = created ? .created : .ok
        if !batch, let result = results.first {
            var response = try RetrievalJSON.response(DocumentSummaryBody(result.document, status: result.status.rawValue), status: status)
            if result.status == .created { response.headers[.location] = "/ai/documents/\(result.document.id)" }
            return response
        }
        return try RetrievalJSON.response(BatchIngestBody(
            documents: results.map { DocumentSummaryBody($0.document, status: $0.status.rawValue) },
            count: results.count,
            created: results.filter { $0.status == .created }.count,
            updated: results.filter { $0.status == .updated }.count,
            unchanged: results.filter { $0.status == .unchanged }.count), status: status)
    }

    /// A `text/plain` body: the text is the body, the title comes from `?title=` or the
    /// `X-Document-Title` header, the id from `?id=`, metadata from an `X-Document-Metadata` JSON object.
    static func plainTextDocument(_ request: Request) throws -> DocumentInput {
        if let charset = request.headers["Content-Type"].flatMap(charset), !["utf-8", "utf8", "us-ascii"].contains(charset) {
            throw RetrievalError.unsupportedMediaType("text bodies must be UTF-8 (charset=\(charset.prefix(40)) is not supported)")
        }
        guard let text = String(validating: request.body, as: UTF8.self) else {
            throw RetrievalError.badRequest("the body is not valid UTF-8", code: "invalid_encoding")
        }
        guard let title = request.query["title"] ?? request.headers["X-Document-Title"] else {
            throw RetrievalError.invalidDocument("title: required for a text body, as ?title= or an X-Document-Title header")
        }
        var metadata: JSONValue?
        if let header = request.headers["X-Document-Metadata"] {
            guard let parsed = JSONValue(jsonText: header), parsed.isObject else {
                throw RetrievalError.invalidDocument("X-Document-Metadata: must be a JSON object")
            }
            metadata = parsed
        }
        return DocumentInput(id: request.query["id"], title: title, text: text, metadata: metadata)
    }

    /// Decodes a JSON body with the keys as written (see ``RetrievalJSON``); 415 for another
    /// media type, 400 for malformed JSON, 422 for a missing or mistyped field.
    static func decodeJSON<T: Decodable>(_ type: T.Type, from request: Request) throws -> T {
        if let contentType = request.headers["Content-Type"].map(mediaType),
           contentType != "application/json", !contentType.hasSuffix("+json") {
            throw RetrievalError.unsupportedMediaType("the request body must be JSON (Content-Type: application/json)")
        }
        guard !request.body.isEmpty else {
            throw RetrievalError.badRequest("the request body is empty; a JSON document is required", code: "malformed_json")
        }
        return try RetrievalJSON.decoder().decode(T.self, from: Data(request.body))
    }

    /// The media type without parameters, lower-cased (RFC 9110 §8.3.1).
    static func mediaType(_ value: String) -> String {
        String(value.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// The `charset` parameter, lower-cased, without quotes.
    static func charset(_ value: String) -> String? {
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "charset" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
            }
        }
        return nil
    }
}

extension Double {
    fileprivate func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
