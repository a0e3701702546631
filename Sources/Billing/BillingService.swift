// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import CoreMetrics
import Foundation
import Logging
import Storage

/// The Billing module's domain operations, shared by its routes, its services and the Core
/// protocols it implements for other modules (``UsageMeter``, ``UsageLedger``, ``BudgetGuard``,
/// ``PlanChangeRecorder``).
final class BillingService: Sendable {
    let database: any Database
    let configuration: BillingConfiguration
    let logger: Logger
    let catalog: PlanCatalog
    let metrics: BillingMetrics
    /// `atlas_billing_outbox_pending`: messages neither delivered nor given up, kept current by
    /// the outbox worker after every batch.
    let outboxPending: Gauge
    let outboxSignal: WakeSignal
    let verifier: WebhookSignatureVerifier
    let auditLog: (any AuditLog)?
    /// The clock; tests move it.
    let now: @Sendable () -> Date
    let writer: UsageWriter

    init(database: any Database, configuration: BillingConfiguration, logger: Logger, auditLog: (any AuditLog)? = nil,
         catalog: PlanCatalog = .standard, now: @escaping @Sendable () -> Date = { Date() },
         metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.catalog = catalog
        self.auditLog = auditLog
        self.now = now
        self.verifier = WebhookSignatureVerifier(secrets: configuration.stripeWebhookSecrets, tolerance: configuration.stripeTolerance)
        let enqueue = configuration.alertWebhookURL != nil
        let metrics = BillingMetrics()
        let signal = WakeSignal()
        self.metrics = metrics
        // Delivery failures show at 0 from the first scrape, so an alert on their rate has a baseline.
        for kind in [OutboxMessage.Kind.budgetAlert, .operatorNotice, .planSync] {
            metrics.increment("outbox_failed_total", label: kind.rawValue, by: 0)
            metrics.increment("outbox_retries_total", label: kind.rawValue, by: 0)
        }
        self.outboxPending = Gauge(label: "atlas_billing_outbox_pending", factory: metricsFactory)
        self.outboxSignal = signal
        self.writer = UsageWriter(
            database: database, maxBatch: configuration.usageBatchMax, logger: logger,
            commit: { events, conn in
                let stamp = BillingPeriod.millis(now())
                let result = try UsageStore.write(events, now: stamp, on: conn)
                let alerts = try BudgetStore.evaluate(result.touched, now: stamp, enqueue: enqueue, on: conn)
                metrics.increment("usage_batches_total")
                metrics.increment("usage_events_total", by: Int64(events.count))
                for alert in alerts {
                    metrics.increment("budget_alerts_total")
                    logger.info("budget.threshold_crossed", metadata: [
                        "tenant.id": "\(alert.tenant)", "budget.threshold": "\(alert.thresholdPercent)",
                        "budget.used_tokens": "\(alert.usedTokens)", "budget.tokens": "\(alert.budgetTokens)",
                    ])
                }
                return result.receipts
            },
            afterCommit: { if enqueue { signal.signal() } })
    }

    var currentPeriod: BillingPeriod { BillingPeriod(containing: now()) }

    // MARK: Usage

    func record(_ events: [UsageEventInput]) async throws -> [UsageReceipt] {
        try await writer.submit(events)
    }

    func periodTotals(for tenant: TenantID, at date: Date) async throws -> UsagePeriodTotals {
        let period = BillingPeriod(containing: date)
        return try await database.read { conn in try UsageStore.periodTotals(tenant: tenant, period: period, on: conn) }
    }

    func adjust(_ tenant: TenantID, tokensDelta: Int64, requestsDelta: Int64, actor: String) async throws -> UsagePeriodTotals {
        let stamp = BillingPeriod.millis(now())
        let enqueue = configuration.alertWebhookURL != nil
        let totals = try await database.transaction { conn in
            let totals = try UsageStore.adjust(tenant: tenant, tokensDelta: tokensDelta, requestsDelta: requestsDelta,
                                               actor: actor, now: stamp, on: conn)
            let touched = [UsageStore.TenantPeriod(tenant: tenant.rawValue, periodStart: BillingPeriod.millis(totals.periodStart))]
            _ = try BudgetStore.evaluate(touched, now: stamp, enqueue: enqueue, on: conn)
            return totals
        }
        if enqueue { outboxSignal.signal() }
        return totals
    }

    func summary(hours: Int) async throws -> [UsageStore.SummaryLine] {
        let stamp = BillingPeriod.millis(now())
        return try await database.read { conn in try UsageStore.summary(hours: hours, now: stamp, on: conn) }
    }

    func listEvents(_ tenant: TenantID, from: Int64?, to: Int64?, after cursor: EventCursor?, limit: Int) async throws -> [StoredUsageEvent] {
        try await database.read { conn in
            try UsageStore.list(tenant: tenant, from: from, to: to, cursor: cursor.map { ($0.occurredAt, $0.id) }, limit: limit, on: conn)
        }
    }

