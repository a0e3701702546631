// Atlas — StorageTests
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage
import Testing

@Suite struct SQLiteDatabaseTests {
    @Test func opensInWALModeWithForeignKeysAndFullSync() async throws {
        try await withDatabase(.sqliteFile) { db, _ in
            let (journal, foreignKeys, synchronous) = try await db.transaction { conn in
                (try conn.queryScalar("PRAGMA journal_mode", as: String.self),
                 try conn.queryScalar("PRAGMA foreign_keys", as: Int.self),
                 try conn.queryScalar("PRAGMA synchronous", as: Int.self))
            }
            #expect(journal == "wal")
            #expect(foreignKeys == 1)
            #expect(synchronous == 2)  // FULL
            let readerForeignKeys = try await db.read { try $0.queryScalar("PRAGMA foreign_keys", as: Int.self) }
            #expect(readerForeignKeys == 1)
        }
    }

    @Test func honoursTheSynchronousSetting() async throws {
        let configuration = try DatabaseConfiguration(environment: .init(["ATLAS_SQLITE_SYNCHRONOUS": "normal"]))
        try await withDatabase(.sqliteFile, configuration) { db, _ in
            let level = try await db.transaction { try $0.queryScalar("PRAGMA synchronous", as: Int.self) }
            #expect(level == 1)
        }
    }

    @Test func keepsACommittedWriteAfterReopening() async throws {
        try await withDatabase(.sqliteFile) { db, test in
            try await db.transaction { conn in
                try conn.execute("CREATE TABLE notes (body TEXT NOT NULL)")
                try conn.execute("INSERT INTO notes VALUES (\("kept"))")
            }
            await db.close()
            let reopened = try await test.open()
            let body = try await reopened.read { try $0.queryScalar("SELECT body FROM notes", as: String.self) }
            await reopened.close()
            #expect(body == "kept")
        }
    }

    /// A process killed with SIGKILL leaves exactly the files on disk, with no close and no
    /// checkpoint. Copying the database and its WAL right after the commit, while the connection
    /// stays open, reproduces that state; opening the copy runs WAL recovery as after a crash.
    /// (The server-level `kill -9` test lives in AtlasTests.)
    @Test func keepsACommittedWriteInTheFilesLeftByACrash() async throws {
        try await withDatabase(.sqliteFile) { db, test in
            try await db.transaction { conn in
                try conn.execute("CREATE TABLE events (id BIGINT PRIMARY KEY)")
                try conn.execute("INSERT INTO events VALUES (\(1))")
            }
            try await db.transaction { try $0.execute("INSERT INTO events VALUES (\(2))") }
            let source = try #require(test.path)
            let crashDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("atlas-crash-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: crashDirectory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: crashDirectory) }
            let copy = crashDirectory.appendingPathComponent("test.db").path
            #expect(FileManager.default.fileExists(atPath: source + "-wal"))
            for suffix in ["", "-wal"] {
                try FileManager.default.copyItem(atPath: source + suffix, toPath: copy + suffix)
            }
            let crashed = try await openDatabase(url: "sqlite:///" + copy)
            let ids = try await crashed.read { conn in
                try conn.query("SELECT id FROM events ORDER BY id").map { try $0.decode("id", as: Int.self) }
            }
            await crashed.close()
            #expect(ids == [1, 2])
        }
    }

    @Test func sharesOneInMemoryDatabaseBetweenReadsAndWrites() async throws {
        for url in ["sqlite://", "sqlite://:memory:", "sqlite:///:memory:"] {
            let db = try await openDatabase(url: url)
            try await db.transaction { conn in
                try conn.execute("CREATE TABLE t (x BIGINT)")
                try conn.execute("INSERT INTO t VALUES (\(42))")
            }
            #expect(try await db.read { try $0.queryScalar("SELECT x FROM t", as: Int.self) } == 42)
            await db.close()
        }
    }

    @Test func reportsAnUnopenableFileAsUnavailable() async throws {
        let error = await #expect(throws: StorageError.self) {
            try await openDatabase(url: "sqlite:////nonexistent-atlas-dir/\(UUID().uuidString)/atlas.db")
        }
        #expect(error?.code == StorageError.unavailable)
    }

    @Test func keepsTextWithEmbeddedNUL() async throws {
        try await withDatabase(.sqliteFile) { db, _ in
            let text = "a\u{0}b"
            let stored = try await db.transaction { conn -> String? in
                try conn.execute("CREATE TABLE t (s TEXT)")
                try conn.execute("INSERT INTO t VALUES (\(text))")
                return try conn.queryScalar("SELECT s FROM t", as: String.self)
            }
            #expect(stored == text)
        }
    }

    @Test func waitsForAnotherProcessesWriteLock_ThenReportsBusy() async throws {
        let configuration = DatabaseConfiguration(sqliteBusyTimeout: .milliseconds(200))
        try await withDatabase(.sqliteFile, configuration) { db, test in
            try await db.transaction { try $0.execute("CREATE TABLE t (x BIGINT)") }
            // A second Database on the same file stands in for another process.
            let other = try await test.open(configuration)
            // The other writer holds its lock until this side has been refused (or 20 s pass).
            let otherStarted = DispatchSemaphore(value: 0)
            let releaseOther = DispatchSemaphore(value: 0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await other.transaction { conn in
                        // Writers begin IMMEDIATE: the write lock is held from here on.
                        try conn.execute("INSERT INTO t VALUES (\(0))")
                        otherStarted.signal()
                        _ = releaseOther.wait(timeout: .now() + 20)
                    }
                }
                while otherStarted.wait(timeout: .now()) == .timedOut {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let error = await #expect(throws: StorageError.self) {
                    try await db.transaction { try $0.execute("INSERT INTO t VALUES (\(1))") }
                }
                #expect(error?.code == StorageError.busy)
                releaseOther.signal()
                try await group.waitForAll()
            }
            await other.close()
            try await db.transaction { try $0.execute("INSERT INTO t VALUES (\(1))") }
        }
    }
}
