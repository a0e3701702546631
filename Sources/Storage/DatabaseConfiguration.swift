// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

public import Core
public import CoreMetrics
public import Logging

/// SQLite's `PRAGMA synchronous` level (sqlite.org/pragma.html#pragma_synchronous). In WAL mode
/// `FULL` syncs the log at every commit, so a committed transaction survives power loss; `NORMAL`
/// survives a process crash but may lose the last commits on power loss.
public enum SQLiteSynchronous: String, Sendable, CaseIterable {
    case off = "OFF"
    case normal = "NORMAL"
    case full = "FULL"
    case extra = "EXTRA"
}

/// Storage settings, read from the environment:
///
/// | variable | default | meaning |
/// | --- | --- | --- |
/// | `ATLAS_DATABASE_URL` | `sqlite:///atlas.db` | backend and location (see ``DatabaseLocation``) |
/// | `ATLAS_DATABASE_POOL_SIZE` | `10` | PostgreSQL: most connections open at once |
/// | `ATLAS_DATABASE_POOL_TIMEOUT` | `10` | seconds to wait for a free pooled connection |
/// | `ATLAS_DATABASE_STATEMENT_TIMEOUT` | `30` | seconds a statement may run (`0` = no limit); PostgreSQL `statement_timeout`, SQLite progress-handler interrupt |
/// | `ATLAS_DATABASE_CONNECT_TIMEOUT` | `5` | seconds for one PostgreSQL connection attempt |
/// | `ATLAS_SQLITE_SYNCHRONOUS` | `FULL` | `OFF`, `NORMAL`, `FULL` or `EXTRA` |
/// | `ATLAS_SQLITE_READERS` | `4` | SQLite reader connections |
/// | `ATLAS_SQLITE_BUSY_TIMEOUT` | `5` | seconds SQLite waits for another process's lock |
public struct DatabaseConfiguration: Sendable {
    public var url: String
    public var poolSize: Int
    public var poolTimeout: Duration
    public var statementTimeout: Duration
    public var connectTimeout: Duration
    public var sqliteSynchronous: SQLiteSynchronous
    public var sqliteReaders: Int
    public var sqliteBusyTimeout: Duration

    public init(
        url: String = "sqlite:///atlas.db",
        poolSize: Int = 10,
        poolTimeout: Duration = .seconds(10),
        statementTimeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(5),
        sqliteSynchronous: SQLiteSynchronous = .full,
        sqliteReaders: Int = 4,
        sqliteBusyTimeout: Duration = .seconds(5)
    ) {
        self.url = url
        self.poolSize = poolSize
        self.poolTimeout = poolTimeout
        self.statementTimeout = statementTimeout
        self.connectTimeout = connectTimeout
        self.sqliteSynchronous = sqliteSynchronous
        self.sqliteReaders = sqliteReaders
        self.sqliteBusyTimeout = sqliteBusyTimeout
    }

    /// Reads the variables in the table above; throws ``ConfigurationError`` naming the variable
    /// (never its value) when one is set but unusable, including an unparseable URL.
    public init(environment: EnvironmentReader) throws {
        self.init(
            url: environment.string("ATLAS_DATABASE_URL", default: "sqlite:///atlas.db"),
            poolSize: try environment.int("ATLAS_DATABASE_POOL_SIZE", default: 10, in: 1...1000),
            poolTimeout: try environment.seconds("ATLAS_DATABASE_POOL_TIMEOUT", default: .seconds(10)),
            statementTimeout: try environment.seconds("ATLAS_DATABASE_STATEMENT_TIMEOUT", default: .seconds(30), in: 0...86_400),
            connectTimeout: try environment.seconds("ATLAS_DATABASE_CONNECT_TIMEOUT", default: .seconds(5), in: 1...600),
            sqliteSynchronous: try environment.choice("ATLAS_SQLITE_SYNCHRONOUS", default: SQLiteSynchronous.full),
            sqliteReaders: try environment.int("ATLAS_SQLITE_READERS", default: 4, in: 1...64),
            sqliteBusyTimeout: try environment.seconds("ATLAS_SQLITE_BUSY_TIMEOUT", default: .seconds(5), in: 0...3600))
        _ = try location
    }

    /// The parsed ``url``; throws ``ConfigurationError`` for `ATLAS_DATABASE_URL`.
    public var location: DatabaseLocation {
        get throws { try DatabaseLocation(url: url) }
    }

    /// The URL with any password replaced by `***`, for start-up logs.
    public var redactedURL: String { DatabaseLocation.redact(url) }
}

/// Opens the database that `configuration.url` names.
///
/// ```swift
/// let configuration = try DatabaseConfiguration(environment: EnvironmentReader())
/// let db = try await openDatabase(configuration: configuration, logger: logger)
/// try await Migrator(database: db, logger: logger).migrate()
/// ```
///
/// Throws ``ConfigurationError`` (variable `ATLAS_DATABASE_URL`) for a malformed URL and
/// ``StorageError/unavailable`` when the database cannot be opened or reached.
///
/// `metrics` receives the pool and query-duration metrics (README, "Metrics"); the handles are
/// made here, once. The default is swift-metrics' current factory.
public func openDatabase(configuration: DatabaseConfiguration, logger: Logger = Logger(label: "atlas.storage"),
                         metrics: any MetricsFactory = MetricsSystem.factory) async throws -> any Database {
    switch try configuration.location {
    case .sqliteMemory:
        return try await SQLiteDatabase.open(path: nil, configuration: configuration, logger: logger, metrics: metrics)
    case .sqliteFile(let path):
        return try await SQLiteDatabase.open(path: path, configuration: configuration, logger: logger, metrics: metrics)
    case .postgres(let parameters):
        return try await PostgresDatabase.open(parameters: parameters, configuration: configuration, logger: logger,
                                               metrics: metrics)
    }
}

/// ``openDatabase(configuration:logger:metrics:)`` with `url` in place of `configuration.url`.
public func openDatabase(url: String, configuration: DatabaseConfiguration = DatabaseConfiguration(),
                         logger: Logger = Logger(label: "atlas.storage"),
                         metrics: any MetricsFactory = MetricsSystem.factory) async throws -> any Database {
    var configuration = configuration
    configuration.url = url
    return try await openDatabase(configuration: configuration, logger: logger, metrics: metrics)
}
