// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes

/// The ingestion routes (SPEC §3, "Added by Atlas"); see ``DataIngestion/registerRoutes(on:)``.
struct IngestRoutes: Sendable {
    let ingestion: DataIngestion

    func register(_ routes: SecuredRoutes) {
        let ingestion = self.ingestion
        routes.on(.post, "/data/sources/{source}/records", requires: .dataWrite, tenant: .request, body: .streamed) { request, context in
            let source = try context.requestContext.parameters.require("source")
            guard let contentType = request.headers["Content-Type"] else {
                throw AtlasError(status: 415, code: "unsupported_media_type",
                                 detail: "name the body's format in Content-Type: application/json (an array), application/x-ndjson or text/csv")
            }
            guard let format = RecordFormat(mediaType: contentType) else {
                throw AtlasError(status: 415, code: "unsupported_media_type",
                                 detail: "Content-Type must be application/json (an array of records), application/x-ndjson or text/csv")
            }
            let mode: IngestErrorMode
            switch request.query["on_error"]?.lowercased() {
            case nil, "skip": mode = .skip
            case "abort": mode = .abort
            default: throw AtlasError.badRequest("query parameter `on_error` must be skip or abort", code: "invalid_parameter")
            }
            // Parsed as it arrives: the parsers keep only an unfinished record between chunks.
            let chunks = request.bodyChunks
            do {
                let summary = try await ingestion.ingest(source: source, tenant: context.tenantID, format: format, chunks: chunks, mode: mode)
                return try Response.json(IngestAnswer(summary))
            } catch let error as IngestError {
                guard let summary = error.summary else { throw error }
                return try Self.problem(error, summary: summary, requestID: context.requestID)
            }
        }
        routes.get("/data/sources", requires: .dataRead, tenant: .request) { _, context in
            let freshness = try await ingestion.sourceFreshness(tenant: context.tenantID)
            let sources = try await ingestion.sources()
            return try Response.json(sources.map { SourceAnswer($0, loadedAt: freshness[$0.name]) })
        }
        routes.get("/data/sources/{source}/errors", requires: .dataRead, tenant: .request) { request, context in
            let source = try context.requestContext.parameters.require("source")
            let limit = try request.query.get("limit", as: Int.self) ?? 100
            guard (1...1000).contains(limit) else {
                throw AtlasError.badRequest("query parameter `limit` must be between 1 and 1000", code: "invalid_parameter")
            }
            let errors = try await ingestion.rejectedRecords(source: source, tenant: context.tenantID, limit: limit)
            return try Response.json(errors.map { ErrorAnswer(batchID: $0.batch, line: $0.line, detail: $0.detail, createdAt: $0.createdAt) })
        }
    }

    /// A 422 problem that also lists the refused records, for `on_error=abort`.
    static func problem(_ error: IngestError, summary: IngestSummary, requestID: String?) throws -> Response {
        let body = AbortAnswer(type: "urn:atlas:problem:\(error.code)", title: "Unprocessable Content", status: error.status,
                               detail: error.detail, code: error.code, requestID: requestID, accepted: 0, rejected: summary.rejected,
                               errors: summary.errors.map { LineError(line: $0.line, detail: $0.detail) })
        var response = try Response.json(body, status: HTTPResponse.Status(code: error.status))
        response.headers[.contentType] = "application/problem+json"
        return response
    }
}

struct LineError: Encodable {
    var line: Int
    var detail: String
}

struct IngestAnswer: Encodable {
    var source: String
    var accepted: Int
    var rejected: Int
    var errors: [LineError]
    var batchID: String?
    var inferredSchema: Bool

    init(_ summary: IngestSummary) {
        source = summary.source
        accepted = summary.accepted
        rejected = summary.rejected
        errors = summary.errors.map { LineError(line: $0.line, detail: $0.detail) }
        batchID = summary.batches.last
        inferredSchema = summary.inferred
    }
}

struct AbortAnswer: Encodable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var code: String
    var requestID: String?
    var accepted: Int
    var rejected: Int
    var errors: [LineError]
}

struct SourceAnswer: Encodable {
    struct Column: Encodable {
        var name: String
        var type: String
        var required: Bool
    }

    var name: String
    var description: String
    var origin: String
    var table: String
    var primaryKey: [String]
    var columns: [Column]
    var lastLoadedAt: Date?

    init(_ source: SourceDefinition, loadedAt: Date?) {
        name = source.name
        description = source.description
        origin = source.origin.rawValue
        table = source.table
        primaryKey = source.primaryKey
        columns = source.columns.map { Column(name: $0.name, type: $0.type.rawValue, required: $0.required) }
        lastLoadedAt = loadedAt
    }
}

struct ErrorAnswer: Encodable {
    var batchID: String
    var line: Int
    var detail: String
    var createdAt: Date
}
