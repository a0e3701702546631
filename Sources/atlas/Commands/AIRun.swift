// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

struct AIRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the assistant graph on a question.")

    @Argument(help: "The question.") var question: String

    func run() async throws {
        throw ValidationError("not available yet")
    }
}
