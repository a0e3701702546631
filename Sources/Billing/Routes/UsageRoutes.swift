// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes

/// `POST /metrics/usage`, `GET /metrics/usage/daily`, `GET /tenants/{tenant}/usage/events`.
struct UsageRoutes {
    let service: BillingService
    let resolver: TenantResolver

    /// Events in one batched request.
    static let maxBatch = 1_000
    static let maxBodyBytes = 1024 * 1024

    func register(_ routes: SecuredRoutes) {
        let service = self.service
        let resolver = self.resolver

        // The tenant is named in the body (the reference design's contract), so the route is
        // registered as authenticated and the handler checks `usage.write` for each named tenant in
        // the same order as TenantResolver: 400 bad id, 404 unknown or invisible, 403 suspended,
        // 403 permission.
        routes.post("/metrics/usage", maxBodyBytes: Self.maxBodyBytes) { request, context in
            let (items, batched) = try Self.decodeEvents(request)
            let headerKey = request.headers["Idempotency-Key"]
            var events: [UsageEventInput] = []
            events.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                let tenant = try TenantID(validating: item.tenant)
                let key = item.idempotencyKey ?? headerKey.map { batched ? "\($0)#\(index)" : $0 }
                events.append(try UsageEventInput(tenant: tenant, source: item.source ?? "ai-service", tokens: item.tokens,
                                                  latencyMs: item.latencyMs, idempotencyKey: key))
            }
            for tenant in Set(events.map(\.tenant)).sorted() {
                try await Self.requireUsageWrite(tenant, principal: context.principal, resolver: resolver)
            }
            if let first = events.first { context.requestContext.tenant = first.tenant.rawValue }
            let receipts = try await service.record(events)
            if !batched {
                switch receipts[0] {
                case .accepted(let id):
                    return try .json(Accepted(status: "accepted", id: id), status: .accepted)
                case .duplicate(let id):
                    var response = try Response.json(Accepted(status: "accepted", id: id), status: .accepted)
                    response.headers[HTTPField.Name("Idempotent-Replayed")!] = "true"
                    return response
                case .conflict:
                    throw BillingError.conflict(
                        "the Idempotency-Key was already used for a different usage event", code: "idempotency_key_reused")
                }
            }
            let results = receipts.map { receipt -> BatchResult in
                switch receipt {
                case .accepted(let id): BatchResult(id: id, status: "accepted")
                case .duplicate(let id): BatchResult(id: id, status: "duplicate")
                case .conflict(let id): BatchResult(id: id, status: "conflict")
                }
            }
            return try .json(BatchAccepted(status: "accepted", ids: results.map(\.id), results: results), status: .accepted)
        }

        routes.get("/metrics/usage/daily") { request, context in
            let hours = try request.query.get("hours", as: Int.self) ?? 24
            guard (1...8_760).contains(hours) else {
                throw BillingError.badRequest("hours must be an integer between 1 and 8760", code: "invalid_hours")
            }
            let lines = try await service.summary(hours: hours)
            var visible: [DailyUsage] = []
            for line in lines {
                guard let tenant = TenantID(line.tenant),
                      try await Self.maySee(tenant, permission: .usageRead, principal: context.principal, resolver: resolver) else { continue }
                visible.append(DailyUsage(
                    tenant: line.tenant, events: line.events, tokens: line.tokens, latencyMs: line.meanLatency,
                    windowHours: hours, p50LatencyMs: line.histogram.percentile(0.5), p95LatencyMs: line.histogram.percentile(0.95)))
            }
            return try .json(visible)
        }

