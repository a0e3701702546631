// Atlas — test support
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation
public import Logging
public import Storage
public import Testing

/// The storage backends a suite runs on. PostgreSQL is listed when `ATLAS_TEST_POSTGRES_URL` is
/// set (scripts/with-postgres.sh), and also when `ATLAS_REQUIRE_POSTGRES=1` is set without it, so
/// such a run fails instead of quietly leaving PostgreSQL out.
public enum TestBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }

    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["ATLAS_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public static var all: [TestBackend] {
        let listed = postgresURL != nil || ProcessInfo.processInfo.environment["ATLAS_REQUIRE_POSTGRES"] == "1"
        return listed ? [.sqlite, .postgres] : [.sqlite]
    }
}

public struct PostgresNotConfigured: Error, CustomStringConvertible {
    public init() {}
    public var description: String {
        "ATLAS_REQUIRE_POSTGRES=1 but ATLAS_TEST_POSTGRES_URL is not set: run the tests under scripts/with-postgres.sh"
    }
}

/// A migrated database of its own for one test: a SQLite file in a temporary directory, or a
/// PostgreSQL schema owned by a new **non-superuser** role that the test connects as, so the
/// row-level-security policies are in force exactly as in production.
public final class IsolatedTestDatabase: Sendable {
    public let backend: TestBackend
    public let url: String
    /// The test's own folder (the SQLite file lives in it); removed with the database.
    public let directory: URL
    public let schema: String?
    public let role: String?

    private init(backend: TestBackend, url: String, directory: URL, schema: String?, role: String?) {
        self.backend = backend
        self.url = url
        self.directory = directory
        self.schema = schema
        self.role = role
    }

    public static let quiet = Logger(label: "atlas-test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// - Parameter prefix: names the folder, schema and role, e.g. `ai` or `data`.
    public static func make(_ backend: TestBackend, prefix: String = "test") async throws -> IsolatedTestDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch backend {
        case .sqlite:
            return IsolatedTestDatabase(backend: backend, url: "sqlite:///" + directory.appendingPathComponent("\(prefix).db").path,
                                        directory: directory, schema: nil, role: nil)
        case .postgres:
            guard let base = TestBackend.postgresURL else { throw PostgresNotConfigured() }
            let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let schema = "\(prefix)_\(suffix)"
            let role = "atlas_\(prefix)_\(suffix)"
            let admin = try await openDatabase(url: base, logger: quiet)
            do {
                try await admin.transaction { conn in
                    try conn.execute(SQLQuery(unsafeSQL: "CREATE ROLE \(role) LOGIN NOSUPERUSER NOBYPASSRLS"))
                    try conn.execute(SQLQuery(unsafeSQL: "CREATE SCHEMA \(schema) AUTHORIZATION \(role)"))
                }
            } catch {
                await admin.close()
                throw error
            }
            await admin.close()
            guard var components = URLComponents(string: base) else { throw PostgresNotConfigured() }
            components.user = role
            components.password = nil
            var query = components.queryItems ?? []
            query.append(URLQueryItem(name: "options", value: "-csearch_path=\(schema)"))
            components.queryItems = query
            let url = components.string!.replacingOccurrences(of: "search_path=", with: "search_path%3D")
            return IsolatedTestDatabase(backend: backend, url: url, directory: directory, schema: schema, role: role)
        }
    }

    /// Opens (another) connection set to this database and applies the migrations.
    public func open() async throws -> any Database {
        let database = try await openDatabase(
            url: url, configuration: DatabaseConfiguration(poolSize: 4, poolTimeout: .seconds(30)), logger: Self.quiet)
        do {
            try await Migrator(database: database, logger: Self.quiet).migrate()
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    public func remove() async {
        try? FileManager.default.removeItem(at: directory)
        if let schema, let role, let base = TestBackend.postgresURL, let admin = try? await openDatabase(url: base, logger: Self.quiet) {
            _ = try? await admin.transaction { conn in
                try conn.execute(SQLQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
                try conn.execute(SQLQuery(unsafeSQL: "DROP ROLE \(role)"))
            }
            await admin.close()
        }
    }
}

/// Runs `body` with a fresh migrated database, then closes and removes it.
public func withIsolatedDatabase<R: Sendable>(
    _ backend: TestBackend, prefix: String = "test", _ body: (any Database, IsolatedTestDatabase) async throws -> R
) async throws -> R {
    let test = try await IsolatedTestDatabase.make(backend, prefix: prefix)
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

/// A clock tests move by hand.
public final class TestClock: @unchecked Sendable {
    // @unchecked: `current` is only touched while `lock` is held.
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date = Date()) { current = start }

    public var now: Date { lock.withLock { current } }
    public func set(_ date: Date) { lock.withLock { current = date } }
    public func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// A tenant id no other test uses.
public func uniqueTenant(_ prefix: String = "t") -> TenantID {
    TenantID(prefix + "-" + UUID().uuidString.lowercased().prefix(8))!
}
