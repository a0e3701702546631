// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes

/// `/tenants`, `/tenants/current`, `/tenants/{tenant}` and `/tenants/{tenant}/usage`.
struct TenantRoutes: Sendable {
    let service: IdentityService

    /// Largest usage adjustment accepted in one request, so counters cannot overflow.
    static let maximumDelta = 1_000_000_000_000

    func register(_ routes: SecuredRoutes) {
        let service = self.service
        routes.get("/tenants") { _, context in
            try .json(try await service.listTenants(for: context.principal))
        }
        routes.post("/tenants", maxBodyBytes: 16 * 1024) { request, context in
            let body = try request.decode(CreateBody.self)
            let tenant = try TenantID(validating: body.tenant)
            let plan = try Self.plan(body.plan)
            let actor = IdentityService.Actor(
                principal: context.principal, origin: RequestOrigin(requestID: context.requestID, clientAddress: context.clientAddress))
            let (summary, _) = try await service.createOrUpdateTenant(tenant, plan: plan, actor: actor)
            // The reference design answers 200 for both creation and update; clients rely on it.
            return try .json(summary)
        }
        routes.get("/tenants/current", requires: .tenantsRead, tenant: .request) { _, context in
            try .json(try await service.currentSummary(of: context.tenant))
        }
        routes.get("/tenants/{tenant}", requires: .tenantsRead) { _, context in
            try .json(try await service.currentDetail(of: context.tenant, role: context.role))
        }
        routes.patch("/tenants/{tenant}", requires: .tenantsWrite, maxBodyBytes: 16 * 1024) { request, context in
            let body = try request.decode(PatchBody.self)
            guard body.plan != nil || body.status != nil else {
                throw AuthError.unprocessable("give plan, status or both", code: "missing_field")
            }
            let plan = try body.plan.map(Self.plan)
            let status = try body.status.map { text -> TenantStatus in
                guard let status = TenantStatus(rawValue: text.lowercased()) else {
                    throw AuthError.unprocessable("status must be active or suspended", code: "invalid_status")
                }
                return status
            }
            if status != nil { try context.require(.tenantsAdminister) }
            let record = try await service.updateTenant(
                context.tenantID, plan: plan, status: status, actor: Self.actor(context))
            return try .json(try await service.detail(of: record, role: context.role))
        }
        routes.post("/tenants/{tenant}/usage", requires: .tenantsUsageWrite, maxBodyBytes: 16 * 1024) { request, context in
            let body = try request.decode(UsageBody.self)
            let tokens = body.tokensDelta ?? 0
            let requests = body.requestsDelta ?? 0
            guard abs(tokens) <= Self.maximumDelta, abs(requests) <= Self.maximumDelta else {
                throw AuthError.unprocessable("deltas must be between -\(Self.maximumDelta) and \(Self.maximumDelta)", code: "out_of_range")
            }
            let record = try await service.adjustUsage(context.tenantID, tokens: tokens, requests: requests, actor: Self.actor(context))
            return try .json(try await service.summary(of: record))
        }
    }

    static func actor(_ context: TenantContext) -> IdentityService.Actor {
        IdentityService.Actor(principal: context.principal, origin: RequestOrigin(requestID: context.requestID, clientAddress: context.clientAddress))
    }

    static func plan(_ text: String) throws -> TenantPlan {
        guard let plan = TenantPlan(name: text) else {
            throw AuthError.unprocessable(
                "plan must be one of \(TenantPlan.allCases.map(\.rawValue).joined(separator: ", "))", code: "invalid_plan")
        }
        return plan
    }

    struct CreateBody: Decodable {
        var tenant: String
        var plan: String
    }

    struct PatchBody: Decodable {
        var plan: String?
        var status: String?
    }

    struct UsageBody: Decodable {
        var tokensDelta: Int?
        var requestsDelta: Int?
    }
}
