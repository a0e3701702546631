// Atlas — EmbedMigrations build-tool plugin
// SPDX-License-Identifier: Apache-2.0

import Foundation
import PackagePlugin

/// Compiles `Migrations/<dialect>/*.sql` into a Swift source file inside the target, so the `atlas`
/// binary carries its migrations wherever it runs. Editing, adding or removing a `.sql` file
/// reruns the tool. SwiftPM re-plans (and so re-reads the file list) only when the package structure
/// changes, so a file added since the last plan is embedded when added or removed, but in-place edits
/// to it are seen only after the next re-plan (`touch Package.swift` forces one).
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL.appending(path: "Migrations")
        let files = try sqlFiles(under: root)
        let folders = [root] + dialectFolders(under: root)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) SQL migrations",
                executable: try context.tool(named: "EmbedMigrationsTool").url,
                arguments: [root.path(), output.path()],
                // The folders are inputs too: adding or removing a file changes a folder's
                // modification time, which reruns the tool (it lists the folders itself).
                inputFiles: folders + files,
                outputFiles: [output])
        ]
    }

    private func dialectFolders(under root: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path())) ?? []
        return names.sorted().map { root.appending(path: $0, directoryHint: .isDirectory) }.filter { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path(), isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    private func sqlFiles(under root: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.path < $1.path }
    }
}
