// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Dispatch

/// One open backend connection (SQLite handle or libpq `PGconn`). Every method blocks and must be
/// called only on the owning ``SerialWorker``'s queue.
protocol Driver: AnyObject {
    var dialect: SQLDialect { get }
    /// Set once an error showed the connection can no longer be trusted; a pool then discards it.
    var isBroken: Bool { get }
    func execute(_ query: SQLQuery) throws -> Int
    func query(_ query: SQLQuery) throws -> [Row]
    func executeScript(_ sql: String) throws
    /// Begins, commits or rolls back a transaction. Two of these run around every read, so a
    /// driver may keep them prepared; the default sends the statement's text.
    func control(_ statement: TransactionControl) throws
    func close()
}

/// The statements that open and close a transaction.
enum TransactionControl: Int, CaseIterable {
    case beginDeferred, beginImmediate, commit, rollback

    var sql: String {
        switch self {
        case .beginDeferred: "BEGIN DEFERRED"
        case .beginImmediate: "BEGIN IMMEDIATE"
        case .commit: "COMMIT"
        case .rollback: "ROLLBACK"
        }
    }
}

extension Driver {
    func control(_ statement: TransactionControl) throws {
        _ = try execute(SQLQuery(unsafeSQL: statement.sql))
    }
}

/// A dedicated serial dispatch queue for one connection, so its blocking C calls run off Swift's
/// cooperative thread pool (which has one thread per core and must never block).
struct SerialWorker: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    func run(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            queue.async {
                work()
                continuation.resume()
            }
        }
    }
}

/// A driver together with its worker. The driver is touched only inside `worker.run`, which is
/// what makes sharing the box between tasks safe.
final class WorkerConnection: @unchecked Sendable {
    let driver: any Driver
    let worker: SerialWorker

    init(driver: any Driver, worker: SerialWorker) {
        self.driver = driver
        self.worker = worker
    }

    func run<T: Sendable>(_ work: @escaping @Sendable (any Driver) throws -> T) async throws -> T {
        try await worker.run { try work(self.driver) }
    }

    /// Runs `work` on the calling thread. Only for a connection the caller holds exclusively (taken
    /// from a pool, nothing queued on its worker): the driver is then used by one thread at a time,
    /// which is all SQLite's multi-thread mode asks, and the caller saves two thread hand-offs.
    func runHere<T: Sendable>(_ work: (any Driver) throws -> T) throws -> T {
        try work(driver)
    }

    func close() async {
        await worker.run { self.driver.close() }
    }
}

/// The ``Connection`` handed to a closure: forwards to the driver while the closure runs, collects
/// after-commit hooks, and refuses use once the closure has returned.
final class ScopedConnection: Connection {
    private let driver: any Driver
    let tenant: String?
    private let metrics: StorageMetrics?
    private(set) var hooks: [@Sendable () async -> Void] = []
    private var isOpen = true

    init(driver: any Driver, tenant: String?, metrics: StorageMetrics?) {
        self.driver = driver
        self.tenant = tenant
        self.metrics = metrics
    }

    var dialect: SQLDialect { driver.dialect }

    func invalidate() { isOpen = false }

    private func checkOpen() throws {
        guard isOpen else {
            throw StorageError(.misuse, "a Connection was used after its read/transaction closure returned")
        }
    }

    func execute(_ query: SQLQuery) throws -> Int {
        try checkOpen()
        guard let metrics else { return try driver.execute(query) }
        let start = StorageMetrics.now()
        defer { metrics.writes.recordNanoseconds(StorageMetrics.now() &- start) }
        return try driver.execute(query)
    }

    func query(_ query: SQLQuery) throws -> [Row] {
        try checkOpen()
        guard let metrics else { return try driver.query(query) }
        let start = StorageMetrics.now()
        defer { metrics.reads.recordNanoseconds(StorageMetrics.now() &- start) }
        return try driver.query(query)
    }

    func executeScript(unsafeSQL sql: String) throws {
        try checkOpen()
        try driver.executeScript(sql)
    }

    func afterCommit(_ action: @escaping @Sendable () async -> Void) {
        hooks.append(action)
    }
}

/// The result of a committed closure and the hooks to run now.
struct Committed<T: Sendable>: @unchecked Sendable {
    // The hooks are `@Sendable` closures; the box only carries them from the worker queue back to
    // the calling task, once.
    let value: T
    let hooks: [@Sendable () async -> Void]

    func finish() async -> T {
        for hook in hooks { await hook() }
        return value
    }
}

enum TransactionRunner {
    /// Runs `body` between an already executed `BEGIN` and `COMMIT`; on any error issues `ROLLBACK`
    /// (harmless when the server already ended the transaction) and rethrows the first error.
    /// `timer`, when given, records the time from before `setup` to the end of `COMMIT` or
    /// `ROLLBACK` (the caller's `BEGIN` just ran).
    static func run<T: Sendable>(
        driver: any Driver, tenant: String?, setup: [SQLQuery] = [], cleanup: [SQLQuery] = [],
        metrics: StorageMetrics?, timer: Timer? = nil,
        _ body: (any Connection) throws -> T
    ) throws -> Committed<T> {
        let connection = ScopedConnection(driver: driver, tenant: tenant, metrics: metrics)
        let start = timer == nil ? 0 : StorageMetrics.now()
        defer {
            if let timer { timer.recordNanoseconds(StorageMetrics.now() &- start) }
            connection.invalidate()
            if !driver.isBroken {
                for statement in cleanup { _ = try? driver.execute(statement) }
            }
        }
        do {
            for statement in setup { _ = try driver.execute(statement) }
            let value = try body(connection)
            try driver.control(.commit)
            return Committed(value: value, hooks: connection.hooks)
        } catch {
            if !driver.isBroken { try? driver.control(.rollback) }
            throw error
        }
    }
}
