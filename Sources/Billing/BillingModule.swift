// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

public import Core
public import CoreMetrics
public import Foundation
public import HTTP
public import Logging
public import ServiceLifecycle
public import Storage

/// The Billing module's public entry point: metering, plans and invoice previews, budgets and
/// alerts, Stripe webhooks and subscription state.
///
/// ```swift
/// let billing = BillingModule(database: db, configuration: try BillingConfiguration(environment: env), logger: logger)
/// billing.registerRoutes(on: SecuredRoutes(router: router, resolver: auth.resolver))
/// billing.connect(tenantPlanWriter: auth.tenantPlanWriter, auditLog: auth.auditLog)
/// services += billing.services                          // the outbox worker
/// let ai = AIModule(…, usageMeter: billing.usageMeter, budgetGuard: billing.budgetGuard)
/// ```
public final class BillingModule: Sendable {
    /// The prefix of every table this module owns (ARCHITECTURE.md, rule 3).
    public static let tablePrefix = "billing_"

    public let configuration: BillingConfiguration
    let service: BillingService
    private let links: Links

    /// Collaborators that may be created after this module (Auth builds its own on top of the
    /// usage ledger this module provides).
    private final class Links: @unchecked Sendable {
        // @unchecked: written by `connect` during start-up, before the services run; read after.
        private let lock = NSLock()
        private var planWriter: (any TenantPlanWriter)?
        var tenantPlanWriter: (any TenantPlanWriter)? {
            get { lock.withLock { planWriter } }
            set { lock.withLock { planWriter = newValue } }
        }
    }

    /// - Parameters:
    ///   - auditLog: where budget changes are recorded (Auth's audit log), if any.
    ///   - tenantPlanWriter: how Stripe-driven plan changes reach the tenant registry; may also be
    ///     given later with ``connect(tenantPlanWriter:)``.
    ///   - metrics: receives `atlas_billing_outbox_pending` (the composition root passes Telemetry's).
    public init(database: any Database, configuration: BillingConfiguration, logger: Logger,
                auditLog: (any AuditLog)? = nil, tenantPlanWriter: (any TenantPlanWriter)? = nil,
                metrics: any MetricsFactory = MetricsSystem.factory) {
        self.configuration = configuration
        self.service = BillingService(database: database, configuration: configuration, logger: logger, auditLog: auditLog,
                                      metricsFactory: metrics)
        self.links = Links()
        links.tenantPlanWriter = tenantPlanWriter
    }

    /// Supplies the tenant registry once it exists; call before the services start.
    public func connect(tenantPlanWriter: any TenantPlanWriter) {
        links.tenantPlanWriter = tenantPlanWriter
    }

    /// Registers the module's routes (SPEC §3), each with the permission it requires:
    ///
    /// | route | access |
    /// | --- | --- |
    /// | `POST /metrics/usage` | authenticated; `usage.write` in each tenant the body names |
    /// | `GET /metrics/usage/daily` | authenticated; lists only tenants where the caller holds `usage.read` |
    /// | `GET /tenants/{tenant}/usage/events` | `usage.read` |
    /// | `GET /tenants/{tenant}/budget` | `billing.read` |
    /// | `PUT /tenants/{tenant}/budget` | `billing.manage` |
    /// | `GET /billing/{tenant}/preview` | `billing.read` |
    /// | `GET /billing/{tenant}/subscription` | `billing.read` |
    /// | `POST /webhooks/stripe` | open; `Stripe-Signature` verified |
    public func registerRoutes(on routes: SecuredRoutes) {
        UsageRoutes(service: service, resolver: routes.resolver).register(routes)
        BillingRoutes(service: service).register(routes)
    }

    /// The long-lived parts to run in the application's `ServiceGroup`: the outbox worker that
    /// delivers budget alerts, operator notices and Stripe-driven plan changes, and the
    /// cost-anomaly detector. Start them after storage.
    public var services: [any Service] {
        [OutboxWorker(service: service, planWriter: LinkedPlanWriter(links: links)),
         CostAnomalyDetector(service: service, notifier: notifier, configuration: configuration.costAnomaly)]
    }

    /// Records metered usage in process (for the AI module).
    public var usageMeter: any UsageMeter { service }
    /// The tenants' period usage (for the tenant summary of the Auth module).
    public var usageLedger: any UsageLedger { service }
    /// The tenant's totals for the billing period containing `date`, read with a connection the
    /// caller holds inside its own transaction (the Auth module's tenant summary reads the tenant
    /// row and these totals in one read).
    public func periodTotals(for tenant: TenantID, at date: Date, on connection: any Connection) throws -> UsagePeriodTotals {
        try UsageStore.periodTotals(tenant: tenant, period: BillingPeriod(containing: date), on: connection)
    }
    /// Metered usage of the current period only, for a tenant summary that keeps its own counters.
    public var tenantUsageReader: any TenantUsageReader { service }
    /// Refuses AI usage over budget or past due (for the AI module).
    public var budgetGuard: any BudgetGuard { service }
    /// Operator notices (human review, cost anomalies) through the outbox to the alert webhook.
    public var notifier: any Notifier { OutboxNotifier(service: service) }
    /// Receives plan changes made by the tenant routes, for proration.
    public var planChangeRecorder: any PlanChangeRecorder { service }

    /// The module's counters as `(name, label, value)`, e.g.
    /// `("stripe_webhooks_rejected_total", "no_matching_signature", 3)`, for the metrics endpoint
    /// (names are to be prefixed `atlas_billing_`).
    public func counters() -> [(name: String, label: String?, value: Int64)] {
        service.metrics.snapshot().map { ($0.key.name, $0.key.label, $0.value) }.sorted { ($0.name, $0.label ?? "") < ($1.name, $1.label ?? "") }
    }

    /// Forwards to whatever tenant registry was connected by the time a message is delivered.
    private struct LinkedPlanWriter: TenantPlanWriter {
        let links: Links
        func setPlan(_ plan: TenantPlan, for tenant: TenantID, actor: String) async throws {
            guard let writer = links.tenantPlanWriter else {
                throw BillingError(status: 503, code: "no_tenant_registry", detail: "no tenant registry is connected yet")
            }
            try await writer.setPlan(plan, for: tenant, actor: actor)
        }
    }
}

extension BillingService: TenantUsageReader {
    /// Metered tokens and events of the tenant's current billing period.
    func meteredUsage(for tenant: TenantID) async throws -> (tokens: Int, requests: Int) {
        let totals = try await periodTotals(for: tenant, at: now())
        return (Int(totals.meteredTokens), Int(totals.meteredEvents))
    }
}
