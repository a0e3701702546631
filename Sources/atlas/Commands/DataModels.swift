// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

struct DataRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Build the project's models in dependency order.")
    func run() async throws { throw ValidationError("not available yet") }
}

struct DataTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "test", abstract: "Run the project's data tests.")
    func run() async throws { throw ValidationError("not available yet") }
}

struct DataList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the project's models and sources.")
    func run() async throws { throw ValidationError("not available yet") }
}
