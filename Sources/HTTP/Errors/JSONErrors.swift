// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Turns `DecodingError`s into client-facing problems that name the field in the API's own
/// snake_case spelling, e.g. `tokens_delta: expected an integer`.
enum JSONErrors {
    struct Mapped {
        var status: Int
        var code: String
        var detail: String
    }

    static func problem(for error: DecodingError) -> Mapped {
        switch error {
        case .typeMismatch(let type, let context):
            return Mapped(status: 422, code: "invalid_field", detail: "\(path(context.codingPath)): expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return Mapped(status: 422, code: "invalid_field", detail: "\(path(context.codingPath)): expected \(describe(type)), got null")
        case .keyNotFound(let key, let context):
            return Mapped(status: 422, code: "missing_field", detail: "\(path(context.codingPath + [key])): required field is missing")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return Mapped(status: 400, code: "malformed_json", detail: "the request body is not valid JSON")
            }
            return Mapped(status: 422, code: "invalid_field", detail: "\(path(context.codingPath)): invalid value")
        @unknown default:
            return Mapped(status: 400, code: "malformed_json", detail: "the request body could not be decoded")
        }
    }

    /// `items[0].tokens_delta` from a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        guard !codingPath.isEmpty else { return "body" }
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                if !text.isEmpty { text += "." }
                text += snakeCase(key.stringValue)
            }
        }
        return text
    }

    /// `tokensDelta` → `tokens_delta`; already-snake names pass unchanged.
    static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                if !result.isEmpty { result += "_" }
                result += character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is any FixedWidthInteger.Type: return "an integer"
        case is any BinaryFloatingPoint.Type, is Decimal.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") || name.hasPrefix("[") { return "an array" }
            return "an object"
        }
    }
}
