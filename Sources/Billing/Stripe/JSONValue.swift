// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A JSON document of unknown shape, for Stripe payloads: Atlas reads the few fields it needs and
/// stores the rest untouched.
enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    subscript(_ key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    subscript(_ index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    /// A non-empty string.
    var string: String? {
        if case .string(let value) = self, !value.isEmpty { return value }
        return nil
    }

    /// An integer number (Stripe timestamps and amounts are integers).
    var int64: Int64? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 9.0e15 { return Int64(value) }
        return nil
    }

    /// Stripe expands some references into objects; the id is then the object's `id`.
    var idReference: String? {
        string ?? self["id"]?.string
    }
}
