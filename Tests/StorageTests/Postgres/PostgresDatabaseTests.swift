// Atlas — StorageTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage
import Testing

@Suite struct PostgresDatabaseTests {
    static func uniqueName(_ prefix: String) -> String {
        prefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    }

    /// Server connections opened with `application_name`.
    static func serverConnections(named name: String) async throws -> Int {
        let admin = try await openDatabase(url: try #require(Backend.postgresURL))
        let count = try await admin.read { conn in
            try conn.queryScalar("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = \(name)", as: Int.self) ?? 0
        }
        await admin.close()
        return count
    }

    @Test(arguments: Backend.postgresOnly)
    func respectsThePoolBound_WhenMoreCallersThanConnections(backend: Backend) async throws {
        try await withDatabase(backend) { _, test in
            let name = Self.uniqueName("atlas_pool_")
            let db = try await openDatabase(url: test.url + "&application_name=\(name)",
                                            configuration: DatabaseConfiguration(poolSize: 2, poolTimeout: .seconds(10)))
            let probe = ConcurrencyProbe()
            let (_, elapsed) = try await measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<5 {
                        group.addTask {
                            try await db.transaction { conn in
                                probe.enter()
                                defer { probe.leave() }
                                probe.waitForCompany(peers: 2, total: 5)
                                _ = try conn.query("SELECT pg_sleep(0.3)")
                            }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(150))
                    #expect(try await Self.serverConnections(named: name) == 2)
                    try await group.waitForAll()
                }
            }
            await db.close()
            #expect(probe.maximum == 2)
            // Five callers over two connections take three rounds of 0.3 s.
            #expect(elapsed >= 850, "took \(elapsed) ms")
        }
    }

    @Test(arguments: Backend.postgresOnly)
    func timesOutAWaiter_WhenNoConnectionFrees(backend: Backend) async throws {
        let configuration = DatabaseConfiguration(poolSize: 1, poolTimeout: .milliseconds(200))
        try await withDatabase(backend, configuration) { db, _ in
            // The holder keeps the only connection for 3 s; the waiter must give up after its 200 ms
            // pool timeout, long before the holder is done (the bound leaves room for a busy machine).
            let holding = DispatchSemaphore(value: 0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    _ = try await db.transaction { conn in
                        holding.signal()
                        return try conn.query("SELECT pg_sleep(3)")
                    }
                }
                while holding.wait(timeout: .now()) == .timedOut {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let (error, elapsed) = await measure {
                    await #expect(throws: StorageError.self) { try await db.read { try $0.query("SELECT 1") } }
                }
                #expect(error?.code == StorageError.timeout)
                #expect(elapsed < 2500, "waited \(elapsed) ms")
                try await group.waitForAll()
            }
            // The held connection came back, so the pool works again.
            #expect(try await db.read { try $0.queryScalar("SELECT 1", as: Int.self) } == 1)
        }
    }

