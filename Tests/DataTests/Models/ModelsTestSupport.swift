// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import Core
@testable import DataPlatform
import Foundation
import Logging
import Storage
import AtlasTestSupport
import Testing

/// The model suites' names for the shared harness (Tests/Support).
typealias ModelsBackend = TestBackend
typealias ModelsTestDatabase = IsolatedTestDatabase

/// Runs `body` with a fresh migrated database, then closes and removes it.
func withModelsDatabase<R: Sendable>(_ backend: ModelsBackend, _ body: (any Database) async throws -> R) async throws -> R {
    try await withIsolatedDatabase(backend, prefix: "models") { database, _ in try await body(database) }
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
