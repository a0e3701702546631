// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

public import Core

/// A retrieval failure the client can act on, rendered as RFC 9457 problem+json.
public struct RetrievalError: ProblemError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var detail: String
    public var headers: [(name: String, value: String)]

    init(status: Int, code: String, detail: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public var description: String { "\(status) \(code): \(detail)" }

    static func documentNotFound(_ id: String) -> RetrievalError {
        RetrievalError(status: 404, code: "document_not_found", detail: "document '\(id.prefix(128))' was not found")
    }

    static func invalidDocument(_ detail: String) -> RetrievalError {
        RetrievalError(status: 422, code: "invalid_document", detail: detail)
    }

    static func invalidQuery(_ detail: String) -> RetrievalError {
        RetrievalError(status: 422, code: "invalid_query", detail: detail)
    }

    static func tooLarge(_ detail: String) -> RetrievalError {
        RetrievalError(status: 413, code: "payload_too_large", detail: detail)
    }

    static func unsupportedMediaType(_ detail: String) -> RetrievalError {
        RetrievalError(status: 415, code: "unsupported_media_type", detail: detail)
    }

    static func badRequest(_ detail: String, code: String = "bad_request") -> RetrievalError {
        RetrievalError(status: 400, code: code, detail: detail)
    }

    /// The embedding provider failed; 503 when retrying later may help, else 502.
    static func embedding(_ error: EmbeddingError) -> RetrievalError {
        RetrievalError(
            status: error.transient ? 503 : 502, code: "embedding_unavailable",
            detail: "the embedding provider failed: \(error.reason)",
            headers: error.transient ? [("Retry-After", "5")] : [])
    }
}
