// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

struct DataIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ingest", abstract: "Load a JSON, NDJSON or CSV file into a source.")
    func run() async throws { throw ValidationError("not available yet") }
}
