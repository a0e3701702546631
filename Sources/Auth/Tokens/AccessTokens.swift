// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import JWTKit

/// The claims of an Atlas access token (RFC 7519 §4.1 plus `tenant` and `sid`).
struct AccessTokenClaims: JWTPayload, Equatable {
    /// The user id.
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    /// Always ``AccessTokens/issuer``.
    var iss: IssuerClaim
    /// The token's own id, recorded on logout so the token stops working before `exp`.
    var jti: IDClaim
    /// The user's default tenant (SPEC §4).
    var tenant: String?
    /// The refresh-token family (login session) the token belongs to, so logout can end it.
    var sid: String?

    /// Signature checking is jwt-kit's; claim checking is done by ``AccessTokens/verify(_:now:)``
    /// against an injectable clock.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Issues and verifies HS256 access tokens with jwt-kit.
///
/// Keys come from `ATLAS_AUTH_SECRET`, a comma-separated list: the first signs, every one verifies,
/// so a new secret is rolled out by putting it first and the old one is dropped once the tokens it
/// signed have expired. Tokens carry no `kid`, so any JWT library given one secret verifies them.
struct AccessTokens: Sendable {
    static let issuer = "atlas"
    /// Longest token accepted before any parsing or MAC; Atlas tokens are about 350 bytes.
    static let maximumLength = 4096

    let keys: JWTKeyCollection
    let lifetime: Duration

    /// - Parameter secrets: signing secrets, newest first; at least one.
    init(secrets: [String], lifetime: Duration) async {
        precondition(!secrets.isEmpty, "at least one signing secret")
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .integerSecondsSince1970
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let keys = JWTKeyCollection()
        for (index, secret) in secrets.enumerated() {
            await keys.add(
                hmac: HMACKey(from: Self.keyBytes(secret)), digestAlgorithm: .sha256,
                kid: JWKIdentifier(string: "atlas-\(index)"),
                parser: DefaultJWTParser(jsonDecoder: decoder), serializer: DefaultJWTSerializer(jsonEncoder: encoder))
        }
        self.keys = keys
        self.lifetime = lifetime
    }

    /// The HMAC key for a secret. RFC 2104 §2 pads a key shorter than the hash's block size with
    /// zero bytes, so padding a short secret to 32 bytes yields the very same MACs as the secret
    /// itself (and any JWT library given the secret verifies them) while meeting jwt-kit's
    /// minimum key size. Production refuses secrets this short (AppConfiguration).
    static func keyBytes(_ secret: String) -> [UInt8] {
        var bytes = Array(secret.utf8)
        if bytes.count < 32 { bytes += [UInt8](repeating: 0, count: 32 - bytes.count) }
        return bytes
    }

    /// A signed token for `user`, with a fresh `jti`.
    func issue(user: UserID, tenant: TenantID?, session: String?, now: Date = Date()) async throws -> (token: String, claims: AccessTokenClaims) {
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let expiry = issuedAt.addingTimeInterval(TimeInterval(lifetime.components.seconds))
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: user.rawValue), exp: ExpirationClaim(value: expiry),
            iat: IssuedAtClaim(value: issuedAt), iss: IssuerClaim(value: Self.issuer),
            jti: IDClaim(value: Encoding.randomID(prefix: "", bytes: 16)), tenant: tenant?.rawValue, sid: session)
        // No `kid`: the token must verify with the bare secret in any library.
        let token = try await keys.sign(claims, header: ["alg": "HS256", "typ": "JWT"])
        return (token, claims)
    }

    /// Verifies signature, algorithm and claims; throws ``AuthError`` (401) on any failure.
    func verify(_ token: String, now: Date = Date()) async throws -> AccessTokenClaims {
        guard token.utf8.count <= Self.maximumLength else { throw AuthError.invalidToken("the token is too long") }
        try Self.checkHeader(token)
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(token, as: AccessTokenClaims.self, iteratingKeys: true)
        } catch {
            throw AuthError.invalidToken("the token's signature or format is invalid")
        }
        guard claims.iss.value == Self.issuer else { throw AuthError.invalidToken("the token was not issued by Atlas") }
        guard now < claims.exp.value else { throw AuthError.invalidToken("the token has expired") }
        // RFC 7519 §4.1.6 leaves `iat` unchecked; a token from more than a minute in the future was
        // not issued by this clock.
        guard claims.iat.value.timeIntervalSince(now) < 60 else { throw AuthError.invalidToken("the token is not valid yet") }
        guard UserID(claims.sub.value) != nil else { throw AuthError.invalidToken("the token's subject is invalid") }
        if let tenant = claims.tenant, TenantID(tenant) == nil { throw AuthError.invalidToken("the token's tenant is invalid") }
        return claims
    }

    private struct Header: Decodable {
        var alg: String?
        var typ: String?
        var crit: [String]?
    }

    /// RFC 8725 §3.1: the algorithm is fixed by the verifier, never taken from the token. jwt-kit
    /// picks its key by `kid` and does not compare `alg` with the key's algorithm, so the header
    /// is checked here first: exactly three parts, `alg` exactly `HS256` (so `none` and every
    /// other algorithm are refused), and no `crit` extensions (RFC 7515 §4.1.11).
    static func checkHeader(_ token: String) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty,
            let headerBytes = Encoding.decodeBase64URL(parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes))
        else { throw AuthError.invalidToken("the token is not a well-formed JWT") }
        guard header.alg == "HS256" else { throw AuthError.invalidToken("the token's algorithm is not accepted") }
        if let typ = header.typ, typ.uppercased() != "JWT" { throw AuthError.invalidToken("the token's type is not JWT") }
        guard header.crit == nil else { throw AuthError.invalidToken("the token names critical extensions") }
    }
}
