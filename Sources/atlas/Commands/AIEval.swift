// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

struct AIEval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate the assistant over a question set.")

    func run() async throws {
        throw ValidationError("not available yet")
    }
}
