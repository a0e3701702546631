// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// A row of `auth_users`.
struct UserRecord: Sendable, Equatable {
    var id: UserID
    var email: String
    var displayName: String
    var passwordHash: String?
    var isActive: Bool
    var isPlatformAdmin: Bool
    var defaultTenant: TenantID?
    var createdAt: Date
    var lastLoginAt: Date?

    static let columns: SQLQuery =
        "id, email, display_name, password_hash, status, is_platform_admin, default_tenant, created_at, last_login_at"

    init(row: Row) throws {
        guard let id = UserID(try row["id", as: String.self]) else {
            throw StorageError(StorageError.typeMismatch, "auth_users.id is not a user id")
        }
        self.id = id
        email = try row["email", as: String.self]
        displayName = try row["display_name", as: String.self]
        passwordHash = try row["password_hash", as: String?.self]
        isActive = try row["status", as: String.self] == "active"
        isPlatformAdmin = try row["is_platform_admin", as: Bool.self]
        defaultTenant = try row["default_tenant", as: String?.self].flatMap { TenantID($0) }
        createdAt = try row["created_at", as: Date.self]
        lastLoginAt = try row["last_login_at", as: Date?.self]
    }

    init(
        id: UserID, email: String, displayName: String, passwordHash: String?, isActive: Bool = true,
        isPlatformAdmin: Bool = false, defaultTenant: TenantID? = nil, createdAt: Date, lastLoginAt: Date? = nil
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.passwordHash = passwordHash
        self.isActive = isActive
        self.isPlatformAdmin = isPlatformAdmin
        self.defaultTenant = defaultTenant
        self.createdAt = createdAt
        self.lastLoginAt = lastLoginAt
    }
}

/// SQL over `auth_users`. Users are not tenant-scoped (one person may belong to many tenants), so
/// these run in any scope.
enum UserStore {
    static func newID() -> UserID { UserID(Encoding.randomID(prefix: UserID.prefix, bytes: 16))! }

    /// Emails are compared lower-cased and trimmed; Atlas accepts any `local@domain` shape, including
    /// the reference design's `admin@atlas`.
    static func normalize(email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static func isPlausible(email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        return (3...254).contains(email.utf8.count) && parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !email.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "/" })
    }

    static func find(email: String, _ conn: any Connection) throws -> UserRecord? {
        try conn.queryFirst("SELECT \(UserRecord.columns) FROM auth_users WHERE email = \(normalize(email: email))")
            .map(UserRecord.init(row:))
    }

    static func find(id: UserID, _ conn: any Connection) throws -> UserRecord? {
        try conn.queryFirst("SELECT \(UserRecord.columns) FROM auth_users WHERE id = \(id.rawValue)")
            .map(UserRecord.init(row:))
    }

    static func insert(_ user: UserRecord, _ conn: any Connection) throws {
        try conn.execute(
            """
            INSERT INTO auth_users (id, email, display_name, password_hash, status, is_platform_admin, default_tenant,
                                    created_at, updated_at)
            VALUES (\(user.id.rawValue), \(normalize(email: user.email)), \(user.displayName), \(user.passwordHash),
                    \(user.isActive ? "active" : "disabled"), \(user.isPlatformAdmin), \(user.defaultTenant?.rawValue),
                    \(user.createdAt), \(user.createdAt))
            """)
    }

    static func setPasswordHash(_ hash: String, for id: UserID, now: Date, _ conn: any Connection) throws {
        try conn.execute("UPDATE auth_users SET password_hash = \(hash), updated_at = \(now) WHERE id = \(id.rawValue)")
    }

    static func setPlatformAdmin(_ value: Bool, for id: UserID, now: Date, _ conn: any Connection) throws {
        try conn.execute("UPDATE auth_users SET is_platform_admin = \(value), updated_at = \(now) WHERE id = \(id.rawValue)")
    }

    static func recordLogin(_ id: UserID, now: Date, _ conn: any Connection) throws {
        try conn.execute("UPDATE auth_users SET last_login_at = \(now) WHERE id = \(id.rawValue)")
    }

    /// What authenticating an access token needs, in one statement: the user's status and platform
    /// flag, and whether the token or its session was revoked.
    struct TokenCheck: Sendable {
        var email: String
        var isActive: Bool
        var isPlatformAdmin: Bool
        var revoked: Bool
    }

    static func tokenCheck(user: UserID, jti: String, session: String?, _ conn: any Connection) throws -> TokenCheck? {
        let sessionKey = session.map { "sid:\($0)" } ?? jti
        let row = try conn.queryFirst(
            """
            SELECT u.email, u.status, u.is_platform_admin,
                   (SELECT COUNT(*) FROM auth_revoked_tokens r WHERE r.jti IN (\(jti), \(sessionKey))) AS revoked
            FROM auth_users u WHERE u.id = \(user.rawValue)
            """)
        guard let row else { return nil }
        return TokenCheck(
            email: try row["email", as: String.self], isActive: try row["status", as: String.self] == "active",
            isPlatformAdmin: try row["is_platform_admin", as: Bool.self], revoked: try row["revoked", as: Int.self] > 0)
    }
}
