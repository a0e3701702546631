// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import Logging
import Storage

/// `{tenant, usage:{tokens,requests,plan}, refreshed_at}` — the reference design's tenant summary.
struct TenantSummary: Sendable, Encodable, Equatable {
    struct Usage: Sendable, Encodable, Equatable {
        var tokens: Int
        var requests: Int
        var plan: String
    }
    var tenant: String
    var usage: Usage
    var refreshedAt: Date
}

extension TenantSummary {
    /// The summary of `tenant` with these usage totals, as of `date`.
    init(_ tenant: Tenant, tokens: Int, requests: Int, at date: Date) {
        self.init(tenant: tenant.id.rawValue,
                  usage: Usage(tokens: tokens, requests: requests, plan: tenant.plan.rawValue), refreshedAt: date)
    }
}

/// A tenant as `GET /tenants` and `GET/PATCH /tenants/{tenant}` show it: the summary's fields plus
/// status, creation time and the caller's role.
struct TenantDetail: Sendable, Encodable, Equatable {
    var tenant: String
    var plan: String
    var status: String
    var createdAt: Date
    var role: String?
    var usage: TenantSummary.Usage
    var refreshedAt: Date
}

// The two answers of `GET /tenants/current` and `GET /tenants/{tenant}` write their own JSON
// (HTTP's `JSONWritable`); `TenantJSONTests` checks it against their `Encodable` form.
extension TenantSummary: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.member("tenant", tenant)
        json.key("usage")
        usage.write(to: &json)
        json.member("refreshed_at", refreshedAt)
        json.endObject()
    }
}

extension TenantSummary.Usage: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.member("tokens", tokens)
        json.member("requests", requests)
        json.member("plan", plan)
        json.endObject()
    }
}

extension TenantDetail: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.member("tenant", tenant)
        json.member("plan", plan)
        json.member("status", status)
        json.member("created_at", createdAt)
        json.member("role", role)
        json.key("usage")
        usage.write(to: &json)
        json.member("refreshed_at", refreshedAt)
        json.endObject()
    }
}

extension IdentityService {
    /// Slugs that name routes under `/tenants/` and so cannot name tenants.
    static let reservedTenantIDs: Set<String> = ["current"]

    /// The actor label, and the user to make owner when a user creates a tenant.
    struct Actor: Sendable {
        var principal: Principal
        var origin: RequestOrigin
    }

    /// The summary's usage: the ledger's period totals when the metering module is connected
    /// (SPEC §4: the number the billing preview charges on), else the tenant's own counters plus
    /// any metered usage a reader reports.
    func summary(of record: TenantRecord) async throws -> TenantSummary {
        let tokens: Int
        let requests: Int
        if let ledger {
            let totals = try await ledger.periodTotals(for: record.tenant.id, at: clock())
            (tokens, requests) = (Int(totals.tokens), Int(totals.requests))
        } else {
            let metered = try await usageReader?.meteredUsage(for: record.tenant.id) ?? (tokens: 0, requests: 0)
            (tokens, requests) = (record.tokens + metered.tokens, record.requests + metered.requests)
        }
        return TenantSummary(record.tenant, tokens: tokens, requests: requests, at: clock())
    }

    /// Tells the metering module about a committed plan change, for proration. A failure there
    /// must not undo the change the client was told succeeded, so it is logged, not thrown.
    func reportPlan(_ plan: TenantPlan, of tenant: TenantID, at date: Date) async {
        guard let planRecorder else { return }
        do {
            try await planRecorder.planChanged(tenant: tenant, to: plan, at: date)
        } catch {
            logger.warning("auth.plan_change_not_recorded", metadata: ["tenant.id": "\(tenant.rawValue)", "error": "\(error)"])
        }
    }

    func detail(of record: TenantRecord, role: Role?) async throws -> TenantDetail {
        Self.detail(of: record.tenant, summary: try await summary(of: record), role: role)
    }

    static func detail(of tenant: Tenant, summary: TenantSummary, role: Role?) -> TenantDetail {
        TenantDetail(
            tenant: summary.tenant, plan: tenant.plan.rawValue, status: tenant.status.rawValue,
            createdAt: tenant.createdAt, role: role?.rawValue, usage: summary.usage, refreshedAt: summary.refreshedAt)
    }

    /// The summary `GET /tenants/current` answers for `tenant`, as the request's context resolved
    /// it (status and plan come from the membership check, cached for at most
    /// ``AuthModule/Configuration/cacheTimeToLive`` and forgotten here on every change). The usage
    /// is read now: the ledger's period totals on Auth's connection in the tenant's scope when the
    /// metering module is connected, else the tenant's own counters.
    func currentSummary(of tenant: Tenant) async throws -> TenantSummary {
        guard let reader = ledgerTotals else { return try await summary(of: try await tenantRecord(tenant.id)) }
        let now = clock()
        let totals = try await database.read(tenant: Scope.tenant(tenant.id)) { conn in
            try reader.periodTotals(for: tenant.id, at: now, on: conn)
        }
        return TenantSummary(tenant, tokens: Int(totals.tokens), requests: Int(totals.requests), at: now)
    }

