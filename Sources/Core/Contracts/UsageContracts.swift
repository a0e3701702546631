// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// One usage event as a module records it in process (an LLM call, an embedding batch).
public struct UsageRecord: Sendable, Hashable {
    /// The tenant that consumed the tokens.
    public var tenant: TenantID
    /// What produced the usage, e.g. `ai-service` (the reference design's default) or `ai.assistant`.
    public var source: String
    /// Tokens consumed; never negative.
    public var tokens: Int64
    /// How long the call took, when known.
    public var latencyMs: Double?
    /// Makes a retried record count once: two records of one tenant with the same key are one event.
    public var idempotencyKey: String?

    public init(tenant: TenantID, source: String = "ai-service", tokens: Int64, latencyMs: Double? = nil, idempotencyKey: String? = nil) {
        self.tenant = tenant
        self.source = source
        self.tokens = tokens
        self.latencyMs = latencyMs
        self.idempotencyKey = idempotencyKey
    }
}

/// Records metered usage. Implemented by the Billing module; the AI module calls it after every
/// LLM call, so AI usage is metered in process instead of over HTTP.
///
/// ```swift
/// let id = try await meter.record(UsageRecord(tenant: tenant, source: "ai.assistant", tokens: 412, latencyMs: 830))
/// ```
///
/// The call returns once the event is durably stored (its group commit has committed); it throws a
/// ``ProblemError`` when the record is invalid (422) or storage is unavailable (503).
public protocol UsageMeter: Sendable {
    /// Stores the event and returns its id (`use_…`), or the id of the event that already carries
    /// the same idempotency key.
    @discardableResult
    func record(_ usage: UsageRecord) async throws -> String
}

/// A tenant's usage in its current billing period: the number `GET /tenants/current` shows as
/// `usage.tokens`/`usage.requests` and the number the billing preview charges overage on (SPEC §4).
public struct UsagePeriodTotals: Sendable, Hashable, Codable {
    public var tenant: TenantID
    /// The period's first instant (inclusive), UTC.
    public var periodStart: Date
    /// The period's end (exclusive), UTC: the next charge date.
    public var periodEnd: Date
    /// Tokens from metered events in the period.
    public var meteredTokens: Int64
    /// Metered events in the period.
    public var meteredEvents: Int64
    /// Sum of the period's `tokens_delta` adjustments.
    public var adjustedTokens: Int64
    /// Sum of the period's `requests_delta` adjustments.
    public var adjustedRequests: Int64

    public init(tenant: TenantID, periodStart: Date, periodEnd: Date, meteredTokens: Int64 = 0, meteredEvents: Int64 = 0,
                adjustedTokens: Int64 = 0, adjustedRequests: Int64 = 0) {
        self.tenant = tenant
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.meteredTokens = meteredTokens
        self.meteredEvents = meteredEvents
        self.adjustedTokens = adjustedTokens
        self.adjustedRequests = adjustedRequests
    }

    /// `usage.tokens`: adjustments plus metered events.
    public var tokens: Int64 { adjustedTokens + meteredTokens }
    /// `usage.requests`: adjustments plus one per metered event.
    public var requests: Int64 { adjustedRequests + meteredEvents }
}

/// The one source of a tenant's period usage, implemented by the Billing module. The Auth
/// module's tenant routes read and adjust usage only through it, so `GET /tenants/current`,
/// `GET /metrics/usage/daily` and `GET /billing/{tenant}/preview` never disagree.
///
/// ```swift
/// let totals = try await ledger.adjust(tenant, tokensDelta: 500, requestsDelta: 1, actor: principal.actor)
/// summary.usage.tokens = totals.tokens
/// ```
public protocol UsageLedger: Sendable {
    /// The tenant's totals for the billing period containing `date` (now by default).
    func periodTotals(for tenant: TenantID, at date: Date) async throws -> UsagePeriodTotals

    /// Adds a manual adjustment (`POST /tenants/{tenant}/usage`) to the current period and returns
    /// the new totals. Throws a 422 ``ProblemError`` when it would make a total negative.
    func adjust(_ tenant: TenantID, tokensDelta: Int64, requestsDelta: Int64, actor: String) async throws -> UsagePeriodTotals
}

extension UsageLedger {
    /// The tenant's totals for the current billing period.
    public func periodTotals(for tenant: TenantID) async throws -> UsagePeriodTotals {
        try await periodTotals(for: tenant, at: Date())
    }
}
