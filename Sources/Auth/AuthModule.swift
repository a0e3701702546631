// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation
public import HTTP
public import Logging
public import Storage

/// The Auth module's one public entry point: users, tokens, API keys, tenants, members and the
/// audit log, wired by the `atlas` composition root.
///
/// ```swift
/// let auth = try await AuthModule(
///     database: database, configuration: try AuthModule.Configuration(environment: env), logger: logger)
/// let billing = BillingModule(…, auditLog: auth.auditLog, tenantPlanWriter: auth.tenantPlanWriter)
/// auth.connect(usageLedger: billing.usageLedger, planChangeRecorder: billing.planChangeRecorder)
/// try await auth.bootstrap()                     // seed tenants and the platform admin (idempotent)
/// auth.registerRoutes(on: router)                // /auth/*, /tenants/*
/// // Other modules declare their routes through the same resolver:
/// let routes = SecuredRoutes(router: router, resolver: auth.resolver)
/// ```
public final class AuthModule: Sendable {
    /// The prefix of every table this module owns (ARCHITECTURE.md, rule 3).
    public static let tablePrefix = "auth_"

    public let configuration: Configuration
    let service: IdentityService

    /// Authenticates requests and builds tenant contexts; hand it to every module that registers
    /// routes, through ``HTTP/SecuredRoutes``.
    public let resolver: TenantResolver

    /// Bearer tokens and API keys → ``Principal``.
    public var authenticator: any Authenticator { service }
    /// Tenant look-up and membership resolution.
    public var tenantDirectory: any TenantDirectory { service }
    /// The append-only audit log, for other modules' security-relevant events.
    public var auditLog: any AuditLog { service }
    /// Sets tenants' plans for other modules (Stripe-driven changes from Billing); idempotent.
    public var tenantPlanWriter: any TenantPlanWriter { service }

    /// Connects the metering module, which is built after Auth. With a ledger, tenant summaries
    /// show its period totals and `POST /tenants/{tenant}/usage` adjusts it (SPEC §4: one number
    /// for the summary and the billing preview); with a recorder, plan changes are reported to it
    /// for proration. Call before the server starts.
    /// `ledgerTotals` reads the same ledger's totals on Auth's own connection, in the tenant's
    /// scope, so `GET /tenants/current` costs one short read.
    public func connect(usageLedger: (any UsageLedger)?, planChangeRecorder: (any PlanChangeRecorder)?,
                        ledgerTotals: (any LedgerTotalsReader)? = nil) {
        service.connect(ledger: usageLedger, planRecorder: planChangeRecorder, ledgerTotals: ledgerTotals)
    }

    /// - Parameters:
    ///   - database: the opened, migrated database.
    ///   - usage: metered usage to add to tenant summaries (the Billing module's), if any.
    public init(
        database: any Database, configuration: Configuration, logger: Logger, usage: (any TenantUsageReader)? = nil
    ) async throws {
        self.configuration = configuration
        service = try await IdentityService(database: database, configuration: configuration, logger: logger, usageReader: usage)
        resolver = TenantResolver(authenticator: service, directory: service)
    }

    /// For tests: the same module with a movable clock.
    init(database: any Database, configuration: Configuration, logger: Logger, clock: @escaping @Sendable () -> Date) async throws {
        self.configuration = configuration
        service = try await IdentityService(
            database: database, configuration: configuration, logger: logger, usageReader: nil, clock: clock)
        resolver = TenantResolver(authenticator: service, directory: service)
    }

    /// Seeds what SPEC §3 asks for on first start, idempotently: tenants `demo` (scale, 120,000
    /// tokens, 540 requests) and `acme` (growth, 42,000, 210), the platform administrator from
    /// `ATLAS_AUTH_USERNAME`/`ATLAS_AUTH_PASSWORD`, and the administrator's ownership of both.
    /// Existing rows are left as they are (an administrator's changed password stays changed).
    public func bootstrap() async throws {
        try await service.bootstrap()
    }

    /// Registers `/auth/*` and `/tenants/*` on `router`, each route with its declared permission.
    public func registerRoutes(on router: Router) {
        let routes = SecuredRoutes(router: router, resolver: resolver)
        AuthRoutes(service: service).register(routes)
        TenantRoutes(service: service).register(routes)
        MemberRoutes(service: service).register(routes)
    }
}
