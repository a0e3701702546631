// Atlas — EmbedAPIDocument build-tool plugin
// SPDX-License-Identifier: Apache-2.0

import Foundation
import PackagePlugin

/// Compiles `docs/api/openapi.json` into a Swift source file inside the target, so `GET /openapi.json`
/// serves the document the binary was built with, wherever it runs. Editing the file reruns the tool.
@main
struct EmbedAPIDocument: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let document = context.package.directoryURL.appending(path: "docs/api/openapi.json")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedAPIDocument.swift")
        return [
            .buildCommand(
                displayName: "Embedding docs/api/openapi.json",
                executable: try context.tool(named: "EmbedAPIDocumentTool").url,
                arguments: [document.path(), output.path()],
                inputFiles: [document],
                outputFiles: [output])
        ]
    }
}
