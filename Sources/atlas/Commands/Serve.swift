// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Core

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the HTTP API (migrating first unless told not to).")

    @Option(help: "Listen address (overrides ATLAS_HOST).")
    var host: String?

    @Option(help: "Listen port (overrides ATLAS_PORT).")
    var port: Int?

    @Flag(help: "Do not apply pending migrations before serving.")
    var noMigrate = false

    func validate() throws {
        if let port, !(0...65535).contains(port) {
            throw ValidationError("--port must be between 0 and 65535")
        }
    }

    func run() async throws {
        var overrides: [String: String] = [:]
        if let host { overrides["ATLAS_HOST"] = host }
        if let port { overrides["ATLAS_PORT"] = String(port) }
        let environment = EnvironmentReader(EnvironmentReader().values.merging(overrides) { _, flag in flag })
        let application = try Application(environment: environment)
        try await application.serve(migrate: !noMigrate)
    }
}
