// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

/// `atlas ai …`: run the agent runtime from the command line.
struct AICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ai",
        abstract: "Run agent graphs and evaluate them.",
        subcommands: [AIRun.self, AIEval.self])
}
