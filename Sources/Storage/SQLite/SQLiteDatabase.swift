// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging

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

    private init(path: String?, writer: WorkerConnection,
                 readers: ConnectionPool<WorkerConnection>?, logger: Logger) {
        self.path = path
        self.writer = writer
        self.readers = readers
        self.logger = logger
    }

    static func open(path: String?, configuration: DatabaseConfiguration, logger: Logger) async throws -> SQLiteDatabase {
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
                destroy: { await $0.close() })
        }
        var metadata: Logger.Metadata = ["db.backend": "sqlite", "db.synchronous": "\(synchronous.rawValue)"]
        metadata["db.path"] = "\(path ?? ":memory:")"
        logger.debug("storage.open", metadata: metadata)
        return SQLiteDatabase(path: path, writer: writer, readers: readers, logger: logger)
    }

    func read<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        try state.checkOpen()
        guard let readers else {
            // The single in-memory connection is made read-only for the closure's duration.
            let committed = try await writer.run { driver in
                _ = try driver.execute("BEGIN DEFERRED")
                return try TransactionRunner.run(
                    driver: driver, tenant: tenant, setup: ["PRAGMA query_only = ON"],
                    cleanup: ["PRAGMA query_only = OFF"], body)
            }
            return await committed.finish()
        }
        let reader = try await readers.acquire()
        let committed: Committed<T>
        do {
            // A pooled reader is ours alone until released, and a read on a local file takes
            // microseconds: running it here beats handing it to the reader's queue and back.
            committed = try reader.runHere { driver in
                _ = try driver.execute("BEGIN DEFERRED")
                return try TransactionRunner.run(driver: driver, tenant: tenant, body)
            }
        } catch {
            await readers.release(reader, reusable: true)
            throw error
        }
        await readers.release(reader, reusable: true)
        return await committed.finish()
    }

    func transaction<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        try state.checkOpen()
        // BEGIN IMMEDIATE takes the write lock up front, so a transaction that reads and then writes
        // cannot fail with SQLITE_BUSY halfway when another process writes (sqlite.org/lang_transaction.html).
        let committed = try await writer.run { driver in
            _ = try driver.execute("BEGIN IMMEDIATE")
            return try TransactionRunner.run(driver: driver, tenant: tenant, body)
        }
        return await committed.finish()
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
