// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

/// A connection handed to a ``Database`` closure. It is synchronous: the closure runs on the
/// connection's own serial queue, so blocking SQLite/libpq calls never occupy Swift's cooperative
/// thread pool. Do not keep it past the closure: it then throws ``StorageError/misuse``.
public protocol Connection: AnyObject {
    /// The dialect, for the few fragments that differ (see ``SQLDialect``).
    var dialect: SQLDialect { get }
    /// The tenant the surrounding transaction was opened for, if any.
    var tenant: String? { get }

    /// Runs a statement and returns the number of rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ query: SQLQuery) throws -> Int

    /// Runs a statement and returns all its rows. Use `RETURNING` to read generated ids.
    func query(_ query: SQLQuery) throws -> [Row]

    /// Runs several statements separated by `;`, without parameters (migrations, fixtures).
    func executeScript(unsafeSQL sql: String) throws

    /// Registers work to run after the transaction commits (never after a rollback), in order, in
    /// the task that called ``Database/transaction(tenant:_:)``, before that call returns.
    /// Use it for side effects outside the database: notifications, cache invalidation.
    func afterCommit(_ action: @escaping @Sendable () async -> Void)
}

extension Connection {
    /// The first row, or `nil` when there is none.
    public func queryFirst(_ query: SQLQuery) throws -> Row? {
        try self.query(query).first
    }

    /// The first column of the first row, or `nil` when there is no row or the value is NULL.
    public func queryScalar<T: SQLValueConvertible>(_ query: SQLQuery, as type: T.Type = T.self) throws -> T? {
        guard let row = try self.query(query).first, let first = row.values.first else { return nil }
        if first == .null { return nil }
        return try row.decode(row.columnNames[0], as: T.self)
    }

    /// All rows decoded into a `Decodable` type (snake_case columns, see ``Row/decode(_:)``).
    public func query<T: Decodable>(_ query: SQLQuery, as type: T.Type) throws -> [T] {
        try self.query(query).map { try $0.decode(T.self) }
    }
}

/// The one storage protocol every module uses. Open one with ``openDatabase(configuration:logger:)``.
///
/// ```swift
/// let summary = try await db.transaction(tenant: tenant) { conn in
///     try conn.execute("UPDATE core_tenants SET tokens = tokens + \(delta) WHERE id = \(tenant)")
///     return try conn.queryFirst("SELECT * FROM core_tenants WHERE id = \(tenant)")?.decode(TenantRecord.self)
/// }
/// ```
public protocol Database: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` on a reader connection inside a read-only transaction, so it sees one consistent
    /// snapshot. Writes fail with ``StorageError/readOnly``. On PostgreSQL `tenant` is set as in
    /// ``transaction(tenant:_:)``, so row-level security applies to reads too.
    @discardableResult
    nonisolated(nonsending) func read<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T

    /// Runs `body` in a write transaction: `BEGIN` (SQLite: `BEGIN IMMEDIATE`), `COMMIT` when it
    /// returns, `ROLLBACK` when it throws, rethrowing the body's error (the first error). After a
    /// commit, the hooks registered with ``Connection/afterCommit(_:)`` run before this returns.
    ///
    /// `tenant`: on PostgreSQL `SELECT set_config('atlas.tenant', tenant, true)` runs first, so
    /// row-level-security policies can use `current_setting('atlas.tenant', true)`; on SQLite it is
    /// only recorded on ``Connection/tenant``.
    ///
    /// A statement is never retried after a connection breaks mid-transaction; only a failed
    /// `BEGIN` on a stale pooled connection is retried on a fresh one, because nothing ran yet.
    @discardableResult
    nonisolated(nonsending) func transaction<T: Sendable>(tenant: String?, _ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T

    /// Checks that the database answers (`SELECT 1`), for `/health/ready`.
    func ping() async throws

    /// Closes every connection. Later calls throw ``StorageError/unavailable``.
    func close() async
}

extension Database {
    /// ``read(tenant:_:)`` without a tenant.
    @discardableResult
    public nonisolated(nonsending) func read<T: Sendable>(_ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        try await read(tenant: nil, body)
    }

    /// ``transaction(tenant:_:)`` without a tenant.
    @discardableResult
    public nonisolated(nonsending) func transaction<T: Sendable>(_ body: @escaping @Sendable (any Connection) throws -> T) async throws -> T {
        try await transaction(tenant: nil, body)
    }
}
