// Atlas — AtlasTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage
import Synchronization
import Testing

/// `atlas backup` and `atlas restore` as an operator runs them, against a serving `atlas`.
@Suite(.serialized) struct BackupTests {
    /// The ids the server acknowledged while clients posted usage events, until `stop` is set.
    final class Load: @unchecked Sendable {
        // @unchecked: every field is guarded by `lock`.
        private let lock = NSLock()
        private var acknowledged: [String] = []
        private var stopped = false

        func record(_ id: String) -> Int { lock.withLock { acknowledged.append(id); return acknowledged.count } }
        var ids: [String] { lock.withLock { acknowledged } }
        var count: Int { lock.withLock { acknowledged.count } }
        var isStopped: Bool { lock.withLock { stopped } }
        func stop() { lock.withLock { stopped = true } }
    }

    static func environment(_ file: URL) -> [String: String] {
        ["ATLAS_DATABASE_URL": "sqlite:///\(file.path)"]
    }

    @Test func backupTakenUnderWriteLoad_RestoresEveryEventAcknowledgedBeforeItStarted() async throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let live = directory.appendingPathComponent("atlas.db")
        let backup = directory.appendingPathComponent("backup.db")
        let restored = directory.appendingPathComponent("restored.db")
        let atlas = try AtlasProcess(arguments: ["serve"], environment: Self.environment(live))
        try await atlas.waitUntilServing()
        let token = try await UsageDurabilityTests.token(port: atlas.port)

