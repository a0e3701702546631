// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import Core
@testable import DataPlatform
import Foundation
import Logging
import Storage
import Testing

/// The storage backends the AI tests run on. PostgreSQL is listed when `ATLAS_TEST_POSTGRES_URL`
/// is set (scripts/with-postgres.sh), and also when `ATLAS_REQUIRE_POSTGRES=1` is set without it,
/// so such a run fails instead of quietly leaving PostgreSQL out.
enum ModelsBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["ATLAS_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var all: [ModelsBackend] {
        let listed = postgresURL != nil || ProcessInfo.processInfo.environment["ATLAS_REQUIRE_POSTGRES"] == "1"
        return listed ? [.sqlite, .postgres] : [.sqlite]
    }
}

struct ModelsPostgresNotConfigured: Error, CustomStringConvertible {
    var description: String {
        "ATLAS_REQUIRE_POSTGRES=1 but ATLAS_TEST_POSTGRES_URL is not set: run the tests under scripts/with-postgres.sh"
    }
}

/// A migrated database of its own for one test: a SQLite file in a temporary directory, or a
/// PostgreSQL schema owned by a new **non-superuser** role that the test connects as, so the
/// row-level-security policies are in force exactly as in production.
final class ModelsTestDatabase: Sendable {
    let backend: ModelsBackend
    let url: String
    let directory: URL?
    let schema: String?
    let role: String?

    private init(backend: ModelsBackend, url: String, directory: URL?, schema: String?, role: String?) {
        self.backend = backend
        self.url = url
        self.directory = directory
        self.schema = schema
        self.role = role
    }

    static let quiet = Logger(label: "models-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func make(_ backend: ModelsBackend) async throws -> ModelsTestDatabase {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-models-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return ModelsTestDatabase(backend: backend, url: "sqlite:///" + directory.appendingPathComponent("models.db").path,
                                  directory: directory, schema: nil, role: nil)
        case .postgres:
            guard let base = ModelsBackend.postgresURL else { throw ModelsPostgresNotConfigured() }
            let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let schema = "dm_\(suffix)"
            let role = "atlas_dm_\(suffix)"
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
            guard var components = URLComponents(string: base) else { throw ModelsPostgresNotConfigured() }
            components.user = role
            components.password = nil
            var query = components.queryItems ?? []
            query.append(URLQueryItem(name: "options", value: "-csearch_path=\(schema)"))
            components.queryItems = query
            let url = components.string!.replacingOccurrences(of: "search_path=", with: "search_path%3D")
            return ModelsTestDatabase(backend: backend, url: url, directory: nil, schema: schema, role: role)
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
        if let schema, let role, let base = ModelsBackend.postgresURL, let admin = try? await openDatabase(url: base, logger: Self.quiet) {
            _ = try? await admin.transaction { conn in
                try conn.execute(SQLQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
                try conn.execute(SQLQuery(unsafeSQL: "DROP ROLE \(role)"))
            }
            await admin.close()
        }
    }
}

/// Runs `body` with a fresh migrated database, then closes and removes it.
func withModelsDatabase<R: Sendable>(_ backend: ModelsBackend, _ body: (any Database) async throws -> R) async throws -> R {
    let test = try await ModelsTestDatabase.make(backend)
    let database: any Database
    do {
        database = try await test.open()
    } catch {
        await test.remove()
        throw error
    }
    do {
        let result = try await body(database)
        await database.close()
        await test.remove()
        return result
    } catch {
        await database.close()
        await test.remove()
        throw error
    }
}

/// A dbt project written into a temporary folder, file by file.
final class ModelsProjectFolder: Sendable {
    let url: URL

    init(name: String = "test_project", projectYAML: String? = nil, files: [String: String]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-dbt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let yaml = projectYAML ?? """
            name: '\(name)'
            version: '1.0.0'
            config-version: 2
            model-paths: ['models']
            """
        try write("dbt_project.yml", yaml)
        for (path, text) in files { try write(path, text) }
    }

    func write(_ path: String, _ text: String) throws {
        let file = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Foundation.Data(text.utf8).write(to: file)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The repository's root folder (for data/transformations and examples/).
let modelsRepositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let modelsQuietLogger = Logger(label: "models-test", factory: { _ in SwiftLogNoOpLogHandler() })
