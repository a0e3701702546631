// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Storage
import Synchronization

/// The source registry (`data_sources`) and the raw tables behind it.
///
/// A raw table is created, in the transaction that registers its source, as `data_raw_<source>`:
/// `tenant`, the declared columns in order, `_loaded_at`; a unique index on `(tenant, primary key)`
/// when the source has one, and on PostgreSQL the row-level-security policy of 0038 on `tenant`.
/// A later definition may add columns (`ALTER TABLE … ADD COLUMN`); changing a column's type or
/// the primary key is refused.
final class SourceStore: Sendable {
    let database: any Database
    private let cache = Mutex<[String: SourceDefinition]>([:])

    init(database: any Database) {
        self.database = database
    }

    /// The stored definition of `name`, or `nil` when the source was never registered.
    func definition(_ name: String) async throws -> SourceDefinition? {
        if let cached = cache.withLock({ $0[name] }) { return cached }
        let stored = try await database.read { conn in try Self.load(name, conn) }
        if let stored { cache.withLock { $0[name] = stored } }
        return stored
    }

    /// Every registered source, by name.
    func all() async throws -> [SourceDefinition] {
        try await database.read { conn in
            try conn.query("SELECT definition FROM data_sources ORDER BY name").map { row in
                try JSONDecoder().decode(SourceDefinition.self, from: Data(try row["definition", as: String.self].utf8))
            }
        }
    }

    /// Registers `definition` (creating or widening its raw table) and returns what is stored.
    @discardableResult
    func register(_ definition: SourceDefinition) async throws -> SourceDefinition {
        let stored = try await database.transaction(tenant: "*") { conn in try Self.register(definition, conn) }
        cache.withLock { $0[stored.name] = stored }
        return stored
    }

    static func load(_ name: String, _ conn: any Connection) throws -> SourceDefinition? {
        guard let text = try conn.queryScalar("SELECT definition FROM data_sources WHERE name = \(name)", as: String.self) else {
            return nil
        }
        return try JSONDecoder().decode(SourceDefinition.self, from: Data(text.utf8))
    }

    /// Inside a write transaction: registers or widens `definition`; an inferred definition never
    /// replaces a stored one.
    static func register(_ definition: SourceDefinition, _ conn: any Connection) throws -> SourceDefinition {
        if conn.dialect == .postgres {
            // Serialises the CREATE TABLE of concurrent first loads (two racing `IF NOT EXISTS` can
            // still collide in pg_type).
            try conn.execute("SELECT pg_advisory_xact_lock(\(Int64(0x4154_4C44_5352)))")
        }
        let now = Date()
        guard let existing = try load(definition.name, conn) else {
            try createTable(definition, conn)
            try conn.execute("""
                INSERT INTO data_sources (name, definition, origin, created_at, updated_at)
                VALUES (\(definition.name), \(try SQLValue.json(definition)), \(definition.origin.rawValue), \(now), \(now))
                """)
            return definition
        }
        if definition.origin == .inferred || existing == definition { return existing }
        for column in definition.columns {
            if let old = existing.column(column.name) {
                guard old.type == column.type else {
                    throw SourceConfigurationError(
                        "source \(definition.name): column \(column.name) is stored as \(old.type.rawValue); changing it to \(column.type.rawValue) needs a new source")
                }
            }
        }
        guard existing.primaryKey == definition.primaryKey || existing.primaryKey.isEmpty && definition.primaryKey.isEmpty else {
            throw SourceConfigurationError(
                "source \(definition.name): the primary key is stored as [\(existing.primaryKey.joined(separator: ", "))]; changing it needs a new source")
        }
        var merged = definition
        for old in existing.columns where definition.column(old.name) == nil {
            merged.columns.append(SourceColumn(name: old.name, type: old.type, required: false))
        }
        for column in definition.columns where existing.column(column.name) == nil && column.name != "tenant" {
            try conn.execute("ALTER TABLE \(identifier: definition.table) ADD COLUMN \(identifier: column.name) \(sqlType(column.type, conn.dialect))")
        }
        try conn.execute("""
            UPDATE data_sources SET definition = \(try SQLValue.json(merged)), origin = \(merged.origin.rawValue), updated_at = \(now)
            WHERE name = \(definition.name)
            """)
        return merged
    }

    static func sqlType(_ type: ColumnType, _ dialect: SQLDialect) -> SQLQuery {
        switch type {
        case .string, .timestamp: "TEXT"
        case .int: "BIGINT"
        case .float: SQLQuery(unsafeSQL: dialect.doubleType)
        case .bool: SQLQuery(unsafeSQL: dialect.booleanType)
        case .json: SQLQuery(unsafeSQL: dialect.jsonType)
        }
    }

