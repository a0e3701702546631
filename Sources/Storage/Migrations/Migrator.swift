// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

public import Foundation
public import Logging

/// What ``Migrator/status()`` found.
public struct MigrationStatus: Sendable {
    /// A migration recorded in `atlas_schema_migrations`.
    public struct Applied: Sendable, Hashable {
        public let version: Int
        public let name: String
        public let checksum: String
        public let appliedAt: Date
        /// The binary's file of that name has other text than what was applied.
        public let changed: Bool
        /// The binary has no migration of that number.
        public let unknown: Bool
    }

    public let applied: [Applied]
    /// In the binary, not yet applied, in the order ``Migrator/migrate()`` will apply them.
    public let pending: [Migration]

    /// `true` when ``Migrator/migrate()`` would refuse to run (changed or unknown migrations).
    public var hasConflicts: Bool { applied.contains { $0.changed || $0.unknown } }
}

/// Applies the SQL migrations of one dialect, in version order, each in its own transaction, and
/// records `version`, `name`, `checksum` and `applied_at` (epoch milliseconds) in
/// `atlas_schema_migrations`.
///
/// ```swift
/// let migrator = Migrator(database: db, logger: logger)   // the binary's embedded migrations
/// let applied = try await migrator.migrate()               // names applied now; [] when up to date
/// let status = try await migrator.status()                 // for `atlas migrate status`
/// ```
///
/// Rules:
/// - An applied migration whose text changed is an error (``StorageError/migrationChecksumMismatch``)
///   naming the file: write a new migration instead of editing an applied one.
/// - A migration recorded in the database but unknown to this binary is an error
///   (``StorageError/migrationUnknown``): the binary is older than the schema, and running it could
///   write data the newer schema does not expect.
/// - A pending migration numbered below an applied one is applied (in number order), with a warning.
/// - Concurrent migrators (several processes starting together) apply each migration exactly once:
///   each step checks and applies under the database's write lock — SQLite's `BEGIN IMMEDIATE`,
///   PostgreSQL's transaction-scoped `pg_advisory_xact_lock` — so a second migrator waits, then sees
///   the step recorded. Migrations therefore run inside a transaction: no `CREATE INDEX
///   CONCURRENTLY`, no `PRAGMA foreign_keys` changes.
public struct Migrator: Sendable {
    public let database: any Database
    private let supplied: [Migration]?
    private let logger: Logger

    /// Key for `pg_advisory_xact_lock`: the ASCII bytes of "atlas-mg", so other tools can recognise it.
    static let advisoryLockKey: Int64 = 0x6174_6C61_732D_6D67
    static let table = "atlas_schema_migrations"

    /// - Parameter migrations: the list to apply; `nil` means the binary's embedded migrations for
    ///   the database's dialect.
    public init(database: any Database, migrations: [Migration]? = nil, logger: Logger = Logger(label: "atlas.storage")) {
        self.database = database
        self.supplied = migrations
        self.logger = logger
    }

    /// The migrations this migrator applies, in order.
    public func migrations() throws -> [Migration] {
        if let supplied { return try Migration.ordered(supplied) }
        return try Migration.embedded(for: database.dialect)
    }

    /// Applies every pending migration; returns the names applied, in order.
    @discardableResult
    public func migrate() async throws -> [String] {
        let list = try migrations()
        var appliedNow: [String] = []
        while true {
            let step = try await database.transaction { conn -> String? in
                if conn.dialect == .postgres {
                    _ = try conn.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))")
                }
                try Self.createTable(conn)
                let records = try Self.records(conn)
                try Self.verify(records, against: list)
                guard let next = list.first(where: { records[$0.version] == nil }) else { return nil }
                if let newest = records.keys.max(), newest > next.version {
                    logger.warning("storage.migration_out_of_order", metadata: ["migration.name": "\(next.name)"])
                }
                do {
                    try conn.executeScript(unsafeSQL: next.sql)
                } catch let error as StorageError {
                    throw StorageError(.migrationFailed, "\(next.file) failed: \(error.message)",
                                       sqlState: error.sqlState, sqliteCode: error.sqliteCode,
                                       privateDetail: error.privateDetail)
                }
                try conn.execute("""
                    INSERT INTO atlas_schema_migrations (version, name, checksum, applied_at)
                    VALUES (\(next.version), \(next.name), \(next.checksum), \(Date()))
                    """)
                return next.name
            }
            guard let step else { break }
            logger.info("storage.migration_applied", metadata: ["migration.name": "\(step)"])
            appliedNow.append(step)
        }
        return appliedNow
    }

    /// Applied and pending migrations, without changing anything.
    public func status() async throws -> MigrationStatus {
        let list = try migrations()
        let records = try await database.read { conn -> [Int: Record] in
            guard try conn.queryFirst(conn.dialect.tableExists(Self.table)) != nil else { return [:] }
            return try Self.records(conn)
        }
        let byVersion = Dictionary(uniqueKeysWithValues: list.map { ($0.version, $0) })
        let applied = records.values.sorted { $0.version < $1.version }.map { record in
            let known = byVersion[record.version]
            return MigrationStatus.Applied(
                version: record.version, name: record.name, checksum: record.checksum,
                appliedAt: Date(sqlValue: .integer(record.appliedAt)) ?? Date(timeIntervalSince1970: 0),
                changed: known.map { $0.checksum != record.checksum || $0.name != record.name } ?? false,
                unknown: known == nil)
        }
        return MigrationStatus(applied: applied, pending: list.filter { records[$0.version] == nil })
    }

    // MARK: Steps (run inside the locked transaction)

    struct Record: Sendable {
        let version: Int
        let name: String
        let checksum: String
        let appliedAt: Int64
    }

    private static func createTable(_ conn: any Connection) throws {
        try conn.execute("""
            CREATE TABLE IF NOT EXISTS atlas_schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                checksum TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )
            """)
    }

    private static func records(_ conn: any Connection) throws -> [Int: Record] {
        let rows = try conn.query("SELECT version, name, checksum, applied_at FROM atlas_schema_migrations")
        var records: [Int: Record] = [:]
        for row in rows {
            let record = Record(version: try row.decode("version"), name: try row.decode("name"),
                                checksum: try row.decode("checksum"), appliedAt: try row.decode("applied_at"))
            records[record.version] = record
        }
        return records
    }

    private static func verify(_ records: [Int: Record], against list: [Migration]) throws {
        let byVersion = Dictionary(uniqueKeysWithValues: list.map { ($0.version, $0) })
        for record in records.values.sorted(by: { $0.version < $1.version }) {
            guard let migration = byVersion[record.version] else {
                throw StorageError(.migrationUnknown,
                                   "the database has migration \(record.name), which this binary does not contain; run a newer atlas")
            }
            guard migration.checksum == record.checksum, migration.name == record.name else {
                throw StorageError(.migrationChecksumMismatch,
                                   "\(migration.file) differs from the applied \(record.name) (checksum \(record.checksum), now \(migration.checksum)); add a new migration instead of editing an applied one")
            }
        }
    }
}
