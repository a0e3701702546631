// Atlas — EmbedMigrations build-tool plugin
// SPDX-License-Identifier: Apache-2.0

import Foundation
import PackagePlugin

/// Compiles `Migrations/<dialect>/*.sql` into a Swift source file inside the target, so the `atlas`
/// binary carries its migrations wherever it runs. Editing any `.sql` file triggers a rebuild.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL.appending(path: "Migrations")
        let files = try sqlFiles(under: root)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) SQL migrations",
                executable: try context.tool(named: "EmbedMigrationsTool").url,
                arguments: [root.path(), output.path()],
                inputFiles: files,
                outputFiles: [output])
        ]
    }

    private func sqlFiles(under root: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.path < $1.path }
    }
}
