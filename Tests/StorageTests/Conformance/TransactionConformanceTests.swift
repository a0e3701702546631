// Atlas — StorageTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage
import Testing

/// Transactions, constraints and concurrency, the same on every backend.
@Suite struct TransactionConformanceTests {
    struct Boom: Error, Equatable { let id = UUID() }

    static func createTables(_ db: any Database) async throws {
        try await db.transaction { conn in
            try conn.execute("CREATE TABLE parents (id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE)")
            try conn.execute("""
                CREATE TABLE children (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL REFERENCES parents (id),
                age BIGINT NOT NULL CHECK (age >= 0))
                """)
        }
    }

    @Test(arguments: Backend.all)
    func commitsOnReturn_AndRollsBackOnThrow_RethrowingTheBodysError(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            try await Self.createTables(db)
            try await db.transaction { try $0.execute("INSERT INTO parents (id, email) VALUES (\(1), \("a@x"))") }
            let boom = Boom()
            await #expect(throws: boom) {
                try await db.transaction { conn in
                    try conn.execute("INSERT INTO parents (id, email) VALUES (\(2), \("b@x"))")
                    try conn.execute("UPDATE parents SET email = \("changed") WHERE id = \(1)")
                    throw boom
                }
            }
            let emails = try await db.read { conn in
                try conn.query("SELECT email FROM parents ORDER BY id").map { try $0.decode("email", as: String.self) }
            }
            #expect(emails == ["a@x"])
        }
    }

    @Test(arguments: Backend.all)
    func runsAfterCommitHooksOnlyAfterACommit(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            try await Self.createTables(db)
            let log = EventLog()
            try await db.transaction { conn in
                try conn.execute("INSERT INTO parents (id, email) VALUES (\(1), \("a@x"))")
                conn.afterCommit { await log.append("first") }
                conn.afterCommit { await log.append("second") }
            }
            #expect(await log.events == ["first", "second"])
            _ = try? await db.transaction { conn in
                conn.afterCommit { await log.append("rolled back") }
                throw Boom()
            }
            // A failed COMMIT (here: a deferred unique violation on SQLite is immediate, so use a
            // failing statement) also skips the hooks.
            _ = try? await db.transaction { conn in
                conn.afterCommit { await log.append("failed") }
                try conn.execute("INSERT INTO parents (id, email) VALUES (\(1), \("dup"))")
            }
            #expect(await log.events == ["first", "second"])
        }
    }

    @Test(arguments: Backend.all)
    func mapsConstraintViolations_WithoutBoundValuesInTheDescription(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            try await Self.createTables(db)
            let secret = "very-secret-email@example.com"
            try await db.transaction { try $0.execute("INSERT INTO parents (id, email) VALUES (\(1), \(secret))") }

            let cases: [(StorageError.Code, SQLQuery)] = [
                (StorageError.uniqueViolation, "INSERT INTO parents (id, email) VALUES (\(2), \(secret))"),
                (StorageError.uniqueViolation, "INSERT INTO parents (id, email) VALUES (\(1), \("other"))"),
                (StorageError.foreignKeyViolation, "INSERT INTO children (id, parent_id, age) VALUES (\(1), \(424_242), \(3))"),
                (StorageError.notNullViolation, "INSERT INTO parents (id, email) VALUES (\(3), \(String?.none))"),
                (StorageError.checkViolation, "INSERT INTO children (id, parent_id, age) VALUES (\(1), \(1), \(-77_777))"),
            ]
            for (code, statement) in cases {
                let error = await #expect(throws: StorageError.self) {
                    try await db.transaction { try $0.execute(statement) }
                }
                #expect(error?.code == code, "\(statement)")
                let text = error.map { String(describing: $0) } ?? ""
                #expect(!text.contains(secret) && !text.contains("424242") && !text.contains("77777"), "\(text)")
            }
            do {
                try await db.transaction { try $0.execute("INSERT INTO parents (id, email) VALUES (\(9), \(secret))") }
                Issue.record("expected a unique violation")
            } catch StorageError.uniqueViolation {
            }
            let count = try await db.read { try $0.queryScalar("SELECT COUNT(*) FROM parents", as: Int.self) }
            #expect(count == 1)
        }
    }

    @Test(arguments: Backend.all)
    func refusesWritesInsideRead(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            try await Self.createTables(db)
            let error = await #expect(throws: StorageError.self) {
                try await db.read { try $0.execute("INSERT INTO parents (id, email) VALUES (\(1), \("a"))") }
            }
            #expect(error?.code == StorageError.readOnly)
            // The connection is writable again for transactions afterwards (matters for the single
            // in-memory connection).
            try await db.transaction { try $0.execute("INSERT INTO parents (id, email) VALUES (\(1), \("a"))") }
        }
    }

    @Test(arguments: Backend.all)
    func refusesAConnectionUsedAfterItsClosure(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let leaked = LeakBox()
            try await db.transaction { conn in leaked.store(conn) }
            #expect(throws: StorageError.self) { try leaked.connection?.execute("SELECT 1") }
        }
    }

    @Test(arguments: Backend.all)
    func recordsTheTenantOnTheConnection(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let seen = try await db.transaction(tenant: "acme") { conn -> String? in
                if conn.dialect == .postgres {
                    return try conn.queryScalar("SELECT current_setting('atlas.tenant', true)", as: String.self)
                }
                return conn.tenant
            }
            #expect(seen == "acme")
            // The setting is transaction-local: the next transaction on a pooled connection has none.
            let after = try await db.transaction { conn -> String? in
                if conn.dialect == .postgres {
                    return try conn.queryScalar("SELECT NULLIF(current_setting('atlas.tenant', true), '')", as: String.self)
                }
                return conn.tenant
            }
            #expect(after == nil)
        }
    }

    @Test(arguments: Backend.shared)
    func readersSeeTheLastCommitWhileAWriterIsOpen(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            try await Self.createTables(db)
            try await db.transaction { try $0.execute("INSERT INTO parents (id, email) VALUES (\(1), \("a"))") }
            // The writer holds its transaction open until the readers are done (or 20 s pass, which
            // only happens when readers wait for the writer: then the test fails, as it should).
            let writerDone = ConcurrencyProbe()
            let writerStarted = DispatchSemaphore(value: 0)
            let releaseWriter = DispatchSemaphore(value: 0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await db.transaction { conn in
                        try conn.execute("INSERT INTO parents (id, email) VALUES (\(2), \("b"))")
                        writerStarted.signal()
                        _ = releaseWriter.wait(timeout: .now() + 20)
                        writerDone.enter()
                    }
                }
                while writerStarted.wait(timeout: .now()) == .timedOut {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let counts = try await withThrowingTaskGroup(of: Int?.self) { readers in
                    for _ in 0..<4 {
                        readers.addTask {
                            try await db.read { conn -> Int? in try conn.queryScalar("SELECT COUNT(*) FROM parents", as: Int.self) }
                        }
                    }
                    return try await readers.reduce(into: [Int?]()) { $0.append($1) }
                }
                // The readers finished while the writer was still open, and did not see its row.
                #expect(writerDone.maximum == 0)
                #expect(counts == [1, 1, 1, 1])
                releaseWriter.signal()
                try await group.waitForAll()
            }
            let final = try await db.read { try $0.queryScalar("SELECT COUNT(*) FROM parents", as: Int.self) }
            #expect(final == 2)
        }
    }

    @Test(arguments: Backend.all)
    func serialisesConcurrentWriters_WithoutLosingUpdates(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            try await db.transaction { conn in
                try conn.execute("CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)")
                try conn.execute("INSERT INTO counter VALUES (\(1), \(0))")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        _ = try await db.transaction { conn in
                            try conn.execute("UPDATE counter SET n = n + \(1) WHERE id = \(1)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.read { try $0.queryScalar("SELECT n FROM counter", as: Int.self) } == 20)
        }
    }

    @Test(arguments: Backend.all)
    func interruptsAStatementPastTheStatementTimeout(backend: Backend) async throws {
        let configuration = DatabaseConfiguration(statementTimeout: .milliseconds(200))
        try await withDatabase(backend, configuration) { db, _ in
            let slow: SQLQuery = db.dialect == .postgres
                ? "SELECT pg_sleep(5)"
                : "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT COUNT(*) FROM n"
            // Open the connection first: the clock is for the statement, not for a backend's
            // start-up on a loaded machine.
            try await db.ping()
            let (error, elapsed) = await measure {
                await #expect(throws: StorageError.self) { try await db.read { try $0.query(slow) } }
            }
            #expect(error?.code == StorageError.timeout)
            // Far below what the statement takes uninterrupted (pg_sleep(5); minutes for the
            // recursive count), with room for a busy machine.
            #expect(elapsed < (db.dialect == .postgres ? 4_500 : 20_000))
            // The connection stays usable.
            try await db.ping()
            #expect(try await db.read { try $0.queryScalar("SELECT 1", as: Int.self) } == 1)
        }
    }

    @Test(arguments: Backend.all)
    func refusesUseAfterClose(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            try await db.ping()
            await db.close()
            let error = await #expect(throws: StorageError.self) { try await db.ping() }
            #expect(error?.code == StorageError.unavailable)
        }
    }
}

actor EventLog {
    private(set) var events: [String] = []
    func append(_ event: String) { events.append(event) }
}

final class LeakBox: @unchecked Sendable {
    // Written once inside a closure, read after it returned; the awaits order the two.
    private(set) var connection: (any Connection)?
    func store(_ connection: any Connection) { self.connection = connection }
}