        routes.get("/tenants/{tenant}/usage/events", requires: .usageRead) { request, context in
            let query = request.query
            let limit = try query.get("limit", as: Int.self) ?? 100
            guard (1...1_000).contains(limit) else {
                throw BillingError.badRequest("limit must be an integer between 1 and 1000", code: "invalid_limit")
            }
            let from = try query["from"].map { try Self.instant($0, name: "from") }
            let to = try query["to"].map { try Self.instant($0, name: "to") }
            let cursor = try query["cursor"].map(EventCursor.init(encoded:))
            let tenant = context.tenantID
            let events = try await service.listEvents(tenant, from: from, to: to, after: cursor, limit: limit + 1)
            let page = Array(events.prefix(limit))
            let next = events.count > limit ? page.last.map { EventCursor(occurredAt: $0.occurredAt, id: $0.id).encoded } : nil
            return try .json(EventPage(
                tenant: tenant.rawValue,
                events: page.map {
                    EventItem(id: $0.id, source: $0.source, tokens: $0.tokens, latencyMs: $0.latencyMs, idempotencyKey: $0.idempotencyKey,
                              occurredAt: Date(timeIntervalSince1970: Double($0.occurredAt) / 1000))
                },
                nextCursor: next))
        }
    }

    // MARK: Access

    static func requireUsageWrite(_ tenant: TenantID, principal: Principal, resolver: TenantResolver) async throws {
        guard let access = try await resolver.directory.access(of: principal, to: tenant) else {
            throw TenantResolver.notFound(tenant)
        }
        if access.tenant.status == .suspended && !principal.isPlatformAdmin {
            throw AtlasError(status: 403, code: "tenant_suspended", detail: "tenant '\(tenant.rawValue)' is suspended")
        }
        guard principal.holds(.usageWrite, role: access.role) else {
            throw TenantResolver.denied(.usageWrite, role: access.role)
        }
    }

    /// Whether the principal may read `tenant`'s data under `permission`; never throws for a
    /// tenant it may not see (the summary simply leaves it out).
    static func maySee(_ tenant: TenantID, permission: Permission, principal: Principal, resolver: TenantResolver) async throws -> Bool {
        if principal.isPlatformAdmin { return true }
        if case .apiKey(_, let keyTenant, let role) = principal.subject {
            return keyTenant == tenant && principal.holds(permission, role: role)
        }
        guard let access = try await resolver.directory.access(of: principal, to: tenant) else { return false }
        return principal.holds(permission, role: access.role)
    }

    // MARK: Bodies

    struct EventBody: Decodable {
        var tenant: String
        var source: String?
        var tokens: Int64
        var latencyMs: Double?
        /// An event's own key; without it the `Idempotency-Key` header applies (suffixed `#<index>`
        /// in a batch).
        var idempotencyKey: String?
    }

    /// A single event, or the `{"events": […]}` batch form, decoded in one pass.
    struct Envelope: Decodable {
        var events: [EventBody]?
        var tenant: String?
        var source: String?
        var tokens: Int64?
        var latencyMs: Double?
        var idempotencyKey: String?
    }

    /// One event (`{tenant, tokens, …}`), or a batch: a JSON array of events or `{"events": […]}`.
    static func decodeEvents(_ request: Request) throws -> (events: [EventBody], batched: Bool) {
        let first = request.body.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        let events: [EventBody]
        if first == UInt8(ascii: "[") {
            events = try request.decode([EventBody].self)
        } else {
            let envelope = try request.decode(Envelope.self)
            if let batch = envelope.events, envelope.tenant == nil {
                events = batch
            } else {
                guard let tenant = envelope.tenant else {
                    throw BillingError.unprocessable("tenant: required field is missing", code: "missing_field")
                }
                guard let tokens = envelope.tokens else {
                    throw BillingError.unprocessable("tokens: required field is missing", code: "missing_field")
                }
                return ([EventBody(tenant: tenant, source: envelope.source, tokens: tokens, latencyMs: envelope.latencyMs,
                                   idempotencyKey: envelope.idempotencyKey)], false)
            }
        }
        guard (1...maxBatch).contains(events.count) else {
            throw BillingError.unprocessable("a batch holds 1 to \(maxBatch) events", code: "invalid_batch")
        }
        return (events, true)
    }

    static func instant(_ text: String, name: String) throws -> Int64 {
        if let date = try? Date(text, strategy: .iso8601) { return BillingPeriod.millis(date) }
        throw BillingError.badRequest("\(name) must be an RFC 3339 time such as 2025-11-01T00:00:00Z", code: "invalid_time")
    }

    // MARK: Responses

    struct Accepted: Encodable {
        var status: String
        var id: String
    }

    struct BatchResult: Encodable {
        var id: String
        var status: String
    }

    struct BatchAccepted: Encodable {
        var status: String
        var ids: [String]
        var results: [BatchResult]
    }

    struct DailyUsage: Encodable {
        var tenant: String
        var events: Int64
        var tokens: Int64
        var latencyMs: Double
        var windowHours: Int
        var p50LatencyMs: Double?
        var p95LatencyMs: Double?

        enum CodingKeys: String, CodingKey {
            case tenant, events, tokens, latencyMs, windowHours, p50LatencyMs, p95LatencyMs
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tenant, forKey: .tenant)
            try container.encode(events, forKey: .events)
            try container.encode(tokens, forKey: .tokens)
            try container.encode(latencyMs, forKey: .latencyMs)
            try container.encode(windowHours, forKey: .windowHours)
            // Present as null when no event in the window reported a latency.
            try container.encode(p50LatencyMs, forKey: .p50LatencyMs)
            try container.encode(p95LatencyMs, forKey: .p95LatencyMs)
        }
    }

    struct EventItem: Encodable {
        var id: String
        var source: String
        var tokens: Int64
        var latencyMs: Double?
        var idempotencyKey: String?
        var occurredAt: Date
    }

    struct EventPage: Encodable {
        var tenant: String
        var events: [EventItem]
        var nextCursor: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tenant, forKey: .tenant)
            try container.encode(events, forKey: .events)
            try container.encode(nextCursor, forKey: .nextCursor)
        }

        enum CodingKeys: String, CodingKey { case tenant, events, nextCursor }
    }
}
