// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// A row of `core_tenants`: the tenant and its own usage counters.
struct TenantRecord: Sendable, Equatable {
    var tenant: Tenant
    var tokens: Int
    var requests: Int
    var updatedAt: Date

    init(row: Row) throws {
        guard let id = TenantID(try row["id", as: String.self]) else {
            throw StorageError(StorageError.typeMismatch, "core_tenants.id is not a tenant id")
        }
        tenant = Tenant(
            id: id, plan: TenantPlan(name: try row["plan", as: String.self]) ?? .trial,
            status: TenantStatus(rawValue: try row["status", as: String.self]) ?? .suspended,
            createdAt: try row["created_at", as: Date.self])
        tokens = try row["tokens", as: Int.self]
        requests = try row["requests", as: Int.self]
        updatedAt = try row["updated_at", as: Date.self]
    }
}

/// SQL over `core_tenants`, the tenant table of SPEC §3 (Migrations/*/0001). It has no row-level
/// security: a tenant row is what membership resolution reads before any tenant is known, and
/// listings filter it by membership here.
enum TenantStore {
    static let columns: SQLQuery = "id, plan, status, tokens, requests, created_at, updated_at"

    static func find(_ id: TenantID, _ conn: any Connection) throws -> TenantRecord? {
        try conn.queryFirst("SELECT \(columns) FROM core_tenants WHERE id = \(id.rawValue)").map(TenantRecord.init(row:))
    }

    static func all(_ conn: any Connection) throws -> [TenantRecord] {
        try conn.query("SELECT \(columns) FROM core_tenants ORDER BY id").map(TenantRecord.init(row:))
    }

    static func some(_ ids: [TenantID], _ conn: any Connection) throws -> [TenantRecord] {
        guard !ids.isEmpty else { return [] }
        return try conn.query("SELECT \(columns) FROM core_tenants WHERE id IN (\(list: ids.map(\.rawValue))) ORDER BY id")
            .map(TenantRecord.init(row:))
    }

    /// Creates the tenant; `false` when it already exists.
    @discardableResult
    static func insert(_ id: TenantID, plan: TenantPlan, tokens: Int = 0, requests: Int = 0, now: Date, _ conn: any Connection) throws -> Bool {
        let inserted = try conn.execute(
            """
            INSERT INTO core_tenants (id, plan, status, tokens, requests, created_at, updated_at)
            VALUES (\(id.rawValue), \(plan.rawValue), 'active', \(tokens), \(requests), \(now), \(now))
            ON CONFLICT (id) DO NOTHING
            """)
        return inserted == 1
    }

    static func setPlan(_ id: TenantID, plan: TenantPlan, now: Date, _ conn: any Connection) throws {
        try conn.execute("UPDATE core_tenants SET plan = \(plan.rawValue), updated_at = \(now) WHERE id = \(id.rawValue)")
    }

    static func setStatus(_ id: TenantID, status: TenantStatus, now: Date, _ conn: any Connection) throws {
        try conn.execute("UPDATE core_tenants SET status = \(status.rawValue), updated_at = \(now) WHERE id = \(id.rawValue)")
    }

    /// Adds the deltas; counters never go below zero.
    static func addUsage(_ id: TenantID, tokens: Int, requests: Int, now: Date, _ conn: any Connection) throws {
        try conn.execute(
            """
            UPDATE core_tenants
            SET tokens = CASE WHEN tokens + \(tokens) < 0 THEN 0 ELSE tokens + \(tokens) END,
                requests = CASE WHEN requests + \(requests) < 0 THEN 0 ELSE requests + \(requests) END,
                updated_at = \(now)
            WHERE id = \(id.rawValue)
            """)
    }
}
