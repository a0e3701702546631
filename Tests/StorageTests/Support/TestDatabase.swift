// Atlas — StorageTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage
import Testing

/// The backends a conformance test runs on. PostgreSQL is included when
/// `ATLAS_TEST_POSTGRES_URL` is set (scripts/with-postgres.sh sets it), and also when
/// `ATLAS_REQUIRE_POSTGRES=1` is set without it, so that the run fails instead of skipping.
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqliteFile
    case sqliteMemory
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["ATLAS_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var postgresRequired: Bool {
        ProcessInfo.processInfo.environment["ATLAS_REQUIRE_POSTGRES"] == "1"
    }

    static var postgresListed: Bool { postgresURL != nil || postgresRequired }

    /// Every backend.
    static var all: [Backend] { [.sqliteFile, .sqliteMemory] + (postgresListed ? [.postgres] : []) }
    /// Backends with several connections to one database (the in-memory database has one).
    static var shared: [Backend] { [.sqliteFile] + (postgresListed ? [.postgres] : []) }
    /// PostgreSQL alone, or nothing when it is neither configured nor required.
    static var postgresOnly: [Backend] { postgresListed ? [.postgres] : [] }
}

struct MissingPostgres: Error, CustomStringConvertible {
    var description: String {
        "ATLAS_REQUIRE_POSTGRES=1 but ATLAS_TEST_POSTGRES_URL is not set: run the tests under scripts/with-postgres.sh"
    }
}

/// A fresh, empty database for one test: a SQLite file in its own temporary directory, an
/// in-memory SQLite database, or a new PostgreSQL schema (selected through `search_path`).
struct TestDatabase: Sendable {
    let backend: Backend
    /// A URL that opens this same database again.
    let url: String
    let directory: URL?
    let schema: String?

    static func make(_ backend: Backend) async throws -> TestDatabase {
        switch backend {
        case .sqliteMemory:
            return TestDatabase(backend: backend, url: "sqlite://", directory: nil, schema: nil)
        case .sqliteFile:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("atlas-storage-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return TestDatabase(backend: backend, url: "sqlite:///" + directory.appendingPathComponent("test.db").path,
                                directory: directory, schema: nil)
        case .postgres:
            guard let base = Backend.postgresURL else { throw MissingPostgres() }
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let admin = try await openDatabase(url: base)
            do {
                try await admin.transaction { try $0.execute(SQLQuery(unsafeSQL: "CREATE SCHEMA \(schema)")) }
            } catch {
                await admin.close()
                throw error
            }
            await admin.close()
            let separator = base.contains("?") ? "&" : "?"
            return TestDatabase(backend: backend, url: base + separator + "options=-csearch_path%3D\(schema)",
                                directory: nil, schema: String(schema))
        }
    }

    var path: String? { directory?.appendingPathComponent("test.db").path }

    func open(_ configuration: DatabaseConfiguration = DatabaseConfiguration(poolTimeout: .seconds(20))) async throws -> any Database {
        try await openDatabase(url: url, configuration: configuration)
    }

    func remove() async {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        if let schema, let base = Backend.postgresURL, let admin = try? await openDatabase(url: base) {
            _ = try? await admin.transaction { try $0.execute(SQLQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")) }
            await admin.close()
        }
    }
}

/// Runs `body` with a fresh database of `backend`, then closes and removes it.
func withDatabase<R: Sendable>(
    _ backend: Backend,
    _ configuration: DatabaseConfiguration = DatabaseConfiguration(poolTimeout: .seconds(20)),
    _ body: (any Database, TestDatabase) async throws -> R
) async throws -> R {
    try await withFreshDatabase(backend, configuration, body)
}

private func withFreshDatabase<R: Sendable>(
    _ backend: Backend, _ configuration: DatabaseConfiguration,
    _ body: (any Database, TestDatabase) async throws -> R
) async throws -> R {
    let test = try await TestDatabase.make(backend)
    let database: any Database
    do {
        database = try await test.open(configuration)
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

/// Counts how many closures run at once, from any thread.
final class ConcurrencyProbe: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var current = 0
    private(set) var peak = 0

    private var entered = 0

    func enter() { lock.withLock { current += 1; entered += 1; peak = max(peak, current) } }
    func leave() { lock.withLock { current -= 1 } }
    var maximum: Int { lock.withLock { peak } }

    /// Blocks the calling (storage) thread until `peers` callers are inside at once, or all
    /// `total` have entered, or `timeout` passes: on a starved machine a caller may otherwise
    /// finish before the next one is scheduled, and overlap would be left to chance.
    func waitForCompany(peers: Int, total: Int, timeout: Double = 10) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if lock.withLock({ current >= peers || entered >= total }) { return }
            usleep(2_000)
        }
    }
}

/// Milliseconds elapsed while running `body`.
func measure<R>(_ body: () async throws -> R) async rethrows -> (R, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try await body()
    let elapsed = clock.now - start
    return (result, Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
}
