// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// One SQL value, as bound to a statement or read from a row.
///
/// The cases are the storage classes both backends share (sqlite.org/datatype3.html). `bool` exists
/// because PostgreSQL has a real boolean type that an integer parameter cannot be assigned to; on
/// SQLite it is stored as the integer 0 or 1, so reading it back there gives `.integer`.
/// ``Row/decode(_:as:)`` accepts either for `Bool`.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
    case bool(Bool)

    /// The storage class name, for error messages that must not show the value itself.
    public var kind: String {
        switch self {
        case .null: "null"
        case .integer: "integer"
        case .double: "double"
        case .text: "text"
        case .blob: "blob"
        case .bool: "bool"
        }
    }

    public var isNull: Bool { self == .null }

    /// A JSON document stored as text (a `TEXT` column on SQLite, `JSONB` on PostgreSQL, see
    /// ``SQLDialect/jsonType``). Keys are sorted so equal values produce equal text.
    public static func json<T: Encodable>(_ value: T) throws -> SQLValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        guard let text = String(data: try encoder.encode(value), encoding: .utf8) else {
            throw StorageError(.invalidValue, "JSON encoding did not produce UTF-8")
        }
        return .text(text)
    }
}

/// A Swift type that converts to and from ``SQLValue``, so it can be interpolated into an
/// ``SQLQuery`` as a bound parameter and decoded from a ``Row``.
///
/// Conversions (the same on both backends):
///
/// | Swift | stored as |
/// | --- | --- |
/// | `Int`, `Int64`, `Int32` | `.integer` |
/// | `Double` | `.double` (decoding also accepts `.integer`) |
/// | `String` | `.text` |
/// | `Bool` | `.bool` (SQLite stores 0/1; decoding accepts `.integer` 0 or 1) |
/// | `[UInt8]`, `Data` | `.blob` |
/// | `Date` | `.integer`: milliseconds since 1970-01-01T00:00:00Z (sub-millisecond precision is dropped) |
/// | `UUID` | `.text`, lower-case |
/// | `Optional<T>` | `.null` when `nil` |
public protocol SQLValueConvertible: Sendable {
    /// The value to bind.
    var sqlValue: SQLValue { get }
    /// Decodes a value; `nil` when the stored value has another type.
    init?(sqlValue: SQLValue)
}

extension SQLValue: SQLValueConvertible {
    public var sqlValue: SQLValue { self }
    public init?(sqlValue: SQLValue) { self = sqlValue }
}

extension Int64: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self) }
    public init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Int: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue, let exact = Int(exactly: value) else { return nil }
        self = exact
    }
}

extension Int32: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public init?(sqlValue: SQLValue) {
        guard case .integer(let value) = sqlValue, let exact = Int32(exactly: value) else { return nil }
        self = exact
    }
}

extension Double: SQLValueConvertible {
    public var sqlValue: SQLValue { .double(self) }
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .double(let value): self = value
        case .integer(let value): self = Double(value)
        default: return nil
        }
    }
}

extension String: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(self) }
    public init?(sqlValue: SQLValue) {
        guard case .text(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Bool: SQLValueConvertible {
    public var sqlValue: SQLValue { .bool(self) }
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .bool(let value): self = value
        case .integer(0): self = false
        case .integer(1): self = true
        default: return nil
        }
    }
}

extension Array: SQLValueConvertible where Element == UInt8 {
    public var sqlValue: SQLValue { .blob(self) }
    public init?(sqlValue: SQLValue) {
        guard case .blob(let value) = sqlValue else { return nil }
        self = value
    }
}

extension Data: SQLValueConvertible {
    public var sqlValue: SQLValue { .blob([UInt8](self)) }
    public init?(sqlValue: SQLValue) {
        guard case .blob(let value) = sqlValue else { return nil }
        self = Data(value)
    }
}

extension Date: SQLValueConvertible {
    /// Milliseconds since the Unix epoch, rounded down, so dates sort and compare as integers in SQL
    /// on both backends (see ``SQLDialect/currentTimeMillis``).
    public var sqlValue: SQLValue { .integer(Int64((timeIntervalSince1970 * 1000).rounded(.down))) }
    public init?(sqlValue: SQLValue) {
        guard case .integer(let millis) = sqlValue else { return nil }
        self = Date(timeIntervalSince1970: Double(millis) / 1000)
    }
}

extension UUID: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(uuidString.lowercased()) }
    public init?(sqlValue: SQLValue) {
        guard case .text(let text) = sqlValue, let value = UUID(uuidString: text) else { return nil }
        self = value
    }
}

extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
    public init?(sqlValue: SQLValue) {
        if case .null = sqlValue {
            self = .none
            return
        }
        guard let value = Wrapped(sqlValue: sqlValue) else { return nil }
        self = .some(value)
    }
}
