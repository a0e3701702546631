// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Logging
import Storage
import Testing

/// The storage backends Billing's tests run on. PostgreSQL is listed when `ATLAS_TEST_POSTGRES_URL`
/// is set (scripts/with-postgres.sh), and also when `ATLAS_REQUIRE_POSTGRES=1` is set without it,
/// so such a run fails instead of quietly skipping PostgreSQL.
enum StorageBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["ATLAS_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var all: [StorageBackend] {
        let listed = postgresURL != nil || ProcessInfo.processInfo.environment["ATLAS_REQUIRE_POSTGRES"] == "1"
        return listed ? [.sqlite, .postgres] : [.sqlite]
    }

    static var postgresOnly: [StorageBackend] { all.filter { $0 == .postgres } }
}

struct PostgresNotConfigured: Error, CustomStringConvertible {
    var description: String {
        "ATLAS_REQUIRE_POSTGRES=1 but ATLAS_TEST_POSTGRES_URL is not set: run the tests under scripts/with-postgres.sh"
    }
}

/// A migrated database of its own for one test: a SQLite file in a temporary directory, or a new
/// PostgreSQL schema selected through `search_path`. `open()` may be called again for a second
/// connection set to the same database (a second "instance").
final class BillingTestDatabase: Sendable {
    let backend: StorageBackend
    let url: String
    let directory: URL?
    let schema: String?

    private init(backend: StorageBackend, url: String, directory: URL?, schema: String?) {
        self.backend = backend
        self.url = url
        self.directory = directory
        self.schema = schema
    }

    static func make(_ backend: StorageBackend) async throws -> BillingTestDatabase {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-billing-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return BillingTestDatabase(backend: backend, url: "sqlite:///" + directory.appendingPathComponent("billing.db").path,
                                       directory: directory, schema: nil)
        case .postgres:
            guard let base = StorageBackend.postgresURL else { throw PostgresNotConfigured() }
            let schema = "billing_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
            let admin = try await openDatabase(url: base, logger: Logger(label: "test"))
            defer { Task { await admin.close() } }
            try await admin.transaction { try $0.execute(SQLQuery(unsafeSQL: "CREATE SCHEMA \(schema)")) }
            let separator = base.contains("?") ? "&" : "?"
            return BillingTestDatabase(backend: backend, url: base + separator + "options=-csearch_path%3D\(schema)",
                                       directory: nil, schema: String(schema))
        }
    }

    /// Opens (another) connection set to this database; migrates it the first time.
    func open() async throws -> any Database {
        let database = try await openDatabase(url: url, configuration: DatabaseConfiguration(poolTimeout: .seconds(30)),
                                               logger: Logger(label: "test"))
        try await Migrator(database: database, logger: Logger(label: "test")).migrate()
        return database
    }

    func remove() async {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        if let schema, let base = StorageBackend.postgresURL,
           let admin = try? await openDatabase(url: base, logger: Logger(label: "test")) {
            _ = try? await admin.transaction { try $0.execute(SQLQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")) }
            await admin.close()
        }
    }
}

/// Runs `body` with a fresh migrated database, then closes and removes it.
func withBillingDatabase<R: Sendable>(_ backend: StorageBackend, _ body: (any Database, BillingTestDatabase) async throws -> R) async throws -> R {
    let test = try await BillingTestDatabase.make(backend)
    let database: any Database
    do {
        database = try await test.open()
    } catch {
        await test.remove()
        throw error
    }
    do {
        let result = try await body(database, test)
        await database.close()
        await test.remove()
        return result
    } catch {
        await database.close()
        await test.remove()
        throw error
    }
}

/// A clock tests can move.
final class TestClock: @unchecked Sendable {
    // @unchecked: `current` is only touched under `lock`.
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date()) { current = start }

    var now: Date { lock.withLock { current } }
    func set(_ date: Date) { lock.withLock { current = date } }
    func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

extension BillingService {
    static func make(_ database: any Database, configuration: BillingConfiguration = BillingConfiguration(),
                     clock: TestClock? = nil) -> BillingService {
        let now: @Sendable () -> Date
        if let clock { now = { clock.now } } else { now = { Foundation.Date() } }
        return BillingService(database: database, configuration: configuration, logger: Logger(label: "billing-test", factory: { _ in SwiftLogNoOpLogHandler() }), now: now)
    }
}

/// A tenant id no other test uses.
func uniqueTenant(_ prefix: String = "t") -> TenantID {
    TenantID(prefix + "-" + UUID().uuidString.lowercased().prefix(8))!
}