        let load = Load()
        let port = atlas.port
        let clients = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<6 {
                    group.addTask {
                        var sequence = 0
                        while !load.isStopped {
                            sequence += 1
                            let response = try? await UsageDurabilityTests.postUsage(port: port, token: token, tokens: sequence, key: "b\(client)-\(sequence)")
                            if let response, response.status == 202, let id = (response.json as? [String: Any])?["id"] as? String {
                                _ = load.record(id)
                            } else {
                                try? await Task.sleep(for: .milliseconds(20))
                            }
                        }
                    }
                }
            }
        }
        // Let the load reach a steady state, then take the backup in small steps so it overlaps it.
        let clock = ContinuousClock()
        let warmUp = clock.now
        while load.count < 150, clock.now - warmUp < .seconds(60) { try await Task.sleep(for: .milliseconds(20)) }
        let before = Set(load.ids)
        let countAtStart = load.count
        let result = try await Task.detached {
            try AtlasProcess.run(["backup", "--to", backup.path, "--pages-per-step", "1", "--pause-milliseconds", "20"],
                                 environment: Self.environment(live))
        }.value
        let countAtEnd = load.count
        load.stop()
        await clients.value
        #expect(result.status == 0, "backup failed: \(result.stderr)")
        #expect(result.stdout.contains("backed up"))
        #expect(before.count >= 150)
        #expect(countAtEnd > countAtStart, "no write was acknowledged while the backup ran")
        atlas.signal(SIGTERM)
        _ = try await atlas.waitForExit()

        let restore = try AtlasProcess.run(["restore", "--from", backup.path], environment: Self.environment(restored))
        #expect(restore.status == 0, "restore failed: \(restore.stderr)")

        let second = try AtlasProcess(arguments: ["serve"], environment: Self.environment(restored))
        try await second.waitUntilServing()
        let stored = try await UsageDurabilityTests.storedIDs(port: second.port, token: try await UsageDurabilityTests.token(port: second.port))
        let missing = before.subtracting(stored)
        #expect(missing.isEmpty, "\(missing.count) of \(before.count) events acknowledged before the backup are missing")
        // A snapshot, not a live view: it holds nothing that was never acknowledged by the server.
        #expect(stored.subtracting(Set(load.ids)).count <= 6)
        second.signal(SIGTERM)
        _ = try await second.waitForExit()
    }

    @Test func restoreRefusesToReplaceADatabaseWithoutForce_AndReplacesItWithForce() async throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = directory.appendingPathComponent("original.db")
        let other = directory.appendingPathComponent("other.db")
        let backup = directory.appendingPathComponent("backup.db")
        #expect(try AtlasProcess.run(["migrate"], environment: Self.environment(original)).status == 0)
        try await Self.execute(original, "INSERT INTO core_tenants (id, plan, tokens, requests) VALUES ('restoremark', 'trial', 7, 1)")
        #expect(try AtlasProcess.run(["backup", "--to", backup.path], environment: Self.environment(original)).status == 0)

        // A second backup to the same name is refused: a backup never overwrites a file.
        let again = try AtlasProcess.run(["backup", "--to", backup.path], environment: Self.environment(original))
        #expect(again.status != 0)
        #expect(again.stderr.contains("exists"))

        #expect(try AtlasProcess.run(["migrate"], environment: Self.environment(other)).status == 0)
        let refused = try AtlasProcess.run(["restore", "--from", backup.path], environment: Self.environment(other))
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--force"))
        #expect(try await Self.tenantExists(other, "restoremark") == false)

        let forced = try AtlasProcess.run(["restore", "--from", backup.path, "--force"], environment: Self.environment(other))
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try await Self.tenantExists(other, "restoremark"))
    }

    @Test func restoreRefusesCorruptBackupsAndUnknownMigrations() async throws {
        let directory = try AtlasProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = directory.appendingPathComponent("original.db")
        let backup = directory.appendingPathComponent("backup.db")
        #expect(try AtlasProcess.run(["migrate"], environment: Self.environment(original)).status == 0)
        #expect(try AtlasProcess.run(["backup", "--to", backup.path], environment: Self.environment(original)).status == 0)
        let verification = try SQLiteBackup.verify(backup.path)
        #expect(verification.pending.isEmpty)
        #expect(verification.applied == (try Migration.embedded(for: .sqlite)).map(\.name))

        // A migration from a newer atlas: restoring it with this one is refused.
        let newer = directory.appendingPathComponent("newer.db")
        try FileManager.default.copyItem(at: backup, to: newer)
        try await Self.execute(newer, "INSERT INTO atlas_schema_migrations (version, name, checksum, applied_at) VALUES (9999, '9999_core_future', '0000000000000000', 0)")
        let target = directory.appendingPathComponent("target.db")
        let unknown = try AtlasProcess.run(["restore", "--from", newer.path], environment: Self.environment(target))
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("9999_core_future"))

        // Damaged pages: the integrity check (or opening the file) fails, and nothing is written.
        let damaged = directory.appendingPathComponent("damaged.db")
        var bytes = try [UInt8](Foundation.Data(contentsOf: backup))
        for index in stride(from: 4096 * 2, to: min(bytes.count, 4096 * 6), by: 7) { bytes[index] ^= 0x5A }
        try Foundation.Data(bytes).write(to: damaged)
        let corrupt = try AtlasProcess.run(["restore", "--from", damaged.path], environment: Self.environment(target))
        #expect(corrupt.status != 0)
        if FileManager.default.fileExists(atPath: target.path) {
            let restored = try await Self.tenantExists(target, "demo")
            #expect(!restored, "a damaged backup was restored")
        }

        let notADatabase = directory.appendingPathComponent("notes.txt")
        try Foundation.Data("not a database".utf8).write(to: notADatabase)
        #expect(try AtlasProcess.run(["restore", "--from", notADatabase.path], environment: Self.environment(target)).status != 0)
    }

    @Test func backupOnPostgreSQLPointsToPgDump_AndInMemoryIsRefused() throws {
        let postgres = try AtlasProcess.run(["backup", "--to", "/tmp/never-written.db"],
                                            environment: ["ATLAS_DATABASE_URL": "postgresql+psycopg://atlas:atlas@127.0.0.1:1/atlas"])
        #expect(postgres.status == 69)
        #expect(postgres.stderr.contains("pg_dump"))
        #expect(!postgres.stderr.contains("atlas:atlas"), "the password must not be printed")
        let restore = try AtlasProcess.run(["restore", "--from", "/tmp/never-read.db"],
                                           environment: ["ATLAS_DATABASE_URL": "postgres://atlas@127.0.0.1:1/atlas"])
        #expect(restore.status == 69)
        #expect(restore.stderr.contains("pg_restore"))
        let memory = try AtlasProcess.run(["backup", "--to", "/tmp/never-written.db"], environment: ["ATLAS_DATABASE_URL": "sqlite://"])
        #expect(memory.status == 64)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written.db"))
    }

    static func execute(_ file: URL, _ sql: String) async throws {
        let database = try await openDatabase(url: "sqlite:///\(file.path)")
        do {
            _ = try await database.transaction { try $0.execute(SQLQuery(unsafeSQL: sql)) }
        } catch {
            await database.close()
            throw error
        }
        await database.close()
    }

    static func tenantExists(_ file: URL, _ tenant: String) async throws -> Bool {
        let database = try await openDatabase(url: "sqlite:///\(file.path)")
        let rows = try await database.read { try $0.query("SELECT id FROM core_tenants WHERE id = \(tenant)") }
        await database.close()
        return !rows.isEmpty
    }
}
