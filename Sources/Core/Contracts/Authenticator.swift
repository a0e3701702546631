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
            // Byte-wise: this runs on every authenticated request, and a token is ~350 bytes.
            let trimmed = authorization.trimmingBlanks
            let scheme = Array("bearer ".utf8)
            // RFC 9110 §11.1: the scheme is case-insensitive.
            guard trimmed.utf8.count > scheme.count,
                  zip(trimmed.utf8, scheme).allSatisfy({ $1 == 0x20 ? $0 == 0x20 : ($0 | 0x20) == $1 }) else {
                throw AtlasError.unauthorized("the Authorization header must be 'Bearer <token>'")
            }
            let token = String(trimmed.utf8.dropFirst(scheme.count))?.trimmingBlanks ?? ""
            guard !token.isEmpty else { throw AtlasError.unauthorized("the bearer token is empty") }
            found = token.utf8.starts(with: apiKeyPrefix.utf8) ? .apiKey(token) : .accessToken(token)
        }
        if let apiKey {
            let key = apiKey.trimmingBlanks
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

/// Turns a presented credential into a ``Principal``. Implemented by the Auth module and used by
/// the HTTP-side tenancy glue and by any module that must authenticate without importing Auth.
///
/// Implementations throw a ``ProblemError`` with status 401 for any credential that is unknown,
/// malformed, expired, revoked or forged, with a `detail` that never echoes the credential.
public protocol Authenticator: Sendable {
    func authenticate(_ credential: Credential) async throws -> Principal
}
