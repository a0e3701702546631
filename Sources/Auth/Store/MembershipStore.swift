// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// A member of a tenant as listed by the API.
struct MemberRecord: Sendable, Equatable {
    var userID: UserID
    var email: String
    var displayName: String
    var role: Role
    var joinedAt: Date
}

/// SQL over `auth_memberships`. Tenant-scoped calls take the tenant first and filter on it in
/// SQL, and run inside a transaction scoped to that tenant, so PostgreSQL's row-level security
/// checks the same condition a second time.
enum MembershipStore {
    static func role(_ tenant: TenantID, user: UserID, _ conn: any Connection) throws -> Role? {
        try conn.queryScalar(
            "SELECT role FROM auth_memberships WHERE tenant_id = \(tenant.rawValue) AND user_id = \(user.rawValue)",
            as: String.self
        ).flatMap { Role(rawValue: $0) }
    }

    /// Members with their user details. Users are read by id from `auth_users` (same module, so
    /// the join stays inside Auth's tables).
    static func list(_ tenant: TenantID, _ conn: any Connection) throws -> [MemberRecord] {
        try conn.query(
            """
            SELECT m.user_id, u.email, u.display_name, m.role, m.created_at
            FROM auth_memberships m JOIN auth_users u ON u.id = m.user_id
            WHERE m.tenant_id = \(tenant.rawValue)
            ORDER BY m.created_at, u.email
            """
        ).map { row in
            MemberRecord(
                userID: UserID(try row["user_id", as: String.self])!, email: try row["email", as: String.self],
                displayName: try row["display_name", as: String.self],
                role: Role(rawValue: try row["role", as: String.self]) ?? .viewer,
                joinedAt: try row["created_at", as: Date.self])
        }
    }

    static func member(_ tenant: TenantID, user: UserID, _ conn: any Connection) throws -> MemberRecord? {
        try list(tenant, conn).first { $0.userID == user }
    }

    static func insert(_ tenant: TenantID, user: UserID, role: Role, now: Date, _ conn: any Connection) throws {
        try conn.execute(
            """
            INSERT INTO auth_memberships (tenant_id, user_id, role, created_at, updated_at)
            VALUES (\(tenant.rawValue), \(user.rawValue), \(role.rawValue), \(now), \(now))
            """)
    }

    /// Inserts the membership, or raises an existing one to `role` when `role` is higher.
    static func ensure(_ tenant: TenantID, user: UserID, atLeast role: Role, now: Date, _ conn: any Connection) throws {
        if let current = try self.role(tenant, user: user, conn) {
            if current < role { try setRole(tenant, user: user, role: role, now: now, conn) }
        } else {
            try insert(tenant, user: user, role: role, now: now, conn)
        }
    }

    static func setRole(_ tenant: TenantID, user: UserID, role: Role, now: Date, _ conn: any Connection) throws {
        try conn.execute(
            """
            UPDATE auth_memberships SET role = \(role.rawValue), updated_at = \(now)
            WHERE tenant_id = \(tenant.rawValue) AND user_id = \(user.rawValue)
            """)
    }

    static func delete(_ tenant: TenantID, user: UserID, _ conn: any Connection) throws {
        try conn.execute("DELETE FROM auth_memberships WHERE tenant_id = \(tenant.rawValue) AND user_id = \(user.rawValue)")
    }

    static func ownerCount(_ tenant: TenantID, _ conn: any Connection) throws -> Int {
        try conn.queryScalar(
            "SELECT COUNT(*) FROM auth_memberships WHERE tenant_id = \(tenant.rawValue) AND role = 'owner'", as: Int.self) ?? 0
    }

    /// Every membership of one user, across tenants. Platform scope only (`/auth/me`, login).
    static func memberships(of user: UserID, _ conn: any Connection) throws -> [(tenant: TenantID, role: Role)] {
        try conn.query(
            "SELECT tenant_id, role FROM auth_memberships WHERE user_id = \(user.rawValue) ORDER BY tenant_id"
        ).compactMap { row in
            guard let tenant = TenantID(try row["tenant_id", as: String.self]),
                let role = Role(rawValue: try row["role", as: String.self])
            else { return nil }
            return (tenant, role)
        }
    }
}
