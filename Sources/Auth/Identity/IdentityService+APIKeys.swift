// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// An API key as listings show it: never the secret.
struct APIKeyView: Sendable, Encodable, Equatable {
    var id: String
    var name: String
    var role: String
    var prefix: String
    var createdBy: String
    var createdAt: Date
    var expiresAt: Date?
    var lastUsedAt: Date?
    var revokedAt: Date?

    init(_ record: APIKeyRecord) {
        id = record.id
        name = record.name
        role = record.role.rawValue
        prefix = APIKeySecret(id: record.id, secret: "").displayPrefix
        createdBy = record.createdBy
        createdAt = record.createdAt
        expiresAt = record.expiresAt
        lastUsedAt = record.lastUsedAt
        revokedAt = record.revokedAt
    }
}

/// The answer to `POST /tenants/{tenant}/api-keys`: the only time the key is shown.
struct CreatedAPIKey: Sendable, Encodable, Equatable {
    var id: String
    var name: String
    var role: String
    var key: String
    var prefix: String
    var createdAt: Date
    var expiresAt: Date?
}

extension IdentityService {
    func listAPIKeys(_ tenant: TenantID) async throws -> [APIKeyView] {
        try await database.read(tenant: Scope.tenant(tenant)) { conn in try APIKeyStore.list(tenant, conn) }.map(APIKeyView.init)
    }

    func createAPIKey(_ tenant: TenantID, name: String, role: Role, expiresAt: Date?, actor: MemberActor) async throws -> CreatedAPIKey {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(name.count) else { throw AuthError.unprocessable("name must be 1 to 100 characters") }
        guard actor.mayGrant(role) else {
            throw AuthError.forbidden("you cannot create a key with the role '\(role.rawValue)', which is above your own", code: "role_too_high")
        }
        let now = clock()
        if let expiresAt, expiresAt <= now { throw AuthError.unprocessable("expires_at must be in the future") }
        let key = APIKeySecret.generate()
        try await database.transaction(tenant: Scope.tenant(tenant)) { conn in
            try APIKeyStore.insert(
                tenant, key: key, name: name, role: role, createdBy: actor.principal.actor, now: now, expiresAt: expiresAt, conn)
            try AuditStore.append(
                AuditEvent(
                    tenant: tenant, actor: actor.principal.actor, action: "apikeys.created", target: key.id,
                    requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                    details: ["name": name, "role": role.rawValue], occurredAt: now), conn)
        }
        return CreatedAPIKey(
            id: key.id, name: name, role: role.rawValue, key: key.text, prefix: key.displayPrefix,
            createdAt: Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded(.down) / 1000),
            expiresAt: expiresAt)
    }

    /// Revokes a key of `tenant`; a key of another tenant is "not found".
    func revokeAPIKey(_ tenant: TenantID, id: String, actor: MemberActor) async throws {
        let now = clock()
        defer { forget(apiKey: id) }
        try await database.transaction(tenant: Scope.tenant(tenant)) { conn in
            guard let record = try APIKeyStore.find(tenant, id: id, conn) else {
                throw AuthError.notFound("tenant '\(tenant.rawValue)' has no such API key", code: "api_key_not_found")
            }
            guard actor.mayGrant(record.role) else {
                throw AuthError.forbidden("you cannot revoke a key whose role is above your own", code: "role_too_high")
            }
            guard try APIKeyStore.revoke(tenant, id: id, now: now, conn) else { return }
            try AuditStore.append(
                AuditEvent(
                    tenant: tenant, actor: actor.principal.actor, action: "apikeys.revoked", target: id,
                    requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                    details: ["name": record.name], occurredAt: now), conn)
        }
    }

    // MARK: Audit

    struct AuditPage: Sendable, Encodable {
        var items: [AuditEntry]
        var nextCursor: String?
    }

    func auditPage(_ tenant: TenantID, cursor: Int?, limit: Int) async throws -> AuditPage {
        let entries = try await database.read(tenant: Scope.tenant(tenant)) { conn in
            try AuditStore.page(tenant, before: cursor, limit: limit + 1, conn)
        }
        let page = Array(entries.prefix(limit))
        return AuditPage(items: page, nextCursor: entries.count > limit ? page.last.map { String($0.id) } : nil)
    }
}
