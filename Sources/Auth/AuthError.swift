// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

public import Core

/// An error of the Auth module, rendered as RFC 9457 problem+json by the HTTP layer.
///
/// `detail` is written for the client and never contains a credential, a password or another
/// tenant's data.
public struct AuthError: ProblemError, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let detail: String
    public let headers: [(name: String, value: String)]

    init(status: Int, code: String, detail: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    public var description: String { "\(status) \(code): \(detail)" }

    /// RFC 6750 §3: a 401 for a bearer-protected resource names the scheme.
    private static let challenge: [(name: String, value: String)] = [("WWW-Authenticate", "Bearer realm=\"atlas\"")]

    static func invalidToken(_ detail: String) -> AuthError {
        AuthError(status: 401, code: "invalid_token", detail: detail, headers: challenge)
    }
    static let invalidCredentials = AuthError(
        status: 401, code: "invalid_credentials", detail: "Incorrect username or password", headers: challenge)
    static let authenticationRequired = AuthError(
        status: 401, code: "authentication_required", detail: "this route needs a bearer token or an API key",
        headers: challenge)
    static func invalidAPIKey(_ detail: String) -> AuthError {
        AuthError(status: 401, code: "invalid_api_key", detail: detail, headers: challenge)
    }
    static func throttled(retryAfter seconds: Int, detail: String) -> AuthError {
        AuthError(status: 429, code: "too_many_login_attempts", detail: detail, headers: [("Retry-After", String(seconds))])
    }
    static let busy = AuthError(
        status: 503, code: "login_busy", detail: "too many logins are in progress; retry shortly", headers: [("Retry-After", "1")])
    static func forbidden(_ detail: String, code: String = "forbidden") -> AuthError {
        AuthError(status: 403, code: code, detail: detail)
    }
    static func notFound(_ detail: String, code: String = "not_found") -> AuthError {
        AuthError(status: 404, code: code, detail: detail)
    }
    static func badRequest(_ detail: String, code: String = "bad_request") -> AuthError {
        AuthError(status: 400, code: code, detail: detail)
    }
    static func unprocessable(_ detail: String, code: String = "validation_failed") -> AuthError {
        AuthError(status: 422, code: code, detail: detail)
    }
    static func conflict(_ detail: String, code: String = "conflict") -> AuthError {
        AuthError(status: 409, code: code, detail: detail)
    }
}
