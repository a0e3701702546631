// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Core
import Foundation

/// The `atlas` command line: one executable for serving, migrating and operating Atlas.
@main
struct Atlas: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "atlas",
        abstract: "A multi-tenant, AI-native SaaS platform backend in one executable.",
        version: version,
        subcommands: [Serve.self, Migrate.self, AICommand.self, DataCommand.self, Backup.self, Restore.self, Healthcheck.self, Version.self])

    /// Runs the command, turning configuration errors into one line on stderr and exit code 78
    /// (EX_CONFIG), so operators see the variable at fault and nothing else.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigurationError {
            FileDescriptorWriter.standardError.write("atlas: configuration error: \(error.description)\n")
            Foundation.exit(78)
        } catch let error as StartupError {
            FileDescriptorWriter.standardError.write("atlas: \(error.message)\n")
            Foundation.exit(error.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}

/// A start-up failure that is not the operator's configuration: the message is printed as is.
struct StartupError: Error {
    var message: String
    var exitCode: Int32 = 1
}

/// Writes to a file descriptor directly: Swift 6 treats the C `stderr` global as unsafe to share.
struct FileDescriptorWriter {
    let fd: Int32
    static let standardError = FileDescriptorWriter(fd: 2)
    static let standardOutput = FileDescriptorWriter(fd: 1)

    func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
