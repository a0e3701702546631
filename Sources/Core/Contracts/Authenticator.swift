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
            found = try bearerCredential(authorization)
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

    /// `Bearer <token>` (RFC 6750 §2.1; the scheme is case-insensitive, RFC 9110 §11.1), read in
    /// one pass over the header's bytes: it runs on every authenticated request, and a token is
    /// ~300 bytes. The token is copied once, without the blanks around it.
    static func bearerCredential(_ authorization: String) throws -> Credential {
        var header = authorization
        let token: String = try header.withUTF8 { bytes in
            let scheme: StaticString = "bearer "
            var start = 0
            var end = bytes.count
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            let schemeCount = scheme.utf8CodeUnitCount
            guard end - start > schemeCount,
                  (0..<schemeCount).allSatisfy({ offset in
                      let expected = scheme.utf8Start[offset]
                      let byte = bytes[start + offset]
                      return expected == 0x20 ? byte == 0x20 : (byte | 0x20) == expected
                  })
            else { throw AtlasError.unauthorized("the Authorization header must be 'Bearer <token>'") }
            start += schemeCount
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
        guard !token.isEmpty else { throw AtlasError.unauthorized("the bearer token is empty") }
        return token.utf8.starts(with: apiKeyPrefix.utf8) ? .apiKey(token) : .accessToken(token)
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
