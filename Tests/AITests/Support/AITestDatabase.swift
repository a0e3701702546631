// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

@testable import AI
import Core
import Foundation
import Logging
import Storage
import Testing

/// The storage backends the AI tests run on. PostgreSQL is listed when `ATLAS_TEST_POSTGRES_URL`
/// is set (scripts/with-postgres.sh), and also when `ATLAS_REQUIRE_POSTGRES=1` is set without it,
/// so such a run fails instead of quietly leaving PostgreSQL out.
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["ATLAS_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var all: [Backend] {
        let listed = postgresURL != nil || ProcessInfo.processInfo.environment["ATLAS_REQUIRE_POSTGRES"] == "1"
        return listed ? [.sqlite, .postgres] : [.sqlite]
    }
}

struct PostgresNotConfigured: Error, CustomStringConvertible {
    var description: String {
        "ATLAS_REQUIRE_POSTGRES=1 but ATLAS_TEST_POSTGRES_URL is not set: run the tests under scripts/with-postgres.sh"
    }
}

/// A migrated database of its own for one test: a SQLite file in a temporary directory, or a
/// PostgreSQL schema owned by a new **non-superuser** role that the test connects as, so the
/// row-level-security policies of 0022 are in force exactly as in production.
final class AITestDatabase: Sendable {
    let backend: Backend
    let url: String
    let directory: URL?
    let schema: String?
    let role: String?

    private init(backend: Backend, url: String, directory: URL?, schema: String?, role: String?) {
        self.backend = backend
        self.url = url
        self.directory = directory
        self.schema = schema
        self.role = role
    }

    static let quiet = Logger(label: "ai-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func make(_ backend: Backend) async throws -> AITestDatabase {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-ai-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return AITestDatabase(backend: backend, url: "sqlite:///" + directory.appendingPathComponent("ai.db").path,
                                  directory: directory, schema: nil, role: nil)
        case .postgres:
            guard let base = Backend.postgresURL else { throw PostgresNotConfigured() }
            let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let schema = "ai_\(suffix)"
            let role = "atlas_ai_\(suffix)"
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
            return AITestDatabase(backend: backend, url: url, directory: nil, schema: schema, role: role)
        }
    }

    /// Opens (another) connection set to this database and applies the migrations.
    func open() async throws -> any Database {
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

    func remove() async {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        if let schema, let role, let base = Backend.postgresURL, let admin = try? await openDatabase(url: base, logger: Self.quiet) {
            _ = try? await admin.transaction { conn in
                try conn.execute(SQLQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
                try conn.execute(SQLQuery(unsafeSQL: "DROP ROLE \(role)"))
            }
            await admin.close()
        }
    }
}

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    // @unchecked: `current` is only touched while `lock` is held.
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date()) { current = start }

    var now: Date { lock.withLock { current } }
    func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// A tenant id no other test uses.
func uniqueTenant(_ prefix: String = "t") -> TenantID {
    TenantID(prefix + "-" + UUID().uuidString.lowercased().prefix(8))!
}

extension AIModule {
    /// A module over `database` with a test clock and small, fast settings.
    static func make(_ database: any Database, clock: TestClock = TestClock(),
                     retrieval: RetrievalConfiguration = RetrievalConfiguration(),
                     cache: SemanticCacheConfiguration = SemanticCacheConfiguration(),
                     embedder: (any Embedder)? = nil) -> AIModule {
        AIModule(database: database, configuration: Configuration(retrieval: retrieval, semanticCache: cache),
                 logger: AITestDatabase.quiet, usageMeter: nil, embedder: embedder, now: { clock.now })
    }
}

/// Runs `body` with a fresh migrated database, then closes and removes it.
func withAIDatabase<R: Sendable>(_ backend: Backend, _ body: (any Database, AITestDatabase) async throws -> R) async throws -> R {
    let test = try await AITestDatabase.make(backend)
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
