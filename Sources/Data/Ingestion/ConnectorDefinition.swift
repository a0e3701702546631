// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Core
public import Foundation
import Yams

/// A pull connector from the sources file: where records come from, which source they feed, for
/// which tenant, and when it runs.
public struct ConnectorDefinition: Sendable {
    /// Whose rows the pulled records become.
    public enum TenantMapping: Sendable, Hashable {
        /// Every record belongs to this tenant.
        case fixed(TenantID)
        /// Each record names its tenant in this field (it must be a valid tenant id).
        case column(String)
    }

    /// A table of another database (or of Atlas's own), read incrementally by a cursor column.
    public struct SQLPull: Sendable, Hashable {
        /// An Atlas-style database URL (`sqlite:///file.db`, `postgres://…`); `nil` = Atlas's own database.
        public var databaseURL: String?
        public var table: String
        /// The column whose increasing values mark progress (a timestamp, an id).
        public var cursor: String
        /// Columns to read; `nil` = all.
        public var columns: [String]?
        public var batchSize: Int
    }

    /// A paged HTTP JSON endpoint (`http` or `https`), read through the HTTP module's client.
    public struct HTTPPull: Sendable, Hashable {
        public enum Pagination: Sendable, Hashable {
            /// One request.
            case none
            /// `?<param>=start, start+1, …` (with `?<sizeParam>=size`) until a page has fewer than
            /// `size` records (or none).
            case page(param: String, start: Int, sizeParam: String?, size: Int?)
            /// `?<param>=<token>` with the token read from each response at `next` until it is absent.
            case cursor(param: String, next: [String])
        }

        public var url: URL
        /// The path of the records array in each response (`data.items`); empty = the response is the array.
        public var records: [String]
        public var headers: [String: String]
        public var pagination: Pagination
        /// A record field with increasing values: records at or below the stored cursor are skipped.
        public var cursorField: String?
        /// A query parameter that sends the stored cursor, so the server can filter too.
        public var cursorParam: String?
        public var maxPages: Int
        public var timeout: TimeInterval
    }

    public enum Kind: Sendable, Hashable {
        case sql(SQLPull)
        case http(HTTPPull)
    }

    public var name: String
    public var source: String
    public var tenant: TenantMapping
    public var schedule: CronSchedule?
    public var kind: Kind

    public init(name: String, source: String, tenant: TenantMapping, schedule: CronSchedule? = nil, kind: Kind) throws {
        guard SourceNames.isValidSource(name) else { throw SourceConfigurationError("connector name \(SourceNames.quoted(name)) must match [a-z][a-z0-9_]{0,47}") }
        try SourceNames.validateSource(source)
        self.name = name
        self.source = source
        self.tenant = tenant
        self.schedule = schedule
        self.kind = kind
    }