    /// ``detail(of:role:)`` of the resolved tenant, read as ``currentSummary(of:)`` reads.
    func currentDetail(of tenant: Tenant, role: Role?) async throws -> TenantDetail {
        Self.detail(of: tenant, summary: try await currentSummary(of: tenant), role: role)
    }

    static func tenantNotFound(_ tenant: TenantID) -> AuthError {
        AuthError.notFound("tenant '\(tenant.rawValue)' was not found", code: "tenant_not_found")
    }

    func tenantRecord(_ tenant: TenantID) async throws -> TenantRecord {
        guard let record = try await database.read(tenant: Scope.tenant(tenant), { conn in try TenantStore.find(tenant, conn) }) else {
            throw Self.tenantNotFound(tenant)
        }
        return record
    }

    /// The tenants the principal may see: all of them for a platform administrator, its
    /// memberships for a user, its own tenant for an API key.
    func listTenants(for principal: Principal) async throws -> [TenantDetail] {
        let rows: [(TenantRecord, Role?)]
        switch principal.subject {
        case .apiKey(_, let tenant, let role):
            rows = try await database.read(tenant: Scope.tenant(tenant)) { conn in
                try TenantStore.find(tenant, conn).map { [($0, role)] } ?? []
            }
        case .user(let user):
            let everyone = principal.isPlatformAdmin
            rows = try await database.read(tenant: Scope.platform) { conn in
                let memberships = try MembershipStore.memberships(of: user, conn)
                let roles = Dictionary(uniqueKeysWithValues: memberships.map { ($0.tenant, $0.role) })
                let records = everyone ? try TenantStore.all(conn) : try TenantStore.some(memberships.map(\.tenant), conn)
                return records.map { ($0, roles[$0.tenant.id]) }
            }
        }
        var result: [TenantDetail] = []
        for (record, role) in rows { result.append(try await detail(of: record, role: role)) }
        return result
    }

    /// `POST /tenants {tenant, plan}`: creates the tenant (platform administrators; the creating
    /// user becomes its owner) or changes an existing tenant's plan (its owners and platform
    /// administrators).
    ///
    /// A caller who may not create tenants gets the same 403 whether or not the tenant exists and
    /// whether or not they belong to it with a lesser role, so the answer reveals nothing.
    func createOrUpdateTenant(_ tenant: TenantID, plan: TenantPlan, actor: Actor) async throws -> (TenantSummary, created: Bool) {
        let principal = actor.principal
        let access = try await self.access(of: principal, to: tenant)
        let now = clock()
        if let access {
            guard principal.holds(.tenantsWrite, role: access.role) else {
                throw AuthError.forbidden(
                    "changing a tenant's plan needs the permission 'tenants.write' (owners and platform administrators)",
                    code: "permission_denied")
            }
            if access.tenant.status == .suspended && !principal.isPlatformAdmin {
                throw AuthError.forbidden(
                    "tenant '\(tenant.rawValue)' is suspended; a platform administrator must reactivate it before it can be used",
                    code: "tenant_suspended")
            }
            let record = try await changePlan(tenant, to: plan, actor: actor, now: now)
            return (try await summary(of: record), false)
        }
        guard principal.isPlatformAdmin else {
            throw AuthError.forbidden(
                "only platform administrators create tenants, and only a tenant's owners change its plan",
                code: "permission_denied")
        }
        guard !Self.reservedTenantIDs.contains(tenant.rawValue) else {
            throw AuthError.unprocessable("'\(tenant.rawValue)' is reserved and cannot name a tenant", code: "reserved_tenant")
        }
        let owner = principal.userID
        let record = try await database.transaction(tenant: Scope.tenant(tenant)) { conn -> TenantRecord? in
            guard try TenantStore.insert(tenant, plan: plan, now: now, conn) else { return nil }
            if let owner { try MembershipStore.insert(tenant, user: owner, role: .owner, now: now, conn) }
            try AuditStore.append(
                AuditEvent(
                    tenant: tenant, actor: principal.actor, action: "tenants.created", target: tenant.rawValue,
                    requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                    details: ["plan": plan.rawValue], occurredAt: now), conn)
            return try TenantStore.find(tenant, conn)
        }
        forget(tenant: tenant)
        // A concurrent request created it first: answer as an update of the now-existing tenant.
        guard let record else { return try await createOrUpdateTenant(tenant, plan: plan, actor: actor) }
        await reportPlan(plan, of: tenant, at: now)
        return (try await summary(of: record), true)
    }

