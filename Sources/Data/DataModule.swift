// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation
public import HTTP
public import Logging
public import ServiceLifecycle
public import Storage

/// The Data module's public entry point: dbt-compatible models over the Atlas database, the
/// tenant data catalog, ingestion and the feature store. Wired by the `atlas` composition root.
///
/// ```swift
/// let data = DataModule(database: db, configuration: try DataModule.Configuration(environment: env), logger: logger)
/// data.registerRoutes(on: SecuredRoutes(router: router, resolver: auth.resolver))
/// try await data.models.execute(.run, select: ["fct_ai_context+"])
/// let datasets = try await data.catalog.catalog(for: tenant)      // also Core's TenantDataCatalog
/// ```
public final class DataModule: Sendable {
    /// The prefix of every table this module owns (ARCHITECTURE.md, rule 3).
    public static let tablePrefix = "data_"

    /// The module's settings.
    public struct Configuration: Sendable {
        /// The dbt project folder (`ATLAS_DATA_PROJECT_DIR`, default `data/transformations`,
        /// relative to the working directory).
        public var projectDirectory: URL
        /// Sources, connectors and feature views (`ATLAS_DATA_SOURCES`, `ATLAS_DATA_FEATURES`, …).
        public var ingestion: IngestionConfiguration

        public init(projectDirectory: URL = URL(fileURLWithPath: Configuration.defaultProjectDirectory),
                    ingestion: IngestionConfiguration = IngestionConfiguration()) {
            self.projectDirectory = projectDirectory
            self.ingestion = ingestion
        }

        public static let defaultProjectDirectory = "data/transformations"

        /// Reads `ATLAS_DATA_PROJECT_DIR`.
        public init(environment: EnvironmentReader) throws {
            let path = environment.string("ATLAS_DATA_PROJECT_DIR", default: Self.defaultProjectDirectory)
            guard !path.isEmpty, !path.contains("\u{0}") else {
                throw ConfigurationError(variable: "ATLAS_DATA_PROJECT_DIR", reason: "must be a folder path")
            }
            self.init(projectDirectory: URL(fileURLWithPath: path), ingestion: try IngestionConfiguration(environment: environment))
        }
    }

    public let configuration: Configuration
    /// The SQL models: run, test, seed, list.
    public let models: DataModels
    /// The tenant data catalog; also the module's ``TenantDataCatalog`` for the AI runtime.
    public let catalog: DataCatalog
    /// Sources, pushes, pull connectors and their cron schedule.
    public let ingestion: DataIngestion
    /// Feature views materialised from models, served online.
    public let featureStore: FeatureStore

    /// - Parameter features: a tenant's online feature values, served by ``catalog``'s
    ///   `features(for:)`; `nil` = ``featureStore``'s.
    public init(database: any Database, configuration: Configuration, logger: Logger,
                features: (@Sendable (TenantID) async throws -> [String: JSONValue])? = nil) {
        self.configuration = configuration
        models = DataModels(database: database, projectDirectory: configuration.projectDirectory, logger: logger)
        let ingestion = DataIngestion(database: database, configuration: configuration.ingestion, logger: logger)
        let featureStore = FeatureStore(database: database, views: [], logger: logger)
        self.ingestion = ingestion
        self.featureStore = featureStore
        catalog = DataCatalog(models: models, sourceFreshness: { try await ingestion.sourceFreshness(tenant: $0) },
                              features: features ?? { try await featureStore.features(for: $0) })
        // A rebuilt model refreshes the feature views that read it.
        models.addRunObserver { run in
            let built = run.results.filter { $0.resourceType == .model && $0.status == .success }.map(\.name)
            guard run.kind == .run, !built.isEmpty else { return }
            do {
                try await featureStore.materialize(models: built)
            } catch {
                logger.warning("feature materialisation failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Reads the sources file (registering sources, creating raw tables) and the feature views;
    /// throws ``SourceConfigurationError`` naming the file and entry. Call once at start-up.
    public func bootstrap() async throws {
        try await ingestion.bootstrap()
        featureStore.setViews(try FeatureView.load(path: configuration.ingestion.featuresPath))
    }

    /// Background services for `atlas serve`: the connectors' cron schedule (after ``bootstrap()``).
    public var services: [any Service] { ingestion.services }

    /// Registers the module's routes, each with its permission (see ``DataModelRoutes``):
    /// `POST /data/runs` (data.run), `GET /data/runs/{id}`, `GET /data/models`,
    /// `GET /tenants/{tenant}/catalog` (data.read); `POST /data/sources/{source}/records`
    /// (data.write), `GET /data/sources`, `GET /data/sources/{source}/errors`,
    /// `GET /features/{view}/{entity}` (data.read).
    public func registerRoutes(on routes: SecuredRoutes) {
        registerModelRoutes(on: routes)
        ingestion.registerRoutes(on: routes)
        featureStore.registerRoutes(on: routes)
    }

    func registerModelRoutes(on routes: SecuredRoutes) {
        DataModelRoutes(models: models, catalog: catalog).register(routes)
    }
}
