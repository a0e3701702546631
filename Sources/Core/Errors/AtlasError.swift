// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

/// A domain error that every layer can raise and the HTTP layer can render as RFC 9457
/// `application/problem+json`. `detail` is shown to the client, so it must never contain secrets,
/// bound SQL values or another tenant's data.
///
/// Modules declare their own errors by conforming to this protocol rather than by sharing one enum.
public protocol ProblemError: Error {
    /// The HTTP status code to answer with (4xx for the client's fault).
    var status: Int { get }
    /// A short, stable, machine-readable code such as `tenant_not_found`.
    var code: String { get }
    /// A human-readable explanation for the client.
    var detail: String { get }
    /// Extra response headers, e.g. `Retry-After` or `Allow`.
    var headers: [(name: String, value: String)] { get }
}

extension ProblemError {
    public var headers: [(name: String, value: String)] { [] }
}

/// A ready-made ``ProblemError`` for the common cases.
public struct AtlasError: ProblemError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var detail: String
    public var headers: [(name: String, value: String)]

    public init(status: Int, code: String, detail: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public var description: String { "\(status) \(code): \(detail)" }

    public static func badRequest(_ detail: String, code: String = "bad_request") -> AtlasError {
        AtlasError(status: 400, code: code, detail: detail)
    }
    public static func unauthorized(_ detail: String) -> AtlasError {
        AtlasError(status: 401, code: "unauthorized", detail: detail, headers: [("WWW-Authenticate", "Bearer")])
    }
    public static func forbidden(_ detail: String) -> AtlasError {
        AtlasError(status: 403, code: "forbidden", detail: detail)
    }
    public static func notFound(_ detail: String) -> AtlasError {
        AtlasError(status: 404, code: "not_found", detail: detail)
    }
    public static func conflict(_ detail: String) -> AtlasError {
        AtlasError(status: 409, code: "conflict", detail: detail)
    }
    public static func unprocessable(_ detail: String, code: String = "validation_failed") -> AtlasError {
        AtlasError(status: 422, code: code, detail: detail)
    }
    public static func unavailable(_ detail: String) -> AtlasError {
        AtlasError(status: 503, code: "unavailable", detail: detail)
    }
}
