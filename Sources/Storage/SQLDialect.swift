// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

/// The SQL dialect of a ``Database``: the one place where SQLite and PostgreSQL differ.
///
/// Everything else is written once, in the common subset both accept: `INSERT … ON CONFLICT (…) DO
/// UPDATE SET x = excluded.x` (SQLite ≥ 3.24), `RETURNING` (SQLite ≥ 3.35), `LIMIT n OFFSET m`,
/// `COALESCE`, `CASE`, `||`. Timestamps are `BIGINT` milliseconds since the Unix epoch on both (see
/// `Date`'s ``SQLValueConvertible`` conformance), so no date function is needed in ordinary queries.
///
/// ```swift
/// let next: SQLQuery = "SELECT id FROM billing_outbox WHERE sent_at IS NULL ORDER BY id LIMIT 10 \(conn.dialect.forUpdateSkipLocked)"
/// ```
public enum SQLDialect: String, Sendable, Hashable, CaseIterable {
    case sqlite
    case postgres

    /// The placeholder for the 1-based parameter `index`: `?1` (sqlite.org/lang_expr.html#varparam)
    /// or `$1`.
    public func placeholder(_ index: Int) -> String {
        switch self {
        case .sqlite: "?\(index)"
        case .postgres: "$\(index)"
        }
    }

    /// The current time as `BIGINT` milliseconds since the Unix epoch. On PostgreSQL this is the
    /// transaction's start time (`now()`); on SQLite the statement's time. SQLite 3.40 has no
    /// `unixepoch('subsec')` (3.42), so it converts the Julian day number, which carries millisecond
    /// precision.
    public var currentTimeMillis: SQLQuery {
        switch self {
        case .sqlite: SQLQuery(unsafeSQL: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)")
        case .postgres: SQLQuery(unsafeSQL: "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)")
        }
    }

    /// The column type for JSON documents: `TEXT` (with `json_valid` checks if wanted) or `JSONB`.
    /// Bind with ``SQLValue/json(_:)``; text parameters are sent to PostgreSQL untyped so they
    /// convert to `jsonb` on assignment.
    public var jsonType: String {
        switch self {
        case .sqlite: "TEXT"
        case .postgres: "JSONB"
        }
    }

    /// The column type for booleans. SQLite has none and stores 0/1.
    public var booleanType: String {
        switch self {
        case .sqlite: "INTEGER"
        case .postgres: "BOOLEAN"
        }
    }

    /// The column type for byte strings.
    public var blobType: String {
        switch self {
        case .sqlite: "BLOB"
        case .postgres: "BYTEA"
        }
    }

    /// The column type for 64-bit floating point numbers.
    public var doubleType: String {
        switch self {
        case .sqlite: "REAL"
        case .postgres: "DOUBLE PRECISION"
        }
    }

    /// A boolean literal, for SQL text that cannot use a bound parameter (e.g. partial index predicates).
    public func literal(_ value: Bool) -> SQLQuery {
        switch self {
        case .sqlite: SQLQuery(unsafeSQL: value ? "1" : "0")
        case .postgres: SQLQuery(unsafeSQL: value ? "TRUE" : "FALSE")
        }
    }

    /// An auto-incrementing 64-bit primary key column definition.
    public var autoIncrementPrimaryKey: String {
        switch self {
        case .sqlite: "INTEGER PRIMARY KEY AUTOINCREMENT"
        case .postgres: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        }
    }

    /// `FOR UPDATE SKIP LOCKED` for claiming queue rows on PostgreSQL; empty on SQLite, where the
    /// single writer connection already serialises claimers.
    public var forUpdateSkipLocked: SQLQuery {
        switch self {
        case .sqlite: SQLQuery(unsafeSQL: "")
        case .postgres: SQLQuery(unsafeSQL: "FOR UPDATE SKIP LOCKED")
        }
    }

    /// `FOR UPDATE` row locking on PostgreSQL; empty on SQLite (the writer transaction already
    /// holds the database's write lock from `BEGIN IMMEDIATE`).
    public var forUpdate: SQLQuery {
        switch self {
        case .sqlite: SQLQuery(unsafeSQL: "")
        case .postgres: SQLQuery(unsafeSQL: "FOR UPDATE")
        }
    }

    /// Case-insensitive `LIKE`: SQLite's `LIKE` already folds ASCII case; PostgreSQL needs `ILIKE`.
    public var caseInsensitiveLike: SQLQuery {
        switch self {
        case .sqlite: SQLQuery(unsafeSQL: "LIKE")
        case .postgres: SQLQuery(unsafeSQL: "ILIKE")
        }
    }

    /// `INSERT … ON CONFLICT (key) DO UPDATE SET c = excluded.c, …` — the same text on both
    /// backends, offered here so callers don't hand-assemble the column list. Column names are
    /// quoted identifiers.
    public func upsert(conflict keys: [String], update columns: [String]) -> SQLQuery {
        let key = keys.map(Self.quote).joined(separator: ", ")
        guard !columns.isEmpty else { return SQLQuery(unsafeSQL: "ON CONFLICT (\(key)) DO NOTHING") }
        let sets = columns.map { "\(Self.quote($0)) = excluded.\(Self.quote($0))" }.joined(separator: ", ")
        return SQLQuery(unsafeSQL: "ON CONFLICT (\(key)) DO UPDATE SET \(sets)")
    }

    /// A query returning one row when `table` exists (in the search path, on PostgreSQL).
    public func tableExists(_ table: String) -> SQLQuery {
        switch self {
        case .sqlite: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = \(table)"
        case .postgres: "SELECT 1 WHERE to_regclass(\(SQLDialect.quote(table))) IS NOT NULL"
        }
    }

    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacing("\u{0}", with: "").replacing("\"", with: "\"\"") + "\""
    }
}
