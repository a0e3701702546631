// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// A row of `auth_refresh_tokens`.
struct RefreshTokenRecord: Sendable, Equatable {
    var familyID: String
    var userID: UserID
    var tenant: TenantID?
    var expiresAt: Date
    var rotatedAt: Date?
    var revokedAt: Date?
}

/// SQL over `auth_refresh_tokens` and `auth_revoked_tokens`. Neither is tenant-scoped: a login
/// session belongs to a user, not to one tenant.
enum TokenStore {
    /// The stored form of an opaque token: SHA-256, hex. The token has 256 random bits, so a fast
    /// hash is enough for a stolen table to reveal nothing usable.
    static func digest(_ token: String) -> String { Encoding.hex(SystemCrypto.sha256(token)) }

    static func insertRefresh(
        token: String, family: String, user: UserID, tenant: TenantID?, now: Date, expiresAt: Date, _ conn: any Connection
    ) throws {
        try conn.execute(
            """
            INSERT INTO auth_refresh_tokens (token_hash, family_id, user_id, tenant_id, created_at, expires_at)
            VALUES (\(digest(token)), \(family), \(user.rawValue), \(tenant?.rawValue), \(now), \(expiresAt))
            """)
    }

    static func findRefresh(token: String, _ conn: any Connection) throws -> RefreshTokenRecord? {
        guard
            let row = try conn.queryFirst(
                """
                SELECT family_id, user_id, tenant_id, expires_at, rotated_at, revoked_at
                FROM auth_refresh_tokens WHERE token_hash = \(digest(token))
                """),
            let user = UserID(try row["user_id", as: String.self])
        else { return nil }
        return RefreshTokenRecord(
            familyID: try row["family_id", as: String.self], userID: user,
            tenant: try row["tenant_id", as: String?.self].flatMap { TenantID($0) },
            expiresAt: try row["expires_at", as: Date.self], rotatedAt: try row["rotated_at", as: Date?.self],
            revokedAt: try row["revoked_at", as: Date?.self])
    }

    /// Marks the token used; `false` when it was already used or revoked (a concurrent refresh won).
    static func markRotated(token: String, now: Date, _ conn: any Connection) throws -> Bool {
        try conn.execute(
            """
            UPDATE auth_refresh_tokens SET rotated_at = \(now)
            WHERE token_hash = \(digest(token)) AND rotated_at IS NULL AND revoked_at IS NULL
            """) == 1
    }

    /// Revokes every token of the family, and the access tokens of its session until they expire.
    static func revokeFamily(_ family: String, now: Date, accessTokenLifetime: Duration, _ conn: any Connection) throws {
        try conn.execute(
            "UPDATE auth_refresh_tokens SET revoked_at = \(now) WHERE family_id = \(family) AND revoked_at IS NULL")
        let until = now.addingTimeInterval(TimeInterval(accessTokenLifetime.components.seconds) + 60)
        try revoke(jti: "sid:\(family)", expiresAt: until, now: now, conn)
    }

    static func revoke(jti: String, expiresAt: Date, now: Date, _ conn: any Connection) throws {
        try conn.execute(
            """
            INSERT INTO auth_revoked_tokens (jti, expires_at, revoked_at) VALUES (\(jti), \(expiresAt), \(now))
            ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at
            """)
    }

    /// Deletes what can no longer matter: revocations of expired tokens, and refresh tokens
    /// expired for a day (kept that long so reuse of a just-expired one is still recognised).
    static func prune(now: Date, _ conn: any Connection) throws {
        try conn.execute("DELETE FROM auth_revoked_tokens WHERE expires_at < \(now)")
        try conn.execute("DELETE FROM auth_refresh_tokens WHERE expires_at < \(now.addingTimeInterval(-86_400))")
    }
}
