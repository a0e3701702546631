// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation
public import HTTP
public import Logging
public import ServiceLifecycle
public import Storage
import Synchronization

/// Ingestion: named sources with schemas, pushes over HTTP and from files, pull connectors with
/// stored sync state, and their cron schedule.
///
/// ```swift
/// let ingestion = DataIngestion(database: db, configuration: try IngestionConfiguration(environment: env), logger: logger)
/// try await ingestion.bootstrap()                 // reads data/sources.yml, creates the raw tables
/// ingestion.registerRoutes(on: secured)           // POST /data/sources/{source}/records, …
/// services += ingestion.services                  // the connectors' cron schedule
/// ```
public final class DataIngestion: Sendable {
    public let configuration: IngestionConfiguration
    let database: any Database
    let store: SourceStore
    let service: IngestService
    let runner: SyncRunner
    let logger: Logger
    let now: @Sendable () -> Date
    private let loaded = Mutex<[ConnectorDefinition]>([])

    public convenience init(database: any Database, configuration: IngestionConfiguration, logger: Logger) {
        self.init(database: database, configuration: configuration, logger: logger, now: { Date() })
    }

    init(database: any Database, configuration: IngestionConfiguration, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.configuration = configuration
        self.database = database
        self.logger = logger
        self.now = now
        store = SourceStore(database: database)
        service = IngestService(database: database, sources: store, configuration: configuration, now: now)
        runner = SyncRunner(database: database, sources: store, logger: logger, now: now)
    }

    /// Reads the sources file (``IngestionConfiguration/sourcesFile``), registers its sources
    /// (creating or widening their raw tables) and keeps its connectors. Throws
    /// ``SourceConfigurationError`` naming the file and entry.
    public func bootstrap() async throws {
        try await apply(try SourcesFile.load(path: configuration.sourcesFile))
    }

    /// Registers the sources of `file` and keeps its connectors (replacing earlier ones).
    public func apply(_ file: SourcesFile) async throws {
        for source in file.sources { try await store.register(source) }
        for connector in file.connectors where !file.sources.contains(where: { $0.name == connector.source }) {
            guard try await store.definition(connector.source) != nil else {
                throw SourceConfigurationError("connector \(connector.name): source \(connector.source) is not declared under `sources:`")
            }
        }
        loaded.withLock { $0 = file.connectors }
    }

    /// Registers (or widens) one source.
    @discardableResult
    public func register(_ source: SourceDefinition) async throws -> SourceDefinition {
        try await store.register(source)
    }

    /// Every registered source.
    public func sources() async throws -> [SourceDefinition] { try await store.all() }

    /// The connectors of the sources file.
    public var connectors: [ConnectorDefinition] { loaded.withLock { $0 } }

    /// The cron schedule of the connectors, for the service group of `atlas serve`; empty when
    /// `ATLAS_DATA_SYNC_ENABLED=false` or no connector has a schedule. Call after ``bootstrap()``.
    public var services: [any Service] {
        guard configuration.syncEnabled, connectors.contains(where: { $0.schedule != nil }) else { return [] }
        return [SyncScheduler(connectors: connectors, runner: runner, logger: logger, now: now)]
    }

    /// Ingests `chunks` (a body's bytes, in order) into `source` for `tenant`; see
    /// `POST /data/sources/{source}/records`. Throws ``IngestError`` for a refused call.
    public func ingest<Chunks: AsyncSequence>(
        source: String, tenant: TenantID, format: RecordFormat, chunks: Chunks, mode: IngestErrorMode = .skip,
        batchRows: Int? = nil, origin: String = "push"
    ) async throws -> IngestSummary where Chunks.Element == [UInt8] {
        try await service.ingest(source: source, tenant: tenant, format: format, chunks: chunks, mode: mode, batchRows: batchRows, origin: origin)
    }

    /// Ingests a file, read in chunks; the format comes from the extension unless given. In `skip`
    /// mode each ``IngestionConfiguration/fileBatchRows`` records commit together; in `abort` mode
    /// the whole file is one transaction.
    public func ingestFile(path: String, source: String, tenant: TenantID, format: RecordFormat? = nil,
                           mode: IngestErrorMode = .skip) async throws -> IngestSummary {
        guard let format = format ?? RecordFormat(fileName: path) else {
            throw IngestError(status: 400, code: "unknown_format", detail: "cannot tell the format of \(path): use .json, .ndjson/.jsonl or .csv, or name it")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw IngestError(status: 404, code: "file_not_found", detail: "\(path) does not exist or cannot be read")
        }
        return try await service.ingest(source: source, tenant: tenant, format: format, chunks: FileChunks(path: path), mode: mode,
                                        batchRows: configuration.fileBatchRows, origin: "file")
    }

    /// Runs the connector named `name` once (also what its schedule does).
    @discardableResult
    public func sync(connector name: String) async throws -> SyncReport {
        guard let connector = connectors.first(where: { $0.name == name }) else {
            throw SyncError(connector: name, detail: "no such connector in \(configuration.sourcesFile)")
        }
        return try await runner.run(connector)
    }

    /// Runs `connector` once.
    @discardableResult
    public func sync(_ connector: ConnectorDefinition) async throws -> SyncReport {
        try await runner.run(connector)
    }

    /// The stored state of every connector that ever ran.
    public func syncStates() async throws -> [SyncState] { try await runner.states() }

    /// The stored state of one connector, or `nil` before its first run.
    public func syncState(_ connector: String) async throws -> SyncState? { try await runner.state(connector) }

    /// Source name → the tenant's last committed load with rows (for the catalog's freshness).
    public func sourceFreshness(tenant: TenantID) async throws -> [String: Date] { try await service.freshness(tenant: tenant) }

    /// The tenant's latest rejected records of `source`, newest first.
    public func rejectedRecords(source: String, tenant: TenantID, limit: Int = 100) async throws -> [StoredIngestError] {
        try await service.errors(source: source, tenant: tenant, limit: limit)
    }

    /// Registers the ingestion routes, each with its permission, in the request's tenant:
    ///
    /// | route | permission |
    /// | --- | --- |
    /// | `POST /data/sources/{source}/records` | `data.write` |
    /// | `GET /data/sources` | `data.read` |
    /// | `GET /data/sources/{source}/errors` | `data.read` |
    public func registerRoutes(on routes: SecuredRoutes) {
        IngestRoutes(ingestion: self).register(routes)
    }
}