    private static func createTable(_ definition: SourceDefinition, _ conn: any Connection) throws {
        let table = definition.table
        var columns: [SQLQuery] = ["tenant TEXT NOT NULL"]
        for column in definition.columns where column.name != "tenant" {
            columns.append("\(identifier: column.name) \(sqlType(column.type, conn.dialect))")
        }
        columns.append("_loaded_at BIGINT NOT NULL")
        try conn.execute("CREATE TABLE IF NOT EXISTS \(identifier: table) (\(SQLQuery.joined(columns, separator: ", ")))")
        if definition.primaryKey.isEmpty {
            try conn.execute("CREATE INDEX IF NOT EXISTS \(identifier: table + "_tenant") ON \(identifier: table) (tenant, _loaded_at)")
        } else {
            let keys = SQLQuery.joined((["tenant"] + definition.primaryKey.filter { $0 != "tenant" }).map { "\(identifier: $0)" }, separator: ", ")
            try conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS \(identifier: table + "_key") ON \(identifier: table) (\(keys))")
        }
        if conn.dialect == .postgres {
            try conn.execute("ALTER TABLE \(identifier: table) ENABLE ROW LEVEL SECURITY")
            try conn.execute("ALTER TABLE \(identifier: table) FORCE ROW LEVEL SECURITY")
            try conn.execute("""
                CREATE POLICY \(identifier: table + "_tenant") ON \(identifier: table)
                    USING (tenant = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
                    WITH CHECK (tenant = current_setting('atlas.tenant', true) OR current_setting('atlas.tenant', true) = '*')
                """)
        }
    }

    /// Inserts validated rows (values in ``RecordValidator/stored`` order) for `tenant`. With a
    /// primary key, a row whose key is already stored replaces it, and of several rows with one key
    /// in `rows` the last wins. Returns the number of rows written.
    static func insert(_ rows: [[SQLValue]], tenant: String, source: SourceDefinition, loadedAt: Date, _ conn: any Connection) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let stored = source.columns.filter { $0.name != "tenant" }
        var unique = rows
        let keys = source.primaryKey.filter { $0 != "tenant" }
        if !keys.isEmpty {
            let positions = keys.compactMap { key in stored.firstIndex { $0.name == key } }
            var last: [[SQLValue]: Int] = [:]
            for (index, row) in rows.enumerated() { last[positions.map { row[$0] }] = index }
            if last.count < rows.count {
                unique = []
                for (index, row) in rows.enumerated() where last[positions.map { row[$0] }] == index { unique.append(row) }
            }
        }
        let names = ["tenant"] + stored.map(\.name) + ["_loaded_at"]
        let columnList = names.map { SQLDialect.quoteIdentifier($0) }.joined(separator: ", ")
        let conflict: String
        if source.primaryKey.isEmpty {
            conflict = ""
        } else {
            let target = (["tenant"] + keys).map { SQLDialect.quoteIdentifier($0) }.joined(separator: ", ")
            let updates = (stored.map(\.name).filter { !keys.contains($0) } + ["_loaded_at"])
                .map { "\(SQLDialect.quoteIdentifier($0)) = excluded.\(SQLDialect.quoteIdentifier($0))" }.joined(separator: ", ")
            conflict = " ON CONFLICT (\(target)) DO UPDATE SET \(updates)"
        }
        let perStatement = max(1, min(500, 30_000 / names.count))
        let loaded = loadedAt.sqlValue
        let tenantValue = SQLValue.text(tenant)
        var written = 0
        var start = 0
        while start < unique.count {
            let end = min(start + perStatement, unique.count)
            var sql = SQLQuery.StringInterpolation(literalCapacity: 64, interpolationCount: (end - start) * names.count)
            sql.appendLiteral("INSERT INTO \(SQLDialect.quoteIdentifier(source.table)) (\(columnList)) VALUES ")
            for index in start..<end {
                sql.appendLiteral(index == start ? "(" : ", (")
                sql.appendInterpolation(tenantValue)
                for value in unique[index] {
                    sql.appendLiteral(", ")
                    sql.appendInterpolation(value)
                }
                sql.appendLiteral(", ")
                sql.appendInterpolation(loaded)
                sql.appendLiteral(")")
            }
            sql.appendLiteral(conflict)
            written += try conn.execute(SQLQuery(stringInterpolation: sql))
            start = end
        }
        return written
    }
}

extension SQLDialect {
    /// A double-quoted identifier, `"` doubled: the rule ``SQLQuery``'s `\(identifier:)` applies.
    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacing("\u{0}", with: "").replacing("\"", with: "\"\"") + "\""
    }
}
