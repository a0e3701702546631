// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// An entry of `auth_audit_log` as the API lists it.
struct AuditEntry: Sendable, Equatable, Codable {
    var id: Int
    var tenant: String?
    var occurredAt: Date
    var actor: String
    var action: String
    var target: String?
    var requestId: String?
    var clientAddress: String?
    var details: [String: String]
}

/// SQL over `auth_audit_log`. The table refuses UPDATE and DELETE (triggers in Migrations/*/0006).
enum AuditStore {
    static func append(_ event: AuditEvent, _ conn: any Connection) throws {
        try conn.execute(
            """
            INSERT INTO auth_audit_log (tenant_id, occurred_at, actor, action, target, request_id, client_address, details)
            VALUES (\(event.tenant?.rawValue), \(event.occurredAt), \(event.actor), \(event.action), \(event.target),
                    \(event.requestID), \(event.clientAddress), \(try SQLValue.json(event.details)))
            """)
    }

    /// Newest first; `before` is the id of the last entry of the previous page.
    static func page(_ tenant: TenantID, before: Int?, limit: Int, _ conn: any Connection) throws -> [AuditEntry] {
        let cursor: SQLQuery = before.map { "AND id < \($0)" } ?? ""
        return try conn.query(
            """
            SELECT id, tenant_id, occurred_at, actor, action, target, request_id, client_address, details
            FROM auth_audit_log WHERE tenant_id = \(tenant.rawValue) \(cursor)
            ORDER BY id DESC LIMIT \(limit)
            """
        ).map { row in
            AuditEntry(
                id: try row["id", as: Int.self], tenant: try row["tenant_id", as: String?.self],
                occurredAt: try row["occurred_at", as: Date.self], actor: try row["actor", as: String.self],
                action: try row["action", as: String.self], target: try row["target", as: String?.self],
                requestId: try row["request_id", as: String?.self],
                clientAddress: try row["client_address", as: String?.self],
                details: (try? row.decodeJSON("details", as: [String: String].self)) ?? [:])
        }
    }
}
