// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

/// `atlas data …`: ingest records, build SQL models and run their tests.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Ingest records, run SQL models and their tests.",
        subcommands: [DataRun.self, DataTest.self, DataSeed.self, DataList.self, DataIngest.self])
}
