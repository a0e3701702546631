// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

/// An SQL statement whose interpolated values become bound parameters, never SQL text.
///
/// ```swift
/// let rows = try conn.query("SELECT id, plan FROM core_tenants WHERE id = \(tenant) AND tokens > \(limit)")
/// // SQLite: SELECT id, plan FROM core_tenants WHERE id = ?1 AND tokens > ?2
/// // Postgres: SELECT id, plan FROM core_tenants WHERE id = $1 AND tokens > $2
/// ```
///
/// Besides values, an interpolation accepts:
/// - another `SQLQuery` (`\(fragment)`), spliced in with its own bindings;
/// - `\(identifier: name)`, a double-quoted identifier (`"` doubled), for names chosen at run time;
/// - `\(list: values)`, a comma-separated list of bindings for `IN (…)` (`NULL` when empty, so
///   `x IN (NULL)` matches nothing).
///
/// SQL text that is not a literal is spelled ``init(unsafeSQL:)`` so reviews can find it.
/// `description` shows the SQL with placeholders and never the bound values; `debugDescription`
/// shows the values too and must not reach logs.
public struct SQLQuery: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible, CustomDebugStringConvertible {
    enum Part: Sendable, Hashable {
        case sql(String)
        case bind(Int)
    }

    private(set) var parts: [Part]
    /// The bound values, in order of appearance.
    public private(set) var binds: [SQLValue]

    /// SQL text taken as is: nothing in it is escaped or bound. Use only with text built from
    /// constants or from ``SQLDialect`` fragments, never with input.
    public init(unsafeSQL sql: String) {
        parts = sql.isEmpty ? [] : [.sql(sql)]
        binds = []
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        parts = stringInterpolation.parts
        binds = stringInterpolation.binds
    }

    /// Appends another query, renumbering its bindings.
    public mutating func append(_ other: SQLQuery) {
        let offset = binds.count
        for part in other.parts {
            switch part {
            case .sql(let text): parts.append(.sql(text))
            case .bind(let index): parts.append(.bind(index + offset))
            }
        }
        binds.append(contentsOf: other.binds)
    }

    public static func + (lhs: SQLQuery, rhs: SQLQuery) -> SQLQuery {
        var result = lhs
        result.append(rhs)
        return result
    }

    /// Joins queries with a separator, e.g. `SQLQuery.joined(conditions, separator: " AND ")`.
    public static func joined(_ queries: [SQLQuery], separator: String) -> SQLQuery {
        var result = SQLQuery(unsafeSQL: "")
        for (index, query) in queries.enumerated() {
            if index > 0 { result.append(SQLQuery(unsafeSQL: separator)) }
            result.append(query)
        }
        return result
    }

    /// The SQL text with the dialect's placeholders (`?1` or `$1`).
    public func sql(for dialect: SQLDialect) -> String {
        var text = ""
        for part in parts {
            switch part {
            case .sql(let fragment): text += fragment
            case .bind(let index): text += dialect.placeholder(index + 1)
            }
        }
        return text
    }

    /// The query without its values, as a statement-cache key: equal shapes give the same SQL
    /// in every dialect. Built without assembling the text: its hash reads each fragment's bytes
    /// once, and comparing two shapes built from the same string literals compares the literals'
    /// storage first.
    public var shape: Shape { Shape(parts) }

    public struct Shape: Hashable, Sendable {
        fileprivate let parts: [Part]
        private let digest: Int

        fileprivate init(_ parts: [Part]) {
            self.parts = parts
            var hasher = Hasher()
            for part in parts {
                switch part {
                case .sql(var fragment):
                    fragment.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
                case .bind(let index):
                    hasher.combine(~index)
                }
            }
            digest = hasher.finalize()
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(digest) }

        public static func == (lhs: Shape, rhs: Shape) -> Bool {
            lhs.digest == rhs.digest && lhs.parts == rhs.parts
        }
    }

    /// The SQL with `$n` placeholders and without values: safe to log.
    public var description: String { sql(for: .postgres) }

    /// The SQL and its bound values: may contain secrets or personal data, never log it.
    public var debugDescription: String {
        "\(sql(for: .postgres)) [\(binds.map { String(reflecting: $0) }.joined(separator: ", "))]"
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []
        var binds: [SQLValue] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            parts.reserveCapacity(interpolationCount * 2 + 1)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            guard !literal.isEmpty else { return }
            parts.append(.sql(literal))
        }

        /// A bound parameter.
        public mutating func appendInterpolation<T: SQLValueConvertible>(_ value: T) {
            parts.append(.bind(binds.count))
            binds.append(value.sqlValue)
        }

        /// A bound parameter from a value of unknown type, which is `NULL` when `nil`.
        public mutating func appendInterpolation(_ value: (any SQLValueConvertible)?) {
            parts.append(.bind(binds.count))
            binds.append(value?.sqlValue ?? .null)
        }

        /// Another query, spliced in with its bindings.
        public mutating func appendInterpolation(_ fragment: SQLQuery) {
            let offset = binds.count
            for part in fragment.parts {
                switch part {
                case .sql(let text): parts.append(.sql(text))
                case .bind(let index): parts.append(.bind(index + offset))
                }
            }
            binds.append(contentsOf: fragment.binds)
        }

        /// A quoted identifier (SQL:2016 §5.4 delimited identifier; the same rule in SQLite and
        /// PostgreSQL): wrapped in `"` with each `"` doubled, so no name can end the identifier.
        public mutating func appendInterpolation(identifier: String) {
            parts.append(.sql(SQLDialect.quote(identifier)))
        }

        /// Bound parameters separated by commas, for `IN (…)`; `NULL` when the list is empty.
        public mutating func appendInterpolation<S: Sequence>(list values: S) where S.Element: SQLValueConvertible {
            var first = true
            for value in values {
                if !first { parts.append(.sql(", ")) }
                first = false
                appendInterpolation(value)
            }
            if first { parts.append(.sql("NULL")) }
        }
    }
}
