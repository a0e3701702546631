// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Foundation
import Logging
import Synchronization

/// SQLite with one writer connection and a pool of reader connections over a WAL file
/// (sqlite.org/wal.html): readers never block the writer and see the last committed state.
/// An in-memory database has a single connection that serves reads and writes, because separate
/// connections would each open their own empty database.
final class SQLiteDatabase: Database {
    let dialect = SQLDialect.sqlite
    let path: String?
    private let writer: WorkerConnection
    private let readers: ConnectionPool<WorkerConnection>?
    private let logger: Logger
    private let state = LockedFlag()
    private let metrics: StorageMetrics
    private let writerMetrics: PoolMetrics
    /// Closures submitted to the writer and not finished: more than one means a caller waits.
    private let writerDemand = Atomic<Int>(0)

    private init(path: String?, writer: WorkerConnection, readers: ConnectionPool<WorkerConnection>?,
                 metrics: StorageMetrics, writerMetrics: PoolMetrics, logger: Logger) {
        self.path = path
        self.writer = writer
        self.readers = readers
        self.metrics = metrics
        self.writerMetrics = writerMetrics
        self.logger = logger
    }

    static func open(path: String?, configuration: DatabaseConfiguration, logger: Logger,
                     metrics factory: any MetricsFactory) async throws -> SQLiteDatabase {
        let synchronous = configuration.sqliteSynchronous
        let busy = configuration.sqliteBusyTimeout
        let timeout = configuration.statementTimeout
        let writerWorker = SerialWorker(label: "atlas.storage.sqlite.writer")
        let writerDriver = try await writerWorker.run { () -> UncheckedBox<SQLiteDriver> in
            UncheckedBox(try SQLiteDriver(path: path ?? ":memory:", role: path == nil ? .memory : .writer,
                                          synchronous: synchronous, busyTimeout: busy, statementTimeout: timeout))
        }.value
        let writer = WorkerConnection(driver: writerDriver, worker: writerWorker)
        var readers: ConnectionPool<WorkerConnection>?
        if let path {
            readers = ConnectionPool(
                maxSize: configuration.sqliteReaders, timeout: configuration.poolTimeout,
                create: {
                    let worker = SerialWorker(label: "atlas.storage.sqlite.reader")
                    let driver = try await worker.run { () -> UncheckedBox<SQLiteDriver> in
                        UncheckedBox(try SQLiteDriver(path: path, role: .reader, synchronous: synchronous,
                                                      busyTimeout: busy, statementTimeout: timeout))
                    }.value
                    return WorkerConnection(driver: driver, worker: worker)
                },
                destroy: { await $0.close() },
                metrics: PoolMetrics(backend: "sqlite", pool: "readers", capacity: configuration.sqliteReaders, factory: factory))
        }
        var metadata: Logger.Metadata = ["db.backend": "sqlite", "db.synchronous": "\(synchronous.rawValue)"]
        metadata["db.path"] = "\(path ?? ":memory:")"
        logger.debug("storage.open", metadata: metadata)
        return SQLiteDatabase(path: path, writer: writer, readers: readers,
                              metrics: StorageMetrics(backend: "sqlite", factory: factory),
                              writerMetrics: PoolMetrics(backend: "sqlite", pool: "writer", capacity: 1, factory: factory),
                              logger: logger)
    }

    nonisolated(nonsending) func read<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        try state.checkOpen()
        guard let readers else {
            // The single in-memory connection is made read-only for the closure's duration.
            let metrics = self.metrics
            let committed = try await onWriter { driver in
                try driver.control(.beginDeferred)
                return try TransactionRunner.run(
                    driver: driver, tenant: tenant, setup: ["PRAGMA query_only = ON"],
                    cleanup: ["PRAGMA query_only = OFF"], metrics: metrics, body)
            }
            return await committed.finish()
        }
        let reader = try await readers.acquire()
        let committed: Committed<T>
        do {
            // A pooled reader is ours alone until released, and a read on a local file takes
            // microseconds: running it here beats handing it to the reader's queue and back.
            committed = try reader.runHere { driver in
                try driver.control(.beginDeferred)
                return try TransactionRunner.run(driver: driver, tenant: tenant, metrics: metrics, body)
            }
        } catch {
            await readers.release(reader, reusable: true)
            throw error
        }
        await readers.release(reader, reusable: true)
        return await committed.finish()
    }

    nonisolated(nonsending) func transaction<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        try state.checkOpen()
        // BEGIN IMMEDIATE takes the write lock up front, so a transaction that reads and then writes
        // cannot fail with SQLITE_BUSY halfway when another process writes (sqlite.org/lang_transaction.html).
        let metrics = self.metrics
        let committed = try await onWriter { driver in
            try driver.control(.beginImmediate)
            return try TransactionRunner.run(driver: driver, tenant: tenant, metrics: metrics,
                                             timer: metrics.transactions, body)
        }
        return await committed.finish()
    }

    /// Runs `work` on the writer's queue, counting it as the writer's one connection in use and,
    /// when another closure was already submitted, as a wait.
    private func onWriter<T: Sendable>(_ work: @escaping @Sendable (any Driver) throws -> T) async throws -> T {
        if writerDemand.wrappingAdd(1, ordering: .relaxed).newValue > 1 { writerMetrics.waits.increment() }
        defer { writerDemand.wrappingSubtract(1, ordering: .relaxed) }
        let inUse = writerMetrics.inUse
        return try await writer.run { driver in
            inUse.increment()
            defer { inUse.decrement() }
            return try work(driver)
        }
    }

    func ping() async throws {
        _ = try await read { try $0.query("SELECT 1") }
    }

    func close() async {
        guard state.close() else { return }
        await readers?.close()
        await writer.close()
        logger.debug("storage.close", metadata: ["db.backend": "sqlite"])
    }
}

/// Carries a value created on a worker queue back to the task that waits for it; the value is
/// not touched by the queue afterwards.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// An open/closed flag shared by the tasks that use one database.
final class LockedFlag: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var closed = false

    func checkOpen() throws {
        if lock.withLock({ closed }) { throw StorageError(.unavailable, "the database was closed") }
    }

    /// Marks the flag closed; `false` when it already was.
    func close() -> Bool {
        lock.withLock {
            defer { closed = true }
            return !closed
        }
    }
}
