// Atlas — StorageTests
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage
import Testing

/// Binding and decoding, the same on every backend.
@Suite struct ValueConformanceTests {
    static func createSamples(_ conn: any Connection) throws {
        let d = conn.dialect
        try conn.execute(SQLQuery(unsafeSQL: """
            CREATE TABLE samples (
                id \(d.autoIncrementPrimaryKey),
                i BIGINT, r \(d.doubleType), t TEXT, b \(d.blobType), f \(d.booleanType), n TEXT
            )
            """))
    }

    static let texts = [
        "", "plain", "héllo wörld — 東京 🌍👩‍👩‍👧 \u{202E}rtl", "O'Reilly", "'; DROP TABLE samples; --",
        "\" OR \"1\"=\"1", "back\\slash", "50% _under_", "$1 ?1 ?", "line\nbreak\ttab", String(repeating: "x", count: 70_000),
    ]

    @Test(arguments: Backend.all)
    func roundTripsEveryValueType_IncludingNullAndExtremes(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let blob: [UInt8] = [0, 1, 39, 92, 255, 0]
            let id = try await db.transaction { conn -> Int64 in
                try Self.createSamples(conn)
                let none: String? = nil
                return try conn.queryScalar("""
                    INSERT INTO samples (i, r, t, b, f, n)
                    VALUES (\(Int64.max), \(0.1), \("héllo 🌍"), \(blob), \(true), \(none)) RETURNING id
                    """, as: Int64.self)!
            }
            try await db.transaction { conn in
                try conn.execute("""
                    INSERT INTO samples (i, r, t, b, f, n)
                    VALUES (\(Int64.min), \(-Double.infinity), \(""), \([UInt8]()), \(false), \("x"))
                    """)
            }
            let rows = try await db.read { try $0.query("SELECT i, r, t, b, f, n FROM samples ORDER BY id") }
            #expect(rows.count == 2)
            #expect(try rows[0]["i", as: Int64.self] == Int64.max)
            #expect(try rows[0]["r", as: Double.self] == 0.1)
            #expect(try rows[0]["t", as: String.self] == "héllo 🌍")
            #expect(try rows[0]["b", as: [UInt8].self] == blob)
            #expect(try rows[0]["f", as: Bool.self] == true)
            #expect(try rows[0]["n", as: String?.self] == nil)
            #expect(rows[0]["n"] == .null)
            #expect(try rows[1]["i", as: Int64.self] == Int64.min)
            #expect(try rows[1]["r", as: Double.self] == -Double.infinity)
            #expect(try rows[1]["t", as: String.self] == "")
            #expect(try rows[1]["b", as: [UInt8].self] == [])
            #expect(try rows[1]["f", as: Bool.self] == false)
            #expect(try rows[1]["n", as: String?.self] == "x")
            #expect(id > 0)
        }
    }

    @Test(arguments: Backend.all)
    func storesSQLMetacharactersAndUnicodeAsData(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            try await db.transaction { conn in
                try Self.createSamples(conn)
                for text in Self.texts { try conn.execute("INSERT INTO samples (t) VALUES (\(text))") }
            }
            let stored = try await db.read { conn in
                try conn.query("SELECT t FROM samples ORDER BY id").map { try $0.decode("t", as: String.self) }
            }
            #expect(stored == Self.texts)
            // Equality on a bound metacharacter string matches that one row, not everything.
            let matches = try await db.read { conn in
                try conn.queryScalar("SELECT COUNT(*) FROM samples WHERE t = \("\" OR \"1\"=\"1")", as: Int.self)
            }
            #expect(matches == 1)
            let tableStillThere = try await db.read { try $0.queryScalar("SELECT COUNT(*) FROM samples", as: Int.self) }
            #expect(tableStillThere == Self.texts.count)
        }
    }

    @Test(arguments: Backend.all)
    func bindsListsAndIdentifiersSafely(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let odd = "we\"ird name"
            let count = try await db.transaction { conn -> Int? in
                try conn.execute("CREATE TABLE \(identifier: odd) (id BIGINT)")
                for id in 1...5 { try conn.execute("INSERT INTO \(identifier: odd) (id) VALUES (\(id))") }
                let wanted = [2, 4, 9]
                let none: [Int] = []
                #expect(try conn.queryScalar("SELECT COUNT(*) FROM \(identifier: odd) WHERE id IN (\(list: none))", as: Int.self) == 0)
                return try conn.queryScalar("SELECT COUNT(*) FROM \(identifier: odd) WHERE id IN (\(list: wanted))", as: Int.self)
            }
            #expect(count == 2)
        }
    }

    @Test(arguments: Backend.all)
    func reportsTypeMismatchAndMissingColumn_WithoutTheValue(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let row = try await db.transaction { conn -> Row? in
                try Self.createSamples(conn)
                try conn.execute("INSERT INTO samples (i, t, n) VALUES (\(7), \("secret-text-42"), NULL)")
                return try conn.queryFirst("SELECT i, t, n FROM samples")
            }
            let sample = try #require(row)
            #expect(try sample["i", as: Int.self] == 7)
            #expect(try sample["i", as: Double.self] == 7)
            let mismatch = #expect(throws: StorageError.self) { try sample["t", as: Int.self] }
            #expect(mismatch?.code == StorageError.typeMismatch)
            #expect(mismatch.map { !String(describing: $0).contains("secret-text-42") } == true)
            #expect(throws: StorageError.self) { try sample["n", as: String.self] }
            #expect(try sample["n", as: String?.self] == nil)
            let missing = #expect(throws: StorageError.self) { try sample.decode("nope", as: Int.self) }
            #expect(missing?.code == StorageError.columnNotFound)
            do {
                _ = try sample["i", as: [UInt8].self]
                Issue.record("expected a type mismatch")
            } catch StorageError.typeMismatch {
                // `catch StorageError.code` pattern matching works.
            }
        }
    }

    struct Preferences: Codable, Equatable, Sendable {
        var theme: String
        var limits: [Int]
    }

    enum Status: String, Decodable, Sendable { case active, suspended }

    struct Account: Decodable, Equatable, Sendable {
        var accountID: String
        var displayName: String
        var createdAt: Date
        var status: Status
        var isAdmin: Bool
        var balanceCents: Int64
        var nickname: String?
        var externalID: UUID
        var preferences: Preferences
    }

    @Test(arguments: Backend.all)
    func decodesRowsIntoDecodableTypes_WithSnakeCaseColumns(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let created = Date(timeIntervalSince1970: 1_700_000_000.123)
            let uuid = UUID()
            let preferences = Preferences(theme: "dark", limits: [1, 2])
            let accounts = try await db.transaction { conn -> [Account] in
                let d = conn.dialect
                try conn.execute(SQLQuery(unsafeSQL: """
                    CREATE TABLE accounts (account_id TEXT PRIMARY KEY, display_name TEXT NOT NULL,
                    created_at BIGINT NOT NULL, status TEXT NOT NULL, is_admin \(d.booleanType) NOT NULL,
                    balance_cents BIGINT NOT NULL, nickname TEXT, external_id TEXT NOT NULL, preferences \(d.jsonType) NOT NULL)
                    """))
                try conn.execute("""
                    INSERT INTO accounts VALUES (\("a1"), \("Ada"), \(created), \("active"), \(true), \(12_345), NULL,
                    \(uuid), \(try SQLValue.json(preferences)))
                    """)
                return try conn.query("SELECT * FROM accounts", as: Account.self)
            }
            #expect(accounts == [Account(accountID: "a1", displayName: "Ada", createdAt: Date(timeIntervalSince1970: 1_700_000_000.123),
                                         status: .active, isAdmin: true, balanceCents: 12_345, nickname: nil,
                                         externalID: uuid, preferences: preferences)])
            let createdMillis = try await db.read { try $0.queryScalar("SELECT created_at FROM accounts", as: Int64.self) }
            #expect(createdMillis == 1_700_000_000_123)
            let decodedJSON = try await db.read { try $0.queryFirst("SELECT preferences FROM accounts")?.decodeJSON("preferences", as: Preferences.self) }
            #expect(decodedJSON == preferences)
        }
    }

    @Test(arguments: Backend.all)
    func returnsAffectedRowCountsAndGeneratedIDs(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            try await db.transaction { conn in
                try Self.createSamples(conn)
                let ids = try conn.query("INSERT INTO samples (i) VALUES (\(1)), (\(2)), (\(3)) RETURNING id")
                    .map { try $0.decode("id", as: Int64.self) }
                #expect(ids.count == 3 && Set(ids).count == 3)
                #expect(try conn.execute("UPDATE samples SET i = i + 10 WHERE i >= \(2)") == 2)
                #expect(try conn.execute("CREATE INDEX samples_i ON samples (i)") == 0)
                #expect(try conn.execute("SELECT COUNT(*) FROM samples") == (conn.dialect == .postgres ? 1 : 0))
                #expect(try conn.execute("DELETE FROM samples WHERE i = \(999)") == 0)
                #expect(try conn.execute("DELETE FROM samples") == 3)
                #expect(try conn.queryFirst("SELECT * FROM samples") == nil)
                #expect(try conn.queryScalar("SELECT MAX(i) FROM samples", as: Int.self) == nil)
            }
        }
    }

    @Test(arguments: Backend.all)
    func refusesTwoStatementsInOneExecute(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let error = await #expect(throws: StorageError.self) {
                try await db.transaction { conn in
                    try Self.createSamples(conn)
                    try conn.execute("INSERT INTO samples (i) VALUES (\(1)); DROP TABLE samples")
                }
            }
            #expect(error?.code == StorageError.invalidQuery)
        }
    }

    @Test(arguments: Backend.all)
    func agreesOnDialectFragments(backend: Backend) async throws {
        try await withDatabase(backend) { db, _ in
            let before = Date()
            let (now, truth, upserted) = try await db.transaction { conn -> (Int64?, Bool?, Int?) in
                let d = conn.dialect
                try conn.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)")
                try conn.execute("INSERT INTO kv (k, v) VALUES (\("a"), \(1)) \(d.upsert(conflict: ["k"], update: ["v"]))")
                try conn.execute("INSERT INTO kv (k, v) VALUES (\("a"), \(2)) \(d.upsert(conflict: ["k"], update: ["v"]))")
                try conn.execute("INSERT INTO kv (k, v) VALUES (\("a"), \(3)) \(d.upsert(conflict: ["k"], update: []))")
                let claimed = try conn.query("SELECT k FROM kv ORDER BY k LIMIT \(1) OFFSET \(0) \(d.forUpdateSkipLocked)")
                #expect(claimed.count == 1)
                return (try conn.queryScalar("SELECT \(d.currentTimeMillis)", as: Int64.self),
                        try conn.queryScalar("SELECT \(d.literal(true))", as: Bool.self),
                        try conn.queryScalar("SELECT v FROM kv WHERE k = \("a")", as: Int.self))
            }
            let millis = try #require(now)
            #expect(abs(Double(millis) - before.timeIntervalSince1970 * 1000) < 5_000)
            #expect(truth == true)
            #expect(upserted == 2)
        }
    }
}
