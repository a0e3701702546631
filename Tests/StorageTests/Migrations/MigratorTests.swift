// Atlas — StorageTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage
import Testing

@Suite struct MigratorTests {
    static func migrations(_ dialect: SQLDialect, _ items: [(String, String)]) throws -> [Migration] {
        try items.map { try Migration(name: $0.0, sql: $0.1, dialect: dialect) }
    }

    static func sample(_ dialect: SQLDialect) throws -> [Migration] {
        try migrations(dialect, [
            ("0001_test_create", "CREATE TABLE test_log (n BIGINT NOT NULL);\nCREATE INDEX test_log_n ON test_log (n);"),
            ("0002_test_first", "INSERT INTO test_log (n) VALUES (1);"),
            ("0003_test_second", "INSERT INTO test_log (n) VALUES (2);"),
        ])
    }

    static func logged(_ db: any Database) async throws -> [Int] {
        try await db.read { conn in try conn.query("SELECT n FROM test_log ORDER BY n").map { try $0.decode("n", as: Int.self) } }
    }

    @Test(arguments: Backend.all)
    func appliesInOrder_AndASecondRunDoesNothing(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let migrator = Migrator(database: db, migrations: try Self.sample(db.dialect).reversed())
            #expect(try await migrator.migrate() == ["0001_test_create", "0002_test_first", "0003_test_second"])
            #expect(try await migrator.migrate() == [])
            #expect(try await Self.logged(db) == [1, 2])
            let status = try await migrator.status()
            #expect(status.applied.map(\.name) == ["0001_test_create", "0002_test_first", "0003_test_second"])
            #expect(status.pending.isEmpty)
            #expect(!status.hasConflicts)
            let recorded = try await db.read { conn in
                try conn.query("SELECT name, checksum, applied_at FROM atlas_schema_migrations ORDER BY version")
            }
            #expect(try recorded.map { try $0.decode("checksum", as: String.self) } == (try Self.sample(db.dialect).map(\.checksum)))
            let appliedAt = try recorded[0].decode("applied_at", as: Date.self)
            #expect(abs(appliedAt.timeIntervalSinceNow) < 60)
        }
    }

    @Test(arguments: Backend.all)
    func listsPendingAndAppliedMigrations(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let all = try Self.sample(db.dialect)
            let fresh = try await Migrator(database: db, migrations: all).status()
            #expect(fresh.applied.isEmpty)
            #expect(fresh.pending.map(\.name) == all.map(\.name))
            try await Migrator(database: db, migrations: Array(all.prefix(1))).migrate()
            let status = try await Migrator(database: db, migrations: all).status()
            #expect(status.applied.map(\.name) == ["0001_test_create"])
            #expect(status.pending.map(\.name) == ["0002_test_first", "0003_test_second"])
        }
    }

    @Test(arguments: Backend.all)
    func refusesAnAppliedMigrationWhoseTextChanged_NamingTheFile(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let original = try Self.sample(db.dialect)
            try await Migrator(database: db, migrations: original).migrate()
            var edited = original
            edited[1] = try Migration(name: "0002_test_first", sql: "INSERT INTO test_log (n) VALUES (100);", dialect: db.dialect)
            edited.append(try Migration(name: "0004_test_third", sql: "INSERT INTO test_log (n) VALUES (3);", dialect: db.dialect))
            let migrator = Migrator(database: db, migrations: edited)
            let error = await #expect(throws: StorageError.self) { try await migrator.migrate() }
            #expect(error?.code == StorageError.migrationChecksumMismatch)
            #expect(error?.message.contains("Migrations/\(db.dialect.rawValue)/0002_test_first.sql") == true)
            // Nothing else ran.
            #expect(try await Self.logged(db) == [1, 2])
            let status = try await migrator.status()
            #expect(status.hasConflicts)
            #expect(status.applied.filter(\.changed).map(\.name) == ["0002_test_first"])
        }
    }

    @Test(arguments: Backend.all)
    func refusesADatabaseWithAMigrationThisBinaryLacks(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let all = try Self.sample(db.dialect)
            try await Migrator(database: db, migrations: all).migrate()
            let older = Migrator(database: db, migrations: Array(all.prefix(2)))
            let error = await #expect(throws: StorageError.self) { try await older.migrate() }
            #expect(error?.code == StorageError.migrationUnknown)
            #expect(try await older.status().applied.filter(\.unknown).map(\.name) == ["0003_test_second"])
        }
    }

    @Test(arguments: Backend.all)
    func rollsBackAFailedMigration_AndKeepsEarlierOnes(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            var list = try Self.sample(db.dialect)
            list.append(try Migration(name: "0004_test_broken",
                                      sql: "CREATE TABLE half_done (x BIGINT);\nINSERT INTO no_such_table VALUES (1);",
                                      dialect: db.dialect))
            let error = await #expect(throws: StorageError.self) { try await Migrator(database: db, migrations: list).migrate() }
            #expect(error?.code == StorageError.migrationFailed)
            #expect(error?.message.contains("0004_test_broken") == true)
            let (halfDone, applied) = try await db.read { conn in
                (try conn.queryFirst(conn.dialect.tableExists("half_done")) != nil,
                 try conn.queryScalar("SELECT COUNT(*) FROM atlas_schema_migrations", as: Int.self))
            }
            #expect(!halfDone)
            #expect(applied == 3)
        }
    }

    @Test(arguments: Backend.shared)
    func appliesEachMigrationOnce_WhenTwoMigratorsStartTogether(backend: Backend) async throws {
        try await withDatabase(backend) { db, test in
            var list = try Self.sample(db.dialect)
            for n in 4...8 {
                list.append(try Migration(name: String(format: "%04d_test_step", n),
                                          sql: "INSERT INTO test_log (n) VALUES (\(n));", dialect: db.dialect))
            }
            let other = try await test.open()
            let migrations = list
            async let first = Migrator(database: db, migrations: migrations).migrate()
            async let second = Migrator(database: other, migrations: migrations).migrate()
            let (a, b) = try await (first, second)
            await other.close()
            #expect(Set(a).isDisjoint(with: b))
            #expect(Set(a).union(b) == Set(list.map(\.name)))
            #expect(try await Self.logged(db) == [1, 2, 4, 5, 6, 7, 8])
        }
    }

    @Test(arguments: Backend.all)
    func appliesTheEmbeddedMigrations(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let applied = try await Migrator(database: db).migrate()
            #expect(applied.first == "0001_core_tenants")
            let before = Date()
            let row = try await db.transaction { conn -> Row? in
                try conn.execute("INSERT INTO core_tenants (id, plan, tokens) VALUES (\("demo"), \("scale"), \(120_000))")
                return try conn.queryFirst("SELECT * FROM core_tenants WHERE id = \("demo")")
            }
            let tenant = try #require(row)
            #expect(try tenant["status", as: String.self] == "active")
            #expect(try tenant["requests", as: Int.self] == 0)
            #expect(try tenant["tokens", as: Int.self] == 120_000)
            let created = try tenant["created_at", as: Date.self]
            #expect(abs(created.timeIntervalSince(before)) < 5)
            let error = await #expect(throws: StorageError.self) {
                try await db.transaction { try $0.execute("UPDATE core_tenants SET status = \("deleted")") }
            }
            #expect(error?.code == StorageError.checkViolation)
        }
    }

    @Test func embedsTheSameMigrationsForBothDialects() throws {
        try Migration.verifyEmbeddedDialectsMatch()
        let sqlite = try Migration.embedded(for: .sqlite)
        #expect(sqlite.first?.name == "0001_core_tenants")
        #expect(sqlite.first?.sql.contains("CREATE TABLE core_tenants") == true)
        #expect(try Migration.embedded(for: .postgres).first?.sql.contains("BIGINT") == true)
    }

    @Test(arguments: ["1_core_x", "0001-core-x", "0001_core", "0001_Core_x", "00a1_core_x", "0001__x", ""])
    func rejectsMalformedMigrationNames(name: String) {
        #expect(throws: StorageError.self) { try Migration(name: name, sql: "", dialect: .sqlite) }
    }

    @Test func rejectsTwoMigrationsWithOneNumber() async throws {
        let db = try await openDatabase(url: "sqlite://")
        let list = try Self.migrations(.sqlite, [("0001_a_x", "SELECT 1;"), ("0001_b_y", "SELECT 1;")])
        let error = await #expect(throws: StorageError.self) { try await Migrator(database: db, migrations: list).migrate() }
        #expect(error?.code == StorageError.migrationInvalid)
        await db.close()
    }

    @Test func checksumIsFNV1a64OfTheExactText() throws {
        // Reference values from the FNV specification (draft-eastlake-fnv, test vectors).
        #expect(try Migration(name: "0001_a_b", sql: "", dialect: .sqlite).checksum == "cbf29ce484222325")
        #expect(try Migration(name: "0001_a_b", sql: "a", dialect: .sqlite).checksum == "af63dc4c8601ec8c")
        #expect(try Migration(name: "0001_a_b", sql: "foobar", dialect: .sqlite).checksum == "85944171f73967e8")
    }
}