    @Test(arguments: Backend.postgresOnly)
    func discardsAConnectionThatBreaksMidTransaction(backend: Backend) async throws {
        let configuration = DatabaseConfiguration(poolSize: 1)
        try await withDatabase(backend, configuration) { db, _ in
            let firstPID = try await db.read { try $0.queryScalar("SELECT pg_backend_pid()", as: Int.self) }
            let error = await #expect(throws: StorageError.self) {
                try await db.transaction { try $0.query("SELECT pg_terminate_backend(pg_backend_pid())") }
            }
            #expect(error?.code == StorageError.connectionLost)
            let secondPID = try await db.read { try $0.queryScalar("SELECT pg_backend_pid()", as: Int.self) }
            #expect(secondPID != nil && secondPID != firstPID)
        }
    }

    @Test(arguments: Backend.postgresOnly)
    func recoversAfterTheServerRestarts(backend: Backend) async throws {
        // The restart happens on a second cluster of its own (scripts/with-postgres.sh), so suites
        // running in parallel on the main cluster never lose their connections to it.
        let environment = ProcessInfo.processInfo.environment
        guard let restart = environment["ATLAS_TEST_POSTGRES_RESTART"], let url = environment["ATLAS_TEST_POSTGRES_RESTART_URL"] else {
            if Backend.postgresRequired { Issue.record("ATLAS_TEST_POSTGRES_RESTART(_URL) is not set; run under scripts/with-postgres.sh") }
            return
        }
        try await withRestartableClusterLock { try await Self.restartAndUse(url: url, restart: restart) }
    }

    static func restartAndUse(url: String, restart: String) async throws {
        let db = try await openDatabase(url: url, configuration: DatabaseConfiguration(poolSize: 3))
        try await db.transaction { try $0.execute("DROP TABLE IF EXISTS after_restart") }
        // Fill the pool with three idle connections that the restart will kill.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { _ = try await db.read { try $0.query("SELECT pg_sleep(0.05)") } } }
            try await group.waitForAll()
        }
        let status = try await runShell(restart)
        #expect(status == 0)
        let after = try await db.transaction { conn -> Int? in
            try conn.execute("CREATE TABLE after_restart (x BIGINT)")
            try conn.execute("INSERT INTO after_restart VALUES (\(1))")
            return try conn.queryScalar("SELECT COUNT(*) FROM after_restart", as: Int.self)
        }
        #expect(after == 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { try await db.ping() } }
            try await group.waitForAll()
        }
        await db.close()
    }

    @Test(arguments: Backend.postgresOnly)
    func acceptsTheReferenceDesignsDriverURL(backend: Backend) async throws {
        try await withDatabase(backend) { _, test in
            #expect(test.url.hasPrefix("postgres://"))
            let psycopg = "postgresql+psycopg://" + test.url.dropFirst("postgres://".count)
            let db = try await openDatabase(url: psycopg)
            try await db.ping()
            #expect(db.dialect == .postgres)
            await db.close()
        }
    }

    @Test(arguments: Backend.postgresOnly)
    func scopesRowLevelSecurityToTheTransactionTenant(backend: Backend) async throws {
        try await withDatabase(backend) { db, test in
            let role = Self.uniqueName("atlas_app_")
            let schema = try #require(test.schema)
            try await db.transaction { conn in
                try conn.execute("CREATE TABLE notes (tenant_id TEXT NOT NULL, body TEXT NOT NULL)")
                try conn.execute("INSERT INTO notes VALUES ('acme', 'acme note'), ('demo', 'demo note')")
                try conn.execute("ALTER TABLE notes ENABLE ROW LEVEL SECURITY")
                try conn.execute("CREATE POLICY tenant_isolation ON notes USING (tenant_id = current_setting('atlas.tenant', true))")
                // Superusers bypass row-level security, so the check connects as an ordinary role.
                try conn.execute(SQLQuery(unsafeSQL: "CREATE ROLE \(role) LOGIN"))
                try conn.execute(SQLQuery(unsafeSQL: "GRANT USAGE ON SCHEMA \(schema) TO \(role)"))
                try conn.execute(SQLQuery(unsafeSQL: "GRANT SELECT ON notes TO \(role)"))
            }
            let asApp = test.url.replacingOccurrences(of: "postgres://postgres@", with: "postgres://\(role)@")
            let app = try await openDatabase(url: asApp)
            let acme = try await app.read(tenant: "acme") { conn in
                try conn.query("SELECT body FROM notes").map { try $0.decode("body", as: String.self) }
            }
            let none = try await app.read { try $0.query("SELECT body FROM notes").count }
            await app.close()
            try await db.transaction { conn in
                try conn.execute(SQLQuery(unsafeSQL: "DROP OWNED BY \(role)"))
                try conn.execute(SQLQuery(unsafeSQL: "DROP ROLE \(role)"))
            }
            #expect(acme == ["acme note"])
            #expect(none == 0)
        }
    }

    @Test func reportsAnUnreachableServerAsUnavailable_WithoutThePassword() async throws {
        let db = try await openDatabase(url: "postgresql://atlas:hunter2-secret@127.0.0.1:1/atlas?connect_timeout=2",
                                        configuration: DatabaseConfiguration(connectTimeout: .seconds(1)))
        let error = await #expect(throws: StorageError.self) { try await db.ping() }
        #expect(error?.code == StorageError.unavailable)
        #expect(error.map { !String(reflecting: $0).contains("hunter2") } == true)
        await db.close()
    }

    @Test func failsWhenPostgresIsRequiredButNotConfigured() {
        // Backend.postgresListed puts PostgreSQL in every parameterised list when it is required,
        // and TestDatabase.make then throws MissingPostgres: the run fails instead of skipping.
        if Backend.postgresRequired {
            #expect(Backend.all.contains(.postgres))
        }
        #expect(String(describing: MissingPostgres()).contains("ATLAS_TEST_POSTGRES_URL"))
    }
}

/// Runs a shell command on a dispatch thread (not the cooperative pool) and returns its exit
/// status. posix_spawn and waitpid are used directly: the command starts a daemon (postmaster),
/// and only the shell itself is waited for.
func runShell(_ command: String) async throws -> Int32 {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            let words: [String] = ["/bin/sh", "-c", command]
            let arguments = words.map { strdup($0) } + [nil]
            defer { arguments.forEach { free($0) } }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ)
            guard spawned == 0 else {
                continuation.resume(throwing: POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL))
                return
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
            // WIFEXITED/WEXITSTATUS are macros: the exit code is bits 8–15 when the low 7 bits are 0.
            continuation.resume(returning: status & 0x7f == 0 ? (status >> 8) & 0xff : -1)
        }
    }
}
