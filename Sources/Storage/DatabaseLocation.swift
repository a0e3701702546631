// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import CLibPQ
import CLibPQLoader
import Core
import Foundation

/// Where a database lives, parsed from `ATLAS_DATABASE_URL`.
///
/// | URL | meaning |
/// | --- | --- |
/// | `sqlite://`, `sqlite://:memory:`, `sqlite:///:memory:` | SQLite in memory (one connection, gone at close) |
/// | `sqlite:///atlas.db` | SQLite file relative to the working directory |
/// | `sqlite:////var/lib/atlas/atlas.db` | SQLite file at an absolute path |
/// | `postgres://…`, `postgresql://…` | PostgreSQL, libpq URI syntax (query parameters such as `sslmode`, `host=/socket/dir`, `application_name`) |
/// | `postgresql+psycopg://user:pw@host:5432/db` | the same; a `+driver` suffix on the scheme is ignored |
public enum DatabaseLocation: Sendable, Equatable {
    case sqliteMemory
    case sqliteFile(path: String)
    case postgres(PostgresConnectionParameters)

    /// Parses a URL; throws ``ConfigurationError`` for `ATLAS_DATABASE_URL` whose reason never
    /// contains the password.
    public init(url: String) throws {
        let text = url.trimmingCharacters(in: .whitespaces)
        guard let colon = text.firstIndex(of: ":") else {
            throw Self.invalid("must be a sqlite:// or postgresql:// URL")
        }
        let scheme = text[..<colon].lowercased()
        let rest = text[text.index(after: colon)...]
        let base = scheme.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        switch base {
        case "sqlite":
            self = try Self.parseSQLite(String(rest))
        case "postgres", "postgresql":
            self = .postgres(try PostgresConnectionParameters(uri: "postgresql:" + rest))
        default:
            throw Self.invalid("unsupported scheme; use sqlite:///file.db, sqlite:// (memory) or postgresql://user@host/db")
        }
    }

    static func invalid(_ reason: String) -> ConfigurationError {
        ConfigurationError(variable: "ATLAS_DATABASE_URL", reason: reason)
    }

    private static func parseSQLite(_ rest: String) throws -> DatabaseLocation {
        guard rest.hasPrefix("//") else {
            throw invalid("a SQLite URL is sqlite:///relative/path.db, sqlite:////absolute/path.db or sqlite:// (memory)")
        }
        var body = String(rest.dropFirst(2))
        if let query = body.firstIndex(of: "?") {
            guard body[body.index(after: query)...].isEmpty else {
                throw invalid("a SQLite URL takes no query parameters")
            }
            body = String(body[..<query])
        }
        if body.isEmpty || body == ":memory:" || body == "/" || body == "/:memory:" {
            return .sqliteMemory
        }
        guard body.hasPrefix("/") else {
            throw invalid("a SQLite URL has no host: use sqlite:///relative/path.db or sqlite:////absolute/path.db")
        }
        guard let path = String(body.dropFirst()).removingPercentEncoding, !path.isEmpty, !path.contains("\u{0}") else {
            throw invalid("the SQLite path is not valid percent-encoded text")
        }
        return .sqliteFile(path: path)
    }

    /// `url` with the password (in the user-info part or a `password=` parameter) replaced by `***`.
    public static func redact(_ url: String) -> String {
        var result = url
        if let schemeEnd = result.range(of: "://") {
            let authorityStart = schemeEnd.upperBound
            let authorityEnd = result[authorityStart...].firstIndex(where: { "/?#".contains($0) }) ?? result.endIndex
            if let at = result[authorityStart..<authorityEnd].lastIndex(of: "@"),
               let colon = result[authorityStart..<at].firstIndex(of: ":") {
                result.replaceSubrange(result.index(after: colon)..<at, with: "***")
            }
        }
        if let query = result.firstIndex(of: "?") {
            let head = result[...query]
            let parameters = result[result.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
                pair.lowercased().hasPrefix("password=") ? "password=***" : String(pair)
            }
            result = head + parameters.joined(separator: "&")
        }
        return result
    }
}

/// libpq connection keywords parsed from a URL (postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING).
/// Its description omits the password.
public struct PostgresConnectionParameters: Sendable, Equatable, CustomStringConvertible {
    var keywords: [String: String]

    init(uri: String) throws {
        if let failure = atlas_libpq_load() {
            throw StorageError(.unavailable, "PostgreSQL support is not available: \(String(cString: failure))")
        }
        var message: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(uri, &message) else {
            // libpq's message may quote the URL, password included, so it is not shown.
            if let message { PQfreemem(message) }
            throw DatabaseLocation.invalid("is not a valid PostgreSQL URL (postgresql://user:password@host:5432/database?sslmode=…)")
        }
        defer { PQconninfoFree(options) }
        var keywords: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { keywords[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        if let port = keywords["port"], port.split(separator: ",").contains(where: { UInt16($0) == nil || $0 == "0" }) {
            throw DatabaseLocation.invalid("has an invalid port")
        }
        self.keywords = keywords
    }

    public var host: String? { keywords["host"] ?? keywords["hostaddr"] }
    public var port: String? { keywords["port"] }
    public var database: String? { keywords["dbname"] }
    public var user: String? { keywords["user"] }

    public var description: String {
        keywords.keys.sorted().filter { $0 != "password" }.map { "\($0)=\(keywords[$0]!)" }.joined(separator: " ")
    }
}
