// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version of atlas.")

    func run() {
        print("atlas \(Atlas.version)")
    }
}
