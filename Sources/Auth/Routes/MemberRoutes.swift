// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes

/// `/tenants/{tenant}/members`, `/api-keys` and `/audit`.
struct MemberRoutes: Sendable {
    let service: IdentityService

    func register(_ routes: SecuredRoutes) {
        let service = self.service
        routes.get("/tenants/{tenant}/members", requires: .membersRead) { _, context in
            try .json(try await service.listMembers(context.tenantID))
        }
        routes.post("/tenants/{tenant}/members", requires: .membersManage, maxBodyBytes: 16 * 1024) { request, context in
            let body = try request.decode(AddMemberBody.self)
            let role = try Self.role(body.role)
            let (member, _) = try await service.addMember(
                context.tenantID, email: body.email, role: role, password: body.password, displayName: body.displayName,
                actor: Self.actor(context))
            return try .json(member, status: .created)
        }
        routes.patch("/tenants/{tenant}/members/{user}", requires: .membersManage, maxBodyBytes: 16 * 1024) { request, context in
            let body = try request.decode(ChangeRoleBody.self)
            let member = try await service.changeRole(
                context.tenantID, member: try context.requestContext.parameters.require("user"), to: try Self.role(body.role),
                actor: Self.actor(context))
            return try .json(member)
        }
        routes.delete("/tenants/{tenant}/members/{user}", requires: .membersManage) { _, context in
            try await service.removeMember(
                context.tenantID, member: try context.requestContext.parameters.require("user"), actor: Self.actor(context))
            return .empty()
        }

        routes.get("/tenants/{tenant}/api-keys", requires: .apiKeysManage) { _, context in
            try .json(try await service.listAPIKeys(context.tenantID))
        }
        routes.post("/tenants/{tenant}/api-keys", requires: .apiKeysManage, maxBodyBytes: 16 * 1024) { request, context in
            let body = try request.decode(CreateKeyBody.self)
            let created = try await service.createAPIKey(
                context.tenantID, name: body.name, role: try Self.role(body.role ?? "member"), expiresAt: body.expiresAt,
                actor: Self.actor(context))
            var response = try Response.json(created, status: .created)
            response.headers.append(contentsOf: AuthRoutes.noStore)
            return response
        }
        routes.delete("/tenants/{tenant}/api-keys/{id}", requires: .apiKeysManage) { _, context in
            try await service.revokeAPIKey(
                context.tenantID, id: try context.requestContext.parameters.require("id"), actor: Self.actor(context))
            return .empty()
        }

        routes.get("/tenants/{tenant}/audit", requires: .auditRead) { request, context in
            let query = request.query
            let limit = try query.get("limit", as: Int.self) ?? 50
            guard (1...200).contains(limit) else { throw AuthError.unprocessable("limit must be between 1 and 200", code: "out_of_range") }
            let cursor = try query.get("cursor", as: Int.self)
            if let cursor, cursor < 1 { throw AuthError.unprocessable("cursor must be a positive integer", code: "out_of_range") }
            return try .json(try await service.auditPage(context.tenantID, cursor: cursor, limit: limit))
        }
    }

    static func actor(_ context: TenantContext) -> MemberActor {
        MemberActor(
            principal: context.principal, role: context.role,
            origin: RequestOrigin(requestID: context.requestID, clientAddress: context.clientAddress))
    }

    static func role(_ text: String) throws -> Role {
        guard let role = Role(name: text) else {
            throw AuthError.unprocessable("role must be one of owner, admin, member, viewer", code: "invalid_role")
        }
        return role
    }

    struct AddMemberBody: Decodable {
        var email: String
        var role: String
        var password: String?
        var displayName: String?
    }

    struct ChangeRoleBody: Decodable {
        var role: String
    }

    struct CreateKeyBody: Decodable {
        var name: String
        var role: String?
        var expiresAt: Date?
    }
}