    private func changePlan(_ tenant: TenantID, to plan: TenantPlan, actor: Actor, now: Date) async throws -> TenantRecord {
        defer { forget(tenant: tenant) }
        let record = try await database.transaction(tenant: Scope.tenant(tenant)) { conn in
            guard let before = try TenantStore.find(tenant, conn) else {
                throw Self.tenantNotFound(tenant)
            }
            if before.tenant.plan != plan {
                try TenantStore.setPlan(tenant, plan: plan, now: now, conn)
                try AuditStore.append(
                    AuditEvent(
                        tenant: tenant, actor: actor.principal.actor, action: "tenants.plan_changed", target: tenant.rawValue,
                        requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                        details: ["from": before.tenant.plan.rawValue, "to": plan.rawValue], occurredAt: now), conn)
            }
            return try TenantStore.find(tenant, conn)!
        }
        await reportPlan(plan, of: tenant, at: now)
        return record
    }

    /// `PATCH /tenants/{tenant}`: plan (permission `tenants.write`) and/or status (platform
    /// administrators). The caller's permissions were checked by the route.
    func updateTenant(_ tenant: TenantID, plan: TenantPlan?, status: TenantStatus?, actor: Actor) async throws -> TenantRecord {
        let now = clock()
        defer { forget(tenant: tenant) }
        let record = try await database.transaction(tenant: Scope.tenant(tenant)) { conn in
            guard let before = try TenantStore.find(tenant, conn) else {
                throw Self.tenantNotFound(tenant)
            }
            if let plan, plan != before.tenant.plan {
                try TenantStore.setPlan(tenant, plan: plan, now: now, conn)
                try AuditStore.append(
                    AuditEvent(
                        tenant: tenant, actor: actor.principal.actor, action: "tenants.plan_changed", target: tenant.rawValue,
                        requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                        details: ["from": before.tenant.plan.rawValue, "to": plan.rawValue], occurredAt: now), conn)
            }
            if let status, status != before.tenant.status {
                try TenantStore.setStatus(tenant, status: status, now: now, conn)
                try AuditStore.append(
                    AuditEvent(
                        tenant: tenant, actor: actor.principal.actor, action: "tenants.status_changed", target: tenant.rawValue,
                        requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                        details: ["from": before.tenant.status.rawValue, "to": status.rawValue], occurredAt: now), conn)
            }
            return try TenantStore.find(tenant, conn)!
        }
        if let plan { await reportPlan(plan, of: tenant, at: now) }
        return record
    }

    /// Sets a tenant's plan on behalf of another module (Stripe-driven changes from Billing).
    /// Idempotent: the plan the tenant already has changes nothing and records nothing.
    func setPlan(_ plan: TenantPlan, for tenant: TenantID, actor: String) async throws {
        let now = clock()
        defer { forget(tenant: tenant) }
        try await database.transaction(tenant: Scope.tenant(tenant)) { conn in
            guard let before = try TenantStore.find(tenant, conn) else {
                throw Self.tenantNotFound(tenant)
            }
            guard before.tenant.plan != plan else { return }
            try TenantStore.setPlan(tenant, plan: plan, now: now, conn)
            try AuditStore.append(
                AuditEvent(
                    tenant: tenant, actor: actor, action: "tenants.plan_changed", target: tenant.rawValue,
                    details: ["from": before.tenant.plan.rawValue, "to": plan.rawValue], occurredAt: now), conn)
        }
    }

    /// `POST /tenants/{tenant}/usage`: an adjustment of the current period in the ledger when the
    /// metering module is connected, else of the tenant's own counters. Audited either way.
    func adjustUsage(_ tenant: TenantID, tokens: Int, requests: Int, actor: Actor) async throws -> TenantRecord {
        let now = clock()
        if let ledger {
            _ = try await ledger.adjust(tenant, tokensDelta: Int64(tokens), requestsDelta: Int64(requests), actor: actor.principal.actor)
        }
        let counters = ledger == nil
        return try await database.transaction(tenant: Scope.tenant(tenant)) { conn in
            if counters { try TenantStore.addUsage(tenant, tokens: tokens, requests: requests, now: now, conn) }
            try AuditStore.append(
                AuditEvent(
                    tenant: tenant, actor: actor.principal.actor, action: "tenants.usage_adjusted", target: tenant.rawValue,
                    requestID: actor.origin.requestID, clientAddress: actor.origin.clientAddress,
                    details: ["tokens_delta": String(tokens), "requests_delta": String(requests)], occurredAt: now), conn)
            guard let record = try TenantStore.find(tenant, conn) else {
                throw Self.tenantNotFound(tenant)
            }
            return record
        }
    }
}
