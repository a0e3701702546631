// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

/// A credential as presented by a client, before anything about it is known to be true.
public enum Credential: Sendable, Hashable {
    /// `Authorization: Bearer <jwt>`.
    case accessToken(String)
    /// `Authorization: Bearer atl_…` or `X-API-Key: atl_…`.
    case apiKey(String)

    /// The prefix every API key starts with (SPEC §3).
    public static let apiKeyPrefix = "atl_"

    /// Reads the credential from the `Authorization` and `X-API-Key` header values.
    ///
    /// Returns `nil` when neither is present; throws a 401 when a header is present but malformed,
    /// or when both name different credentials (a request authenticates as exactly one principal).
    public static func from(authorization: String?, apiKey: String?) throws -> Credential? {
        var found: Credential?
        if let authorization {
            let trimmed = authorization.trimmingSpaces
            // RFC 9110 §11.1: the scheme is case-insensitive.
            guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else {
                throw AtlasError.unauthorized("the Authorization header must be 'Bearer <token>'")
            }
            let token = String(trimmed.dropFirst(7)).trimmingSpaces
            guard !token.isEmpty else { throw AtlasError.unauthorized("the bearer token is empty") }
            found = token.hasPrefix(apiKeyPrefix) ? .apiKey(token) : .accessToken(token)
        }
        if let apiKey {
            let key = apiKey.trimmingSpaces
            guard key.hasPrefix(apiKeyPrefix) else {
                throw AtlasError.unauthorized("X-API-Key must hold an Atlas API key (atl_…)")
            }
            if let found, found != .apiKey(key) {
                throw AtlasError.unauthorized("Authorization and X-API-Key name different credentials")
            }
            found = .apiKey(key)
        }
        return found
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}

/// Turns a presented credential into a ``Principal``. Implemented by the Auth module and used by
/// the HTTP-side tenancy glue and by any module that must authenticate without importing Auth.
///
/// Implementations throw a ``ProblemError`` with status 401 for any credential that is unknown,
/// malformed, expired, revoked or forged, with a `detail` that never echoes the credential.
public protocol Authenticator: Sendable {
    func authenticate(_ credential: Credential) async throws -> Principal
}
