// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// `scripts/demo.sh` runs in `make test`, so DEMO.md's story cannot rot: every step checks its
/// answer against the binary just built.
@Suite struct DemoScriptTests {
    @Test func demoScriptWalksTheWholeStory() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Delivery.root.appendingPathComponent("scripts/demo.sh").path, "--quiet"]
        process.currentDirectoryURL = Delivery.root
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("ATLAS_") }
        environment["ATLAS_BIN"] = AtlasProcess.binary.path
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "demo.sh failed:\n\(String(decoding: err, as: UTF8.self))")
        #expect(out.isEmpty, "--quiet prints nothing on success: \(String(decoding: out, as: UTF8.self))")
    }

    @Test func demoDocumentRunsTheScript() throws {
        let demo = try Delivery.text("DEMO.md")
        #expect(demo.contains("scripts/demo.sh"))
    }
}
