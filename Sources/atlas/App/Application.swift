// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import AI
import Auth
import Billing
import Core
import DataPlatform
import Foundation
import HTTP
import Logging
import ServiceLifecycle
import Storage
import Synchronization
import Telemetry
import UnixSignals

/// The composition root: reads configuration once, opens storage, migrates, wires modules to
/// their routes and runs everything as services in one `ServiceGroup`.
///
/// Start order is storage → HTTP; SIGTERM/SIGINT stop them in reverse, so in-flight requests
/// finish before the database closes.
struct Application: Sendable {
    let configuration: AppConfiguration
    let http: HTTPServer.Configuration
    let database: DatabaseConfiguration
    let auth: AuthModule.Configuration
    let billing: BillingConfiguration
    let ai: AIModule.Configuration
    let data: DataModule.Configuration
    let environment: EnvironmentReader
    let logger: Logger

    init(environment: EnvironmentReader) throws {
        configuration = try AppConfiguration(environment: environment)
        http = try HTTPServer.Configuration(environment: environment)
        database = try DatabaseConfiguration(environment: environment)
        auth = try AuthModule.Configuration(environment: environment)
        billing = try BillingConfiguration(environment: environment)
        ai = try AIModule.Configuration(environment: environment)
        data = try DataModule.Configuration(environment: environment)
        self.environment = environment
        Self.bootstrapLogging(level: configuration.logLevel)
        var logger = Logger(label: "atlas")
        logger.logLevel = configuration.logLevel
        self.logger = logger
    }

    private static let loggingBootstrapped = Mutex(false)

    /// swift-log allows one bootstrap per process; later calls (tests building several
    /// applications) keep the first.
    private static func bootstrapLogging(level: Logger.Level) {
        loggingBootstrapped.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        }
    }

    func openDatabase() async throws -> any Database {
        try await Storage.openDatabase(configuration: database, logger: logger)
    }

    /// Applies pending migrations and returns their names.
    @discardableResult
    func migrate(_ database: any Database) async throws -> [String] {
        do {
            return try await Migrator(database: database, logger: logger).migrate()
        } catch let error as StorageError {
            throw StartupError(message: "migration failed: \(error)")
        }
    }

    func serve(migrate shouldMigrate: Bool) async throws {
        let telemetry = try TelemetryModule(environment: environment, logger: logger)
        // Before any module makes a handle: swift-metrics users without an explicit factory land
        // in this registry too. The modules below get Telemetry's factory explicitly.
        telemetry.installGlobalMetrics()
        let database: any Database
        do {
            database = try await Storage.openDatabase(configuration: self.database, logger: logger,
                                                      metrics: telemetry.metricsFactory)
        } catch let error as StorageError {
            throw StartupError(message: "cannot open \(self.database.redactedURL): \(error)")
        }
        if shouldMigrate {
            let applied = try await migrate(database)
            if !applied.isEmpty {
                logger.info("migrations applied", metadata: ["db.migrations": .array(applied.map { .string($0) })])
            }
        }

        let router = Router()
        router.useStandardMiddleware(configuration: http, metrics: telemetry.metricsRecorder)
        telemetry.installMiddleware(on: router)
        telemetry.installGlobalTracer()
        // With tracing on, every read and transaction is a client span under the request's span.
        let modulesDatabase: any Database = telemetry.tracer.map { tracer in
            TracedDatabase(database, spans: QuerySpans(tracer: tracer))
        } ?? database
        let moduleServices = try await mountRoutes(on: router, database: modulesDatabase, telemetry: telemetry)

        let server = HTTPServer(router: router, configuration: http, logger: logger) { [logger, configuration] port in
            logger.info("serving", metadata: [
                "http.port": "\(port)", "atlas.environment": "\(configuration.environment)",
                "db.url": "\(DatabaseLocation.redact(self.database.url))",
            ])
        }
        telemetry.contribute { [server] in
            [ContributedSample(name: "atlas_http_open_connections", value: Double(server.openConnections))]
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: DatabaseService(database: database))]
                + moduleServices.map { .init(service: $0) }
                + [.init(service: server)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// Storage's query spans recorded by Telemetry's tracer, as plain values rather than span objects.
struct QuerySpans: QuerySpanRecorder {
    let tracer: AtlasTracer

    func startQuery(_ name: StaticString, system: StaticString, operation: StaticString, tenant: String?) -> QuerySpan {
        tracer.startQuerySpan(name, system: system, operation: operation, tenant: tenant)
    }

    func endQuery(_ span: QuerySpan, error: (any Error)?) {
        tracer.endQuerySpan(span, error: error)
    }
}
