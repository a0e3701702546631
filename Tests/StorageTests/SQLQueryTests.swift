// Atlas — StorageTests
// SPDX-License-Identifier: Apache-2.0

import Core
import Storage
import Testing

@Suite struct SQLQueryTests {
    @Test func turnsInterpolationsIntoNumberedPlaceholders() {
        let id = "acme"
        let limit = 10
        let query: SQLQuery = "SELECT * FROM t WHERE id = \(id) AND n < \(limit)"
        #expect(query.sql(for: .sqlite) == "SELECT * FROM t WHERE id = ?1 AND n < ?2")
        #expect(query.sql(for: .postgres) == "SELECT * FROM t WHERE id = $1 AND n < $2")
        #expect(query.binds == [.text("acme"), .integer(10)])
    }

    @Test func splicesFragmentsAndRenumbersTheirBindings() {
        let condition: SQLQuery = "plan = \("scale")"
        var query: SQLQuery = "SELECT id FROM t WHERE tenant = \("demo") AND \(condition)"
        query.append(" LIMIT \(5)")
        #expect(query.sql(for: .postgres) == "SELECT id FROM t WHERE tenant = $1 AND plan = $2 LIMIT $3")
        #expect(query.binds == [.text("demo"), .text("scale"), .integer(5)])
        let joined = SQLQuery.joined(["a = \(1)", "b = \(2)"], separator: " AND ")
        #expect(joined.sql(for: .sqlite) == "a = ?1 AND b = ?2")
    }

    @Test func quotesIdentifiers_SoNoNameCanEndTheIdentifier() {
        let query: SQLQuery = "SELECT * FROM \(identifier: "x\"; DROP TABLE t; --")"
        #expect(query.sql(for: .postgres) == "SELECT * FROM \"x\"\"; DROP TABLE t; --\"")
        #expect(query.binds.isEmpty)
    }

    @Test func expandsLists_AndAnEmptyListToNULL() {
        let ids = [3, 4]
        #expect(("IN (\(list: ids))" as SQLQuery).sql(for: .sqlite) == "IN (?1, ?2)")
        #expect(("IN (\(list: [Int]()))" as SQLQuery).sql(for: .sqlite) == "IN (NULL)")
    }

    @Test func describesTheSQLWithoutTheValues() {
        let query: SQLQuery = "UPDATE users SET password_hash = \("s3cret-hash") WHERE id = \(7)"
        #expect(!String(describing: query).contains("s3cret-hash"))
        #expect(String(reflecting: query).contains("s3cret-hash"))
    }

    @Test func bindsOptionalsAndExistentials() {
        let none: Int? = nil
        let some: Int? = 5
        let any: any SQLValueConvertible = "x"
        let query: SQLQuery = "\(none) \(some) \(any) \(true) \(SQLValue.null)"
        #expect(query.binds == [.null, .integer(5), .text("x"), .bool(true), .null])
    }
}

@Suite struct DatabaseLocationTests {
    @Test(arguments: [
        ("sqlite://", DatabaseLocation.sqliteMemory),
        ("sqlite://:memory:", .sqliteMemory),
        ("sqlite:///:memory:", .sqliteMemory),
        ("sqlite:///atlas.db", .sqliteFile(path: "atlas.db")),
        ("sqlite:///./data/atlas.db", .sqliteFile(path: "./data/atlas.db")),
        ("sqlite:////var/lib/atlas/atlas.db", .sqliteFile(path: "/var/lib/atlas/atlas.db")),
        ("sqlite:///my%20db.db", .sqliteFile(path: "my db.db")),
    ])
    func parsesSQLiteURLs(url: String, expected: DatabaseLocation) throws {
        #expect(try DatabaseLocation(url: url) == expected)
    }

    @Test(arguments: [
        "postgres://atlas:pw@db.internal:5432/atlas",
        "postgresql://atlas:pw@db.internal:5432/atlas?sslmode=require",
        "postgresql+psycopg://atlas:pw@db.internal:5432/atlas",
        "postgresql+asyncpg://atlas@db.internal/atlas",
        "postgresql:///atlas?host=/var/run/postgresql",
    ])
    func parsesPostgresURLs_IncludingADriverSuffix(url: String) throws {
        guard case .postgres(let parameters) = try DatabaseLocation(url: url) else {
            Issue.record("not postgres")
            return
        }
        #expect(parameters.database == "atlas")
        #expect(!parameters.description.contains("pw"))
    }

    @Test(arguments: [
        "mysql://root:hunter2@localhost/atlas", "sqlite:atlas.db", "sqlite://host/atlas.db", "sqlite:///a.db?mode=ro",
        "postgres://u:hunter2@host:99999/db", "postgres://u:hunter2@host:port/db", "postgresql://u:hunter2@[::1/db", "atlas.db", "",
    ])
    func rejectsBadURLs_NamingTheVariableButNotThePassword(url: String) {
        let error = #expect(throws: ConfigurationError.self) { try DatabaseLocation(url: url) }
        #expect(error?.variable == "ATLAS_DATABASE_URL")
        #expect(error.map { !$0.description.contains("hunter2") } == true)
    }

    @Test func redactsThePassword() {
        #expect(DatabaseLocation.redact("postgresql+psycopg://atlas:s3cret@db:5432/atlas") == "postgresql+psycopg://atlas:***@db:5432/atlas")
        #expect(DatabaseLocation.redact("postgres://db/atlas?user=a&password=s3cret") == "postgres://db/atlas?user=a&password=***")
        #expect(DatabaseLocation.redact("sqlite:///atlas.db") == "sqlite:///atlas.db")
    }

    @Test func readsTheConfigurationFromTheEnvironment() throws {
        let configuration = try DatabaseConfiguration(environment: EnvironmentReader([
            "ATLAS_DATABASE_URL": "postgresql+psycopg://atlas:pw@db:5432/atlas",
            "ATLAS_DATABASE_POOL_SIZE": "4",
            "ATLAS_DATABASE_STATEMENT_TIMEOUT": "2.5",
            "ATLAS_SQLITE_SYNCHRONOUS": "extra",
        ]))
        #expect(configuration.poolSize == 4)
        #expect(configuration.statementTimeout == .milliseconds(2500))
        #expect(configuration.sqliteSynchronous == .extra)
        #expect(configuration.redactedURL == "postgresql+psycopg://atlas:***@db:5432/atlas")
        let defaults = try DatabaseConfiguration(environment: EnvironmentReader([:]))
        #expect(defaults.url == "sqlite:///atlas.db")
        #expect(defaults.poolSize == 10)
        #expect(defaults.sqliteSynchronous == .full)
        for (key, value) in [("ATLAS_DATABASE_URL", "mysql://x:hunter2@y/z"), ("ATLAS_DATABASE_POOL_SIZE", "0"),
                             ("ATLAS_SQLITE_SYNCHRONOUS", "sometimes"), ("ATLAS_DATABASE_STATEMENT_TIMEOUT", "-1")] {
            let error = #expect(throws: ConfigurationError.self) {
                try DatabaseConfiguration(environment: EnvironmentReader([key: value]))
            }
            #expect(error?.variable == key)
            #expect(error.map { !$0.description.contains("hunter2") } == true)
        }
    }
}
