// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// One result row: column names and values, decoded by name.
///
/// ```swift
/// let row = try conn.queryFirst("SELECT id, tokens, created_at FROM core_tenants WHERE id = \(id)")
/// let tokens = try row?["tokens", as: Int.self]               // throws StorageError.typeMismatch
/// let tenant = try row?.decode(TenantRecord.self)              // `createdAt` ← `created_at`
/// ```
public struct Row: Sendable {
    let columns: RowColumns
    /// The values, in column order.
    public let values: [SQLValue]

    init(columns: RowColumns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The column names, in order.
    public var columnNames: [String] { columns.names }

    /// The raw value of a column, or `nil` when the row has no such column.
    public subscript(_ column: String) -> SQLValue? {
        columns.index(of: column).map { values[$0] }
    }

    /// The raw value at a 0-based position.
    public subscript(index index: Int) -> SQLValue {
        values[index]
    }

    /// A typed value; throws ``StorageError/typeMismatch`` or ``StorageError/columnNotFound``.
    @inlinable
    public subscript<T: SQLValueConvertible>(_ column: String, as type: T.Type) -> T {
        get throws { try decode(column, as: type) }
    }

    /// A typed value; throws ``StorageError/typeMismatch`` when the column holds another type
    /// (use an `Optional` type for nullable columns) and ``StorageError/columnNotFound``.
    ///
    /// Inlinable so that callers' concrete types specialise it: generic, it looked up `Optional<T>`'s
    /// metadata at run time on every call.
    @inlinable
    public func decode<T: SQLValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T {
        let value = try value(named: column)
        guard let decoded = T(sqlValue: value) else { throw Self.mismatch(column, value, T.self) }
        return decoded
    }

    @usableFromInline
    func value(named column: String) throws -> SQLValue {
        guard let index = columns.index(of: column) else {
            throw StorageError(.columnNotFound, "no column \"\(column)\" in the result")
        }
        return values[index]
    }

    @usableFromInline
    static func mismatch(_ column: String, _ value: SQLValue, _ type: Any.Type) -> StorageError {
        StorageError(.typeMismatch, "column \"\(column)\" holds \(value.kind), not \(type)")
    }

    /// Decodes a JSON document stored in a text column (see ``SQLValue/json(_:)``).
    public func decodeJSON<T: Decodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        let text = try decode(column, as: String.self)
        do {
            return try Self.jsonDecoder.decode(T.self, from: Data(text.utf8))
        } catch {
            throw StorageError(.typeMismatch, "column \"\(column)\" does not hold JSON for \(T.self)")
        }
    }

    /// Decodes the whole row into a `Decodable` type whose camelCase property names map to
    /// snake_case columns (`createdAt` ← `created_at`, `userID` ← `user_id`). Properties of
    /// ``SQLValueConvertible`` types (Date, UUID, Data…) convert as documented there; other nested
    /// `Decodable` types are read from JSON text.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try T(from: RowDecoder(row: self))
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.typeMismatch, "row does not decode as \(T.self)")
        }
    }

    static let jsonDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()
}

/// Column names of one result set, shared by its rows.
final class RowColumns: Sendable {
    let names: [String]
    private let exact: [String: Int]
    private let folded: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var exact: [String: Int] = [:]
        var folded: [String: Int] = [:]
        for (index, name) in names.enumerated() {
            if exact[name] == nil { exact[name] = index }
            if folded[name.lowercased()] == nil { folded[name.lowercased()] = index }
        }
        self.exact = exact
        self.folded = folded
    }

    /// Exact match first, then case-insensitive: PostgreSQL folds unquoted names to lower case.
    /// A result of a few columns is searched in order: comparing short names costs less than
    /// hashing the one asked for.
    func index(of name: String) -> Int? {
        if names.count <= 12, let index = names.firstIndex(of: name) { return index }
        return exact[name] ?? folded[name.lowercased()]
    }
}

/// `createdAt` → `created_at`, `userID` → `user_id`, `httpURLValue` → `http_url_value`.
func snakeCase(_ key: String) -> String {
    var result = ""
    let characters = Array(key)
    for (index, character) in characters.enumerated() {
        if character.isUppercase, index > 0 {
            let previous = characters[index - 1]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            if previous.isLowercase || previous.isNumber || (previous.isUppercase && (next?.isLowercase ?? false)) {
                result.append("_")
            }
        }
        result.append(contentsOf: character.lowercased())
    }
    return result
}

private struct RowDecoder: Decoder {
    let row: Row
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowKeyedContainer<Key>(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw StorageError(.typeMismatch, "a row decodes into a keyed type, not an array")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        guard row.values.count == 1 else {
            throw StorageError(.typeMismatch, "a row of \(row.values.count) columns is not a single value")
        }
        return ValueContainer(value: row.values[0], column: row.columnNames[0])
    }
}

private struct RowKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let row: Row
    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] {
        row.columnNames.compactMap { Key(stringValue: $0) }
    }

    private func column(_ key: Key) -> String {
        row.columns.index(of: key.stringValue) != nil ? key.stringValue : snakeCase(key.stringValue)
    }

    private func value(_ key: Key) throws -> (SQLValue, String) {
        let name = column(key)
        guard let value = row[name] else {
            throw StorageError(.columnNotFound, "no column \"\(name)\" in the result")
        }
        return (value, name)
    }

    func contains(_ key: Key) -> Bool { row[column(key)] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        try value(key).0 == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (value, name) = try value(key)
        return try ValueContainer(value: value, column: name).decode(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw StorageError(.typeMismatch, "nested containers are not supported; decode a JSON column instead")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw StorageError(.typeMismatch, "nested containers are not supported; decode a JSON column instead")
    }

    func superDecoder() throws -> any Decoder { RowDecoder(row: row) }
    func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(row: row) }
}

/// Decodes one column value: ``SQLValueConvertible`` types directly, single-value types such as
/// `RawRepresentable` enums through their raw value, anything else from JSON text.
private struct ValueContainer: SingleValueDecodingContainer, Decoder {
    let value: SQLValue
    let column: String
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    private func mismatch(_ type: Any.Type) -> StorageError {
        StorageError(.typeMismatch, "column \"\(column)\" holds \(value.kind), not \(type)")
    }

    private func convert<T: SQLValueConvertible>(_ type: T.Type) throws -> T {
        guard let decoded = T(sqlValue: value) else { throw mismatch(T.self) }
        return decoded
    }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .integer(let raw) = value, let exact = T(exactly: raw) else { throw mismatch(T.self) }
        return exact
    }

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try convert(Bool.self) }
    func decode(_ type: String.Type) throws -> String { try convert(String.self) }
    func decode(_ type: Double.Type) throws -> Double { try convert(Double.self) }
    func decode(_ type: Float.Type) throws -> Float { Float(try convert(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let convertible = T.self as? any SQLValueConvertible.Type {
            guard let decoded = convertible.init(sqlValue: value) as? T else { throw mismatch(T.self) }
            return decoded
        }
        do {
            return try T(from: self)
        } catch NeedsJSON.marker {
            guard case .text(let text) = value else { throw mismatch(T.self) }
            do {
                return try Row.jsonDecoder.decode(T.self, from: Data(text.utf8))
            } catch {
                throw StorageError(.typeMismatch, "column \"\(column)\" does not hold JSON for \(T.self)")
            }
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        throw NeedsJSON.marker
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NeedsJSON.marker }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
}

private enum NeedsJSON: Error { case marker }
