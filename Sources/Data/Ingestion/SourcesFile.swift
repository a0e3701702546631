// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Foundation
import Yams

/// The sources file (`ATLAS_DATA_SOURCES`, default `data/sources.yml`):
///
/// ```yaml
/// sources:
///   knowledge_base:
///     description: Knowledge articles
///     primary_key: [article_id]
///     unknown_columns: reject          # or ignore
///     columns:
///       article_id: {type: string, required: true}
///       tenant: string
///       title: string
///       updated_at: timestamp
/// connectors:
///   legacy_articles:                   # a table of another (or Atlas's own) database
///     source: knowledge_base
///     schedule: "*/15 * * * *"
///     tenant: demo                     # or tenant_column: tenant
///     sql: {database_url: "sqlite:///legacy.db", table: articles, cursor: updated_at, batch_size: 1000}
///   partner_feed:                      # a paged HTTP JSON endpoint
///     source: knowledge_base
///     tenant: demo
///     http:
///       url: http://feed.example/articles
///       records: data.items
///       headers: {Authorization: "Bearer ${FEED_TOKEN}"}
///       pagination: {type: page, param: page, start: 1, size_param: per_page, size: 100}
///       cursor_field: updated_at
///       cursor_param: updated_since
/// ```
public struct SourcesFile: Sendable {
    public var sources: [SourceDefinition]
    public var connectors: [ConnectorDefinition]

    public init(sources: [SourceDefinition] = [], connectors: [ConnectorDefinition] = []) {
        self.sources = sources
        self.connectors = connectors
    }

    /// Reads `path`; a missing file is an empty configuration. Errors name the file and entry.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SourcesFile {
        guard FileManager.default.fileExists(atPath: path) else { return SourcesFile() }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SourceConfigurationError("\(path): cannot be read as UTF-8 text")
        }
        do {
            return try parse(text, environment: environment)
        } catch let error as SourceConfigurationError {
            throw SourceConfigurationError("\(path): \(error.description)")
        }
    }

    /// Parses the YAML text of a sources file.
    public static func parse(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SourcesFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw SourceConfigurationError("invalid YAML: \(error)")
        }
        guard let root else { return SourcesFile() }
        guard root.mapping != nil else { throw SourceConfigurationError("the top level must be a mapping with `sources:` and `connectors:`") }
        var file = SourcesFile()
        if let sources = root["sources"] {
            guard let mapping = sources.mapping else { throw SourceConfigurationError("`sources` must be a mapping of source name to definition") }
            for (key, value) in mapping {
                file.sources.append(try source(key.string ?? "", value))
            }
        }
        if let connectors = root["connectors"] {
            guard let mapping = connectors.mapping else { throw SourceConfigurationError("`connectors` must be a mapping of connector name to definition") }
            for (key, value) in mapping {
                file.connectors.append(try ConnectorDefinition.parse(name: key.string ?? "", value, environment: environment))
            }
        }
        return file
    }

    static func source(_ name: String, _ node: Node) throws -> SourceDefinition {
        let at = "source \(name)"
        guard node.mapping != nil else { throw SourceConfigurationError("\(at): must be a mapping") }
        try YAMLFields.allow(node, ["description", "primary_key", "unknown_columns", "columns"], at: at)
        guard let columnsNode = node["columns"]?.mapping else { throw SourceConfigurationError("\(at): `columns` (a mapping of name to type) is required") }
        var columns: [SourceColumn] = []
        for (key, value) in columnsNode {
            let column = key.string ?? ""
            let typeName: String
            var required = false
            if let scalar = value.string {
                typeName = scalar
            } else if value.mapping != nil {
                try YAMLFields.allow(value, ["type", "required"], at: "\(at), column \(column)")
                typeName = value["type"]?.string ?? ""
                required = value["required"]?.bool ?? false
            } else {
                throw SourceConfigurationError("\(at), column \(column): give a type or {type, required}")
            }
            guard let type = ColumnType(rawValue: typeName.lowercased()) else {
                throw SourceConfigurationError("\(at), column \(column): type \(SourceNames.quoted(typeName)) is not one of \(ColumnType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            columns.append(SourceColumn(name: column, type: type, required: required))
        }
        let primaryKey = try YAMLFields.strings(node["primary_key"], at: "\(at), primary_key")
        var unknown = UnknownColumnPolicy.reject
        if let text = node["unknown_columns"]?.string {
            guard let policy = UnknownColumnPolicy(rawValue: text) else {
                throw SourceConfigurationError("\(at): unknown_columns must be reject or ignore")
            }
            unknown = policy
        }
        return try SourceDefinition(name: name, columns: columns, primaryKey: primaryKey, unknownColumns: unknown, origin: .declared,
                                    description: node["description"]?.string ?? "")
    }
}

/// Small helpers for reading YAML nodes with clear errors.
enum YAMLFields {
    static func allow(_ node: Node, _ keys: Set<String>, at: String) throws {
        for (key, _) in node.mapping ?? [:] where !keys.contains(key.string ?? "") {
            throw SourceConfigurationError("\(at): unknown key \(SourceNames.quoted(key.string ?? "?")) (expected one of \(keys.sorted().joined(separator: ", ")))")
        }
    }

    /// A string or a list of strings.
    static func strings(_ node: Node?, at: String) throws -> [String] {
        guard let node else { return [] }
        if let single = node.scalar?.string { return [single] }
        guard let sequence = node.sequence else { throw SourceConfigurationError("\(at): must be a name or a list of names") }
        return try sequence.map { item in
            guard let text = item.scalar?.string else { throw SourceConfigurationError("\(at): must be a list of names") }
            return text
        }
    }

    static func int(_ node: Node?, at: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let node else { return value }
        guard let number = node.int, range.contains(number) else {
            throw SourceConfigurationError("\(at): must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// `${NAME}` replaced by the environment variable's value (empty when unset).
    static func expand(_ text: String, environment: [String: String]) -> String {
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                output += rest[open.lowerBound...]
                return output
            }
            output += environment[String(rest[open.upperBound..<close])] ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return output + rest
    }
}