    // MARK: Budgets

    func budget(for tenant: TenantID) async throws -> (budget: Budget, totals: UsagePeriodTotals, alerts: [BudgetAlert]) {
        let period = currentPeriod
        return try await database.read { conn in
            let budget = try BudgetStore.budget(tenant: tenant.rawValue, on: conn) ?? .unset
            let totals = try UsageStore.periodTotals(tenant: tenant, period: period, on: conn)
            let alerts = try BudgetStore.alerts(tenant: tenant.rawValue, period: period, on: conn)
            return (budget, totals, alerts)
        }
    }

    /// Saves a budget and raises at once any alert the period's usage already reaches.
    func setBudget(_ budget: Budget, for tenant: TenantID, actor: String) async throws {
        let stamp = BillingPeriod.millis(now())
        let period = currentPeriod
        let enqueue = configuration.alertWebhookURL != nil
        try await database.transaction { conn in
            try BudgetStore.save(budget, tenant: tenant.rawValue, actor: actor, now: stamp, on: conn)
            _ = try BudgetStore.evaluate([UsageStore.TenantPeriod(tenant: tenant.rawValue, periodStart: period.startMillis)],
                                         now: stamp, enqueue: enqueue, on: conn)
        }
        if enqueue { outboxSignal.signal() }
    }

    /// Throws a 402 when the tenant may not consume AI usage now (``BudgetGuard``).
    func check(_ tenant: TenantID) async throws {
        let date = now()
        let period = BillingPeriod(containing: date)
        let (subscription, budget, totals) = try await database.read { conn in
            (try SubscriptionStore.subscription(tenant: tenant, on: conn),
             try BudgetStore.budget(tenant: tenant.rawValue, on: conn),
             try UsageStore.periodTotals(tenant: tenant, period: period, on: conn))
        }
        if let subscription, subscription.refusesUsage(now: date, grace: configuration.pastDueGrace),
           let since = subscription.pastDueSince {
            metrics.increment("usage_refused_total", label: "past_due")
            throw BillingError.paymentRequired(
                "the subscription of tenant \(tenant) has been \(subscription.status.rawValue) since \(Self.iso(since)), beyond its grace period; AI usage resumes once the open invoice is paid")
        }
        if let budget, budget.enforce, let limit = budget.monthlyTokens, totals.tokens >= limit {
            metrics.increment("usage_refused_total", label: "budget")
            throw BillingError.budgetExhausted(
                "tenant \(tenant) has used \(totals.tokens) of its \(limit)-token monthly budget for \(period.label); AI usage resumes on \(Self.iso(period.end)) or when an admin raises the budget")
        }
    }

    // MARK: Plans and previews

    func planChanged(tenant: TenantID, to plan: TenantPlan, at date: Date, source: String) async throws {
        let stamp = BillingPeriod.millis(now())
        try await database.transaction { conn in
            _ = try SubscriptionStore.recordPlan(plan, tenant: tenant, at: date, source: source, now: stamp, on: conn)
        }
    }

    func preview(for tenant: TenantID, currentPlan: TenantPlan) async throws -> InvoicePreview {
        let date = now()
        let period = BillingPeriod(containing: date)
        let stamp = BillingPeriod.millis(date)
        let (history, totals) = try await database.transaction { conn in
            // A plan changed without notice (no PlanChangeRecorder call) is noticed here, late.
            try SubscriptionStore.recordPlan(currentPlan, tenant: tenant, at: date, source: "observed", now: stamp, on: conn)
            return (try SubscriptionStore.planHistory(tenant: tenant, period: period, on: conn),
                    try UsageStore.periodTotals(tenant: tenant, period: period, on: conn))
        }
        return InvoicePreview.compute(tenant: tenant, currentPlan: currentPlan, history: history, tokens: totals.tokens,
                                      period: period, catalog: catalog)
    }

    func subscription(for tenant: TenantID) async throws -> SubscriptionState {
        try await database.read { conn in try SubscriptionStore.subscription(tenant: tenant, on: conn) } ?? SubscriptionState(tenant: tenant)
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

extension BillingService: UsageMeter, UsageLedger, BudgetGuard, PlanChangeRecorder {
    func record(_ usage: UsageRecord) async throws -> String {
        let receipts = try await record([try UsageEventInput(usage)])
        if case .conflict = receipts[0] {
            throw BillingError.conflict("idempotency key \(usage.idempotencyKey ?? "") was used for different usage", code: "idempotency_key_reused")
        }
        return receipts[0].id
    }

    func planChanged(tenant: TenantID, to plan: TenantPlan, at date: Date) async throws {
        try await planChanged(tenant: tenant, to: plan, at: date, source: "api")
    }
}
