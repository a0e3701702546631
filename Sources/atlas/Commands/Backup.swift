// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Core
import Foundation
import Storage

/// `atlas backup --to FILE`: an online copy of the SQLite database while `atlas serve` keeps writing.
/// PostgreSQL is backed up with its own tools (`automation/playbooks/restore-from-backup.md`).
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite database to a file while Atlas keeps serving.",
        discussion: """
            Uses SQLite's online backup API: the copy is the database as of the moment the command \
            starts, consistent even while atlas serve writes. The file is written under a temporary \
            name and renamed when complete. For PostgreSQL use pg_dump (see \
            automation/playbooks/restore-from-backup.md).
            """)

    @Option(help: "The backup file to create (never overwritten).")
    var to: String

    @Option(help: "Pages copied per step (4 KiB each).")
    var pagesPerStep: Int32 = 256

    @Option(help: "Milliseconds to pause between steps.")
    var pauseMilliseconds: Int = 2

    func validate() throws {
        guard pagesPerStep > 0 else { throw ValidationError("--pages-per-step must be positive") }
        guard (0...10_000).contains(pauseMilliseconds) else { throw ValidationError("--pause-milliseconds must be between 0 and 10000") }
    }

    func run() throws {
        let path = try SQLiteFile.path(purpose: "backup")
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let report = try SQLiteBackup.copy(from: path, to: to, pagesPerStep: pagesPerStep,
                                               pause: .milliseconds(pauseMilliseconds))
            print("backed up \(path) to \(to): \(report.pages) pages, \(report.bytes) bytes in \(clock.now - start)")
        } catch let failure as SQLiteBackup.Failure {
            throw StartupError(message: failure.description)
        }
    }
}

/// `atlas restore --from FILE`: checks a backup, then replaces the SQLite database with it.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the SQLite database with a backup made by atlas backup.",
        discussion: """
            The backup must pass PRAGMA integrity_check and hold only migrations this atlas knows. \
            An existing database is replaced only with --force: stop atlas serve first.
            """)

    @Option(help: "The backup file to restore.")
    var from: String

    @Flag(help: "Replace a database that already holds data.")
    var force = false

    func run() throws {
        let path = try SQLiteFile.path(purpose: "restore")
        do {
            let verification = try SQLiteBackup.restore(from: from, to: path, force: force)
            print("restored \(from) into \(path): \(verification.applied.count) migrations applied, \(verification.pending.count) pending (atlas serve or atlas migrate applies them)")
        } catch let failure as SQLiteBackup.Failure {
            throw StartupError(message: failure.description)
        }
    }
}

/// The SQLite file `ATLAS_DATABASE_URL` names, or a clear refusal for other backends.
enum SQLiteFile {
    static func path(purpose: String) throws -> String {
        let configuration = try DatabaseConfiguration(environment: EnvironmentReader())
        switch try configuration.location {
        case .sqliteFile(let path):
            return path
        case .sqliteMemory:
            throw StartupError(message: "ATLAS_DATABASE_URL names an in-memory SQLite database: there is nothing to \(purpose)", exitCode: 64)
        case .postgres:
            let hint = purpose == "backup"
                ? "pg_dump --format=custom --file=atlas.dump \"$DATABASE_URL\""
                : "pg_restore --clean --if-exists --no-owner --dbname=\"$DATABASE_URL\" atlas.dump"
            throw StartupError(message: """
                atlas \(purpose) copies SQLite databases; ATLAS_DATABASE_URL names PostgreSQL. Use its own tools: \
                \(hint) (see automation/playbooks/restore-from-backup.md)
                """, exitCode: 69)
        }
    }
}
