// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Core
import Foundation
import Storage

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations.",
        discussion: "Migrations are embedded in the binary. Two processes migrating one database at once take turns under a lock.",
        subcommands: [Apply.self, Status.self],
        defaultSubcommand: Apply.self)

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply pending migrations (the default).")

        func run() async throws {
            let application = try Application(environment: EnvironmentReader())
            let database = try await application.openDatabase()
            defer { Task { await database.close() } }
            let applied = try await application.migrate(database)
            if applied.isEmpty {
                print("Nothing to apply: the database is up to date.")
            } else {
                for name in applied { print("applied  \(name)") }
            }
            await database.close()
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applied and pending migrations.")

        func run() async throws {
            let application = try Application(environment: EnvironmentReader())
            let database = try await application.openDatabase()
            let status = try await Migrator(database: database, logger: application.logger).status()
            await database.close()
            let formatter = ISO8601DateFormatter()
            for migration in status.applied {
                let note = migration.changed ? "  CHANGED since it was applied" : migration.unknown ? "  not known to this binary" : ""
                print("applied  \(migration.name)  \(formatter.string(from: migration.appliedAt))\(note)")
            }
            for migration in status.pending {
                print("pending  \(migration.name)")
            }
            if status.hasConflicts {
                throw ExitCode(1)
            }
        }
    }
}
