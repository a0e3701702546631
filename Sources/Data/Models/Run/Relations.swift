// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Storage

/// What exists in the database under a name: the few catalogue queries that differ by dialect.
enum Relations {
    enum Kind: String { case table, view }

    static func kind(of name: String, on conn: any Connection) throws -> Kind? {
        let text: String?
        switch conn.dialect {
        case .sqlite:
            text = try conn.queryScalar("SELECT type FROM sqlite_master WHERE name = \(name) AND type IN ('table', 'view')", as: String.self)
        case .postgres:
            text = try conn.queryScalar("""
                SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relname = \(name) AND n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')
                """, as: String.self)
        }
        return text.flatMap(Kind.init(rawValue:))
    }

    /// The relation's columns in order.
    static func columns(of name: String, on conn: any Connection) throws -> [String] {
        switch conn.dialect {
        case .sqlite:
            return try conn.query("SELECT name FROM pragma_table_info(\(name)) ORDER BY cid").map { try $0.decode("name", as: String.self) }
        case .postgres:
            return try conn.query("""
                SELECT column_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = \(name) ORDER BY ordinal_position
                """).map { try $0.decode("column_name", as: String.self) }
        }
    }

    /// Drops whatever `name` is. On PostgreSQL dependent views go too (CASCADE); the runner
    /// rebuilds the view models that vanished.
    static func drop(_ name: String, kind: Kind, on conn: any Connection) throws {
        let cascade = conn.dialect == .postgres ? " CASCADE" : ""
        let what = kind == .view ? "VIEW" : "TABLE"
        try conn.execute(SQLQuery(unsafeSQL: "DROP \(what) IF EXISTS \(quote(name))\(cascade)"))
    }

    static func count(_ name: String, on conn: any Connection) throws -> Int64 {
        try conn.queryScalar(SQLQuery(unsafeSQL: "SELECT COUNT(*) FROM \(quote(name))"), as: Int64.self) ?? 0
    }

    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacing("\"", with: "\"\"") + "\""
    }
}
