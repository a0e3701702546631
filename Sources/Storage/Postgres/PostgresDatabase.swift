// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Logging

/// PostgreSQL through libpq: a bounded pool of connections, each with its own serial queue.
///
/// Recovery after a server restart: a pooled connection that died while idle fails at `BEGIN`
/// (SQLSTATE 57P01 or class 08) before any of the caller's statements ran, so it is discarded and
/// the closure starts again on another connection, opened with back-off if need be. A connection
/// that breaks later, mid-closure, fails the call with ``StorageError/connectionLost`` and is
/// discarded; the statement is not retried, since it may have committed.
final class PostgresDatabase: Database {
    let dialect = SQLDialect.postgres
    private let pool: ConnectionPool<WorkerConnection>
    private let logger: Logger
    private let state = LockedFlag()
    private let metrics: StorageMetrics

    private init(pool: ConnectionPool<WorkerConnection>, metrics: StorageMetrics, logger: Logger) {
        self.pool = pool
        self.metrics = metrics
        self.logger = logger
    }

    static func open(parameters: PostgresConnectionParameters, configuration: DatabaseConfiguration,
                     logger: Logger, metrics factory: any MetricsFactory) async throws -> PostgresDatabase {
        var keywords = parameters.keywords
        let connectSeconds = max(1, configuration.connectTimeout.components.seconds)
        keywords["connect_timeout"] = keywords["connect_timeout"] ?? "\(connectSeconds)"
        keywords["application_name"] = keywords["application_name"] ?? "atlas"
        keywords["client_encoding"] = "UTF8"
        let statementTimeout = configuration.statementTimeout
        let target = "\(parameters.host ?? "localhost"):\(parameters.port ?? "5432")/\(parameters.database ?? "")"
        let pool = ConnectionPool<WorkerConnection>(
            maxSize: configuration.poolSize, timeout: configuration.poolTimeout,
            create: { [keywords] in
                try await connect(keywords: keywords, statementTimeout: statementTimeout, target: target, logger: logger)
            },
            destroy: { await $0.close() },
            metrics: PoolMetrics(backend: "postgres", pool: "main", capacity: configuration.poolSize, factory: factory))
        logger.debug("storage.open", metadata: ["db.backend": "postgres", "db.target": "\(target)",
                                                "db.pool_size": "\(configuration.poolSize)"])
        return PostgresDatabase(pool: pool, metrics: StorageMetrics(backend: "postgres", factory: factory), logger: logger)
    }

    /// Opens a connection on a new worker, retrying with exponential back-off (0.1 s, 0.2 s, 0.4 s)
    /// because connecting is idempotent and the server may be restarting.
    private static func connect(keywords: [String: String], statementTimeout: Duration, target: String,
                                logger: Logger) async throws -> WorkerConnection {
        var delay = Duration.milliseconds(100)
        var attempt = 1
        while true {
            let worker = SerialWorker(label: "atlas.storage.postgres")
            do {
                let driver = try await worker.run {
                    UncheckedBox(try PostgresDriver(keywords: keywords, statementTimeout: statementTimeout))
                }.value
                logger.debug("storage.connect", metadata: ["db.target": "\(target)", "db.attempt": "\(attempt)"])
                return WorkerConnection(driver: driver, worker: worker)
            } catch {
                guard attempt < 4, !Task.isCancelled else { throw error }
                logger.info("storage.connect_retry", metadata: [
                    "db.target": "\(target)", "db.attempt": "\(attempt)", "error": "\(error)",
                ])
                try await Task.sleep(for: delay)
                delay *= 2
                attempt += 1
            }
        }
    }

    private enum Attempt<T: Sendable>: Sendable {
        case done(T)
        case stale(StorageError)
    }

    /// Runs `work` on a pooled connection after `begin`; a connection that fails `begin` because
    /// it is dead is replaced and `begin` tried again on the next one.
    private func withConnection<T: Sendable>(
        begin: SQLQuery, _ work: @escaping @Sendable (any Driver) throws -> T
    ) async throws -> T {
        try state.checkOpen()
        var attempts = 0
        while true {
            attempts += 1
            let connection = try await pool.acquire()
            let outcome: Result<Attempt<T>, any Error>
            do {
                outcome = .success(try await connection.run { driver -> Attempt<T> in
                    do {
                        _ = try driver.execute(begin)
                    } catch let error as StorageError where error.code == .connectionLost {
                        return .stale(error)
                    }
                    return .done(try work(driver))
                })
            } catch {
                outcome = .failure(error)
            }
            await pool.release(connection, reusable: !connection.driver.isBroken)
            switch outcome {
            case .success(.done(let value)):
                return value
            case .success(.stale(let error)):
                // Every idle connection may be stale after a restart: allow one attempt per slot, plus one.
                guard attempts <= pool.maxSize else { throw error }
                logger.info("storage.stale_connection_discarded", metadata: ["error": "\(error)"])
            case .failure(let error):
                throw error
            }
        }
    }

    private static func tenantSetup(_ tenant: String?) -> [SQLQuery] {
        guard let tenant else { return [] }
        // Transaction-local (`is_local = true`), so the setting cannot leak to the connection's
        // next user (postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADMIN-SET).
        return ["SELECT set_config('atlas.tenant', \(tenant), true)"]
    }

    nonisolated(nonsending) func read<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        let metrics = self.metrics
        let committed = try await withConnection(begin: "BEGIN READ ONLY") { driver in
            try TransactionRunner.run(driver: driver, tenant: tenant, setup: Self.tenantSetup(tenant), metrics: metrics, body)
        }
        return await committed.finish()
    }

    nonisolated(nonsending) func transaction<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        let metrics = self.metrics
        let committed = try await withConnection(begin: "BEGIN") { driver in
            try TransactionRunner.run(driver: driver, tenant: tenant, setup: Self.tenantSetup(tenant), metrics: metrics,
                                      timer: metrics.transactions, body)
        }
        return await committed.finish()
    }

    func ping() async throws {
        try await withConnection(begin: "SELECT 1") { _ in }
    }

    func close() async {
        guard state.close() else { return }
        await pool.close()
        logger.debug("storage.close", metadata: ["db.backend": "postgres"])
    }
}
