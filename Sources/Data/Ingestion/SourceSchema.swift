// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The type of one column of a source, as written in `data/sources.yml`.
public enum ColumnType: String, Sendable, Hashable, Codable, CaseIterable {
    case string, int, float, bool, timestamp, json
}

/// One declared (or inferred) column of a source.
public struct SourceColumn: Sendable, Hashable, Codable {
    public var name: String
    public var type: ColumnType
    /// Whether a record must carry a non-null value. Primary-key columns are always required.
    public var required: Bool

    public init(name: String, type: ColumnType, required: Bool = false) {
        self.name = name
        self.type = type
        self.required = required
    }
}

/// What to do with a record field the schema does not name.
public enum UnknownColumnPolicy: String, Sendable, Hashable, Codable {
    /// The record is rejected with a detail naming the field.
    case reject
    /// The field is dropped.
    case ignore
}

/// A named source: its columns, optional primary key and where its schema came from.
///
/// Rows land in `data_raw_<name>` with a `tenant` column first and `_loaded_at` last (the module
/// README lists the column types). With a primary key, a re-sent record replaces the stored one
/// (per tenant), so pushes and syncs are idempotent.
public struct SourceDefinition: Sendable, Hashable, Codable {
    public enum Origin: String, Sendable, Hashable, Codable {
        /// Written in the sources file.
        case declared
        /// Inferred from the first records pushed.
        case inferred
    }

    public var name: String
    public var columns: [SourceColumn]
    public var primaryKey: [String]
    public var unknownColumns: UnknownColumnPolicy
    public var origin: Origin
    public var description: String

    public init(name: String, columns: [SourceColumn], primaryKey: [String] = [], unknownColumns: UnknownColumnPolicy = .reject,
                origin: Origin = .declared, description: String = "") throws {
        try SourceNames.validateSource(name)
        guard !columns.isEmpty else { throw SourceConfigurationError("source \(name): at least one column is required") }
        var seen = Set<String>()
        for column in columns {
            try SourceNames.validateColumn(column.name, source: name)
            guard seen.insert(column.name).inserted else {
                throw SourceConfigurationError("source \(name): column \(column.name) is declared twice")
            }
        }
        for key in primaryKey where !seen.contains(key) {
            throw SourceConfigurationError("source \(name): primary key column \(key) is not a declared column")
        }
        self.name = name
        self.columns = columns.map { column in
            var column = column
            if primaryKey.contains(column.name) { column.required = true }
            return column
        }
        self.primaryKey = primaryKey
        self.unknownColumns = unknownColumns
        self.origin = origin
        self.description = description
    }

    /// The raw table of this source.
    public var table: String { SourceNames.rawTable(name) }

    /// The column named `name`, if declared.
    public func column(_ name: String) -> SourceColumn? { columns.first { $0.name == name } }
}

/// A mistake in a sources, connectors or feature-view file; the text names the file's entry.
public struct SourceConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Naming rules shared by sources, columns and connectors.
public enum SourceNames {
    /// Columns every raw table has besides the declared ones.
    public static let reservedColumns: Set<String> = ["tenant", "_loaded_at"]

    /// `data_raw_<source>`.
    public static func rawTable(_ source: String) -> String { "data_raw_" + source }

    /// Whether `name` is `[a-z][a-z0-9_]{0,47}`.
    public static func isValidSource(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...48).contains(bytes.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]) else { return false }
        return bytes.allSatisfy(isIdentifierByte)
    }

    /// Whether `name` is `[a-z_][a-z0-9_]{0,62}`.
    public static func isValidColumn(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[0]) else { return false }
        return bytes.allSatisfy(isIdentifierByte)
    }

    static func validateSource(_ name: String) throws {
        guard isValidSource(name) else {
            throw SourceConfigurationError("source name \(quoted(name)) must match [a-z][a-z0-9_]{0,47}")
        }
    }

    static func validateColumn(_ name: String, source: String) throws {
        guard isValidColumn(name) else {
            throw SourceConfigurationError("source \(source): column name \(quoted(name)) must match [a-z_][a-z0-9_]{0,62}")
        }
        guard !reservedColumns.contains(name) || name == "tenant" else {
            throw SourceConfigurationError("source \(source): column name \(name) is reserved")
        }
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "_")
    }

    static func quoted(_ text: String) -> String {
        "\"" + String(text.prefix(64)) + (text.count > 64 ? "…" : "") + "\""
    }
}