    static func parse(name: String, _ node: Node, environment: [String: String]) throws -> ConnectorDefinition {
        let at = "connector \(name)"
        guard node.mapping != nil else { throw SourceConfigurationError("\(at): must be a mapping") }
        try YAMLFields.allow(node, ["source", "schedule", "tenant", "tenant_column", "sql", "http", "description"], at: at)
        guard let source = node["source"]?.string else { throw SourceConfigurationError("\(at): `source` is required") }
        let tenant: TenantMapping
        switch (node["tenant"]?.string, node["tenant_column"]?.string) {
        case (let fixed?, nil):
            guard let id = TenantID(fixed) else { throw SourceConfigurationError("\(at): tenant \(SourceNames.quoted(fixed)) is not a valid tenant id") }
            tenant = .fixed(id)
        case (nil, let column?):
            tenant = .column(column.lowercased())
        default:
            throw SourceConfigurationError("\(at): give exactly one of `tenant` (a tenant id) or `tenant_column`")
        }
        var schedule: CronSchedule?
        if let text = node["schedule"]?.string {
            do { schedule = try CronSchedule(text) } catch let error as CronError {
                throw SourceConfigurationError("\(at): \(error.description)")
            }
        }
        let kind: Kind
        switch (node["sql"], node["http"]) {
        case (let sql?, nil):
            try YAMLFields.allow(sql, ["database_url", "table", "cursor", "columns", "batch_size"], at: "\(at), sql")
            guard let table = sql["table"]?.string, Self.isTableName(table) else {
                throw SourceConfigurationError("\(at), sql: `table` is required (letters, digits, `_`, optionally schema-qualified)")
            }
            guard let cursor = sql["cursor"]?.string, SourceNames.isValidColumn(cursor.lowercased()) else {
                throw SourceConfigurationError("\(at), sql: `cursor` (the column marking progress) is required")
            }
            let columns = try sql["columns"].map { try YAMLFields.strings($0, at: "\(at), sql.columns") }
            for column in columns ?? [] where !SourceNames.isValidColumn(column.lowercased()) {
                throw SourceConfigurationError("\(at), sql.columns: \(SourceNames.quoted(column)) is not a column name")
            }
            kind = .sql(SQLPull(databaseURL: sql["database_url"]?.string.map { YAMLFields.expand($0, environment: environment) },
                                table: table, cursor: cursor, columns: columns,
                                batchSize: try YAMLFields.int(sql["batch_size"], at: "\(at), sql.batch_size", default: 1000, in: 1...100_000)))
        case (nil, let http?):
            try YAMLFields.allow(http, ["url", "records", "headers", "pagination", "cursor_field", "cursor_param", "max_pages", "timeout"], at: "\(at), http")
            guard let text = http["url"]?.string, let url = URL(string: YAMLFields.expand(text, environment: environment)),
                  ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw SourceConfigurationError("\(at), http: `url` must be an absolute http(s) URL")
            }
            var headers: [String: String] = [:]
            for (key, value) in http["headers"]?.mapping ?? [:] {
                headers[key.string ?? ""] = YAMLFields.expand(value.string ?? "", environment: environment)
            }
            var pagination = HTTPPull.Pagination.none
            if let page = http["pagination"] {
                try YAMLFields.allow(page, ["type", "param", "start", "size_param", "size", "next"], at: "\(at), http.pagination")
                switch page["type"]?.string ?? "none" {
                case "none": pagination = .none
                case "page":
                    pagination = .page(param: page["param"]?.string ?? "page",
                                       start: try YAMLFields.int(page["start"], at: "\(at), pagination.start", default: 1, in: 0...1_000_000),
                                       sizeParam: page["size_param"]?.string,
                                       size: try page["size"].map { try YAMLFields.int($0, at: "\(at), pagination.size", default: 100, in: 1...100_000) })
                case "cursor":
                    guard let next = page["next"]?.string else { throw SourceConfigurationError("\(at), http.pagination: a cursor pagination needs `next` (the token's path)") }
                    pagination = .cursor(param: page["param"]?.string ?? "cursor", next: Self.path(next))
                case let other:
                    throw SourceConfigurationError("\(at), http.pagination: type \(SourceNames.quoted(other)) is not one of none, page, cursor")
                }
            }
            kind = .http(HTTPPull(
                url: url, records: Self.path(http["records"]?.string ?? ""), headers: headers, pagination: pagination,
                cursorField: http["cursor_field"]?.string?.lowercased(), cursorParam: http["cursor_param"]?.string,
                maxPages: try YAMLFields.int(http["max_pages"], at: "\(at), http.max_pages", default: 10_000, in: 1...1_000_000),
                timeout: Double(try YAMLFields.int(http["timeout"], at: "\(at), http.timeout", default: 30, in: 1...600))))
        default:
            throw SourceConfigurationError("\(at): give exactly one of `sql` or `http`")
        }
        return try ConnectorDefinition(name: name, source: source, tenant: tenant, schedule: schedule, kind: kind)
    }

    static func path(_ text: String) -> [String] {
        text.split(separator: ".").map(String.init).filter { !$0.isEmpty && $0 != "$" }
    }

    static func isTableName(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 63 && part.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
                && !(part.first!.isNumber)
        }
    }
}
