// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// A row of `auth_api_keys`, without the secret digest.
struct APIKeyRecord: Sendable, Equatable {
    var id: String
    var tenant: TenantID
    var name: String
    var role: Role
    var createdBy: String
    var createdAt: Date
    var expiresAt: Date?
    var lastUsedAt: Date?
    var revokedAt: Date?

    static let columns: SQLQuery = "id, tenant_id, name, role, created_by, created_at, expires_at, last_used_at, revoked_at"

    init(row: Row) throws {
        guard let tenant = TenantID(try row["tenant_id", as: String.self]),
            let role = Role(rawValue: try row["role", as: String.self])
        else { throw StorageError(StorageError.typeMismatch, "auth_api_keys row has an invalid tenant or role") }
        id = try row["id", as: String.self]
        self.tenant = tenant
        name = try row["name", as: String.self]
        self.role = role
        createdBy = try row["created_by", as: String.self]
        createdAt = try row["created_at", as: Date.self]
        expiresAt = try row["expires_at", as: Date?.self]
        lastUsedAt = try row["last_used_at", as: Date?.self]
        revokedAt = try row["revoked_at", as: Date?.self]
    }
}

/// SQL over `auth_api_keys`.
enum APIKeyStore {
    static func insert(
        _ tenant: TenantID, key: APIKeySecret, name: String, role: Role, createdBy: String, now: Date, expiresAt: Date?,
        _ conn: any Connection
    ) throws {
        try conn.execute(
            """
            INSERT INTO auth_api_keys (id, tenant_id, name, role, secret_hash, created_by, created_at, expires_at)
            VALUES (\(key.id), \(tenant.rawValue), \(name), \(role.rawValue), \(Encoding.hex(key.secretDigest)),
                    \(createdBy), \(now), \(expiresAt))
            """)
    }

    static func list(_ tenant: TenantID, _ conn: any Connection) throws -> [APIKeyRecord] {
        try conn.query(
            "SELECT \(APIKeyRecord.columns) FROM auth_api_keys WHERE tenant_id = \(tenant.rawValue) ORDER BY created_at, id"
        ).map(APIKeyRecord.init(row:))
    }

    static func find(_ tenant: TenantID, id: String, _ conn: any Connection) throws -> APIKeyRecord? {
        try conn.queryFirst(
            "SELECT \(APIKeyRecord.columns) FROM auth_api_keys WHERE tenant_id = \(tenant.rawValue) AND id = \(id)"
        ).map(APIKeyRecord.init(row:))
    }

    /// Revokes the key; `false` when the tenant has no such key or it was already revoked.
    static func revoke(_ tenant: TenantID, id: String, now: Date, _ conn: any Connection) throws -> Bool {
        try conn.execute(
            """
            UPDATE auth_api_keys SET revoked_at = \(now)
            WHERE tenant_id = \(tenant.rawValue) AND id = \(id) AND revoked_at IS NULL
            """) == 1
    }

    /// The key with its secret digest, by its public id, whatever its tenant. Platform scope only:
    /// this is how a presented key finds its tenant.
    static func lookup(id: String, _ conn: any Connection) throws -> (record: APIKeyRecord, digest: [UInt8])? {
        guard
            let row = try conn.queryFirst(
                "SELECT \(APIKeyRecord.columns), secret_hash FROM auth_api_keys WHERE id = \(id)")
        else { return nil }
        let hex = try row["secret_hash", as: String.self]
        return (try APIKeyRecord(row: row), Self.bytes(hex: hex))
    }

    /// Records use at most once a minute per key, so a busy key costs one write a minute.
    static func touch(_ tenant: TenantID, id: String, now: Date, _ conn: any Connection) throws {
        try conn.execute(
            """
            UPDATE auth_api_keys SET last_used_at = \(now)
            WHERE tenant_id = \(tenant.rawValue) AND id = \(id)
              AND (last_used_at IS NULL OR last_used_at < \(now.addingTimeInterval(-60)))
            """)
    }

    private static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for character in hex.utf8 {
            let nibble: UInt8
            switch character {
            case 0x30...0x39: nibble = character - 0x30
            case 0x61...0x66: nibble = character - 0x61 + 10
            default: return []
            }
            if let value = high {
                bytes.append(value << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }
}
