// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import AI
import Auth
import Billing
import Core
import DataPlatform
import Foundation
import HTTP
import ServiceLifecycle
import Storage
import Telemetry

extension Application {
    /// Builds the feature modules, connects them through their Core contracts, seeds what they
    /// need and mounts their routes; returns the background services they run. Health and root
    /// run inline on the event loops: they never block.
    func mountRoutes(on router: Router, database: any Database, telemetry: TelemetryModule) async throws -> [any Service] {
        let root = try! Response.json(RootDocument(name: "Atlas", environment: configuration.environment, docsURL: "/openapi.json"))
        let live = Response.json(rawJSON: #"{"status":"ok"}"#)
        let environment = configuration.environment

        router.inline
            .get("/") { _, _ in root }
            .get("/health/live") { _, _ in live }

        router.get("/health/ready") { _, _ in
            do {
                try await database.ping()
            } catch {
                throw AtlasError(status: 503, code: "storage_unavailable", detail: "storage is unreachable")
            }
            return try Response.json(Readiness(status: "ready", environment: environment))
        }

        let auth = try await AuthModule(database: database, configuration: self.auth, logger: logger)
        let billing = BillingModule(
            database: database, configuration: self.billing, logger: logger,
            auditLog: auth.auditLog, tenantPlanWriter: auth.tenantPlanWriter, metrics: telemetry.metricsFactory)
        // Billing's ledger is the one source of a tenant's period usage (SPEC §4).
        auth.connect(usageLedger: billing.usageLedger, planChangeRecorder: billing.planChangeRecorder,
                     ledgerTotals: BillingLedgerTotals(billing: billing))
        try await auth.bootstrap()
        auth.registerRoutes(on: router)
        let secured = SecuredRoutes(router: router, resolver: auth.resolver)
        billing.registerRoutes(on: secured)
        let data = DataModule(database: database, configuration: self.data, logger: logger)
        try await data.bootstrap()
        data.registerRoutes(on: secured)
        let ai = AIModule(database: database, configuration: self.ai, logger: logger, usageMeter: billing.usageMeter,
                          metrics: telemetry.metricsFactory)
        // Before the routes serve: `POST /ai/runs` names the `assistant` graph by default.
        try ai.installAssistant(budgetGuard: billing.budgetGuard, usageMeter: billing.usageMeter, notifier: billing.notifier,
                                dataCatalog: data.catalog, logger: logger)
        ai.registerRoutes(on: secured)
        telemetry.contribute(counterSource(prefix: "atlas_ai_", labelName: "kind", ai.counters))

        if configuration.debugRoutesEnabled {
            router.inline.post("/debug/echo", maxBodyBytes: 64 * 1024) { request, _ in
                let payload = try request.decode(EchoPayload.self)
                try payload.validate()
                return try Response.json(payload)
            }
        }
        mountOpenAPI(on: router)
        // Last, so every route above has its RED series from the first scrape.
        telemetry.registerMetricsRoute(
            on: router, counters: [counterSource(prefix: "atlas_billing_", labelName: "reason", billing.counters)])
        return billing.services + ai.services + data.services + telemetry.services
    }
}

struct RootDocument: Encodable {
    var name: String
    var environment: String
    var docsURL: String
}

struct Readiness: Encodable {
    var status: String
    var environment: String
}

/// The body of `POST /debug/echo`, a route the benchmarks use to measure JSON decoding,
/// validation and encoding without storage.
struct EchoPayload: Codable, Sendable {
    var name: String
    var count: Int
    var tags: [String]

    func validate() throws {
        if name.isEmpty || name.count > 100 {
            throw AtlasError.unprocessable("name: must be 1 to 100 characters")
        }
        if !(0...1000).contains(count) {
            throw AtlasError.unprocessable("count: must be between 0 and 1000")
        }
        if tags.count > 20 {
            throw AtlasError.unprocessable("tags: at most 20 entries")
        }
    }
}

/// Billing's period totals as Auth reads them on its own connection (``LedgerTotalsReader``).
struct BillingLedgerTotals: LedgerTotalsReader {
    let billing: BillingModule

    func periodTotals(for tenant: TenantID, at date: Date, on connection: any Connection) throws -> UsagePeriodTotals {
        try billing.periodTotals(for: tenant, at: date, on: connection)
    }
}
