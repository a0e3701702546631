// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// One field of an incoming record before it is checked against the source's schema.
enum FieldValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    /// A nested array or object, as its JSON text.
    case json(String)
    /// A CSV cell: untyped text, converted by the column's type.
    case cell(String)

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .float: "number"
        case .string: "string"
        case .json(let text): text.hasPrefix("[") ? "array" : "object"
        case .cell: "text"
        }
    }
}

/// One record out of a parser: the line it starts on (1-based, counted in the body), and either
/// its fields or why it could not be read.
struct ParsedRecord: Sendable {
    var line: Int
    var fields: [(name: String, value: FieldValue)]
    var error: String?

    init(line: Int, fields: [(name: String, value: FieldValue)]) {
        self.line = line
        self.fields = fields
        self.error = nil
    }

    init(line: Int, error: String) {
        self.line = line
        self.fields = []
        self.error = error
    }
}

/// A small JSON reader for one record: an object whose scalar members become typed fields and
/// whose nested members are kept as JSON text. Integers stay exact 64-bit integers (JSONValue's
/// doubles would round ids above 2^53).
struct JSONRecordReader {
    struct Failure: Error {
        var detail: String
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index: Int

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        index = 0
    }

    /// Reads `bytes` as one JSON object.
    static func readObject(_ bytes: some Collection<UInt8>) throws(Failure) -> [(name: String, value: FieldValue)] {
        let array = Array(bytes)
        do {
            return try array.withUnsafeBufferPointer { buffer in
                var reader = JSONRecordReader(buffer)
                reader.skipWhitespace()
                guard reader.peek == UInt8(ascii: "{") else {
                    throw Failure(detail: reader.index < buffer.count ? "a record must be a JSON object" : "empty record")
                }
                let fields = try reader.object()
                reader.skipWhitespace()
                guard reader.index == buffer.count else { throw Failure(detail: "unexpected text after the JSON object") }
                return fields
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(detail: "invalid JSON")
        }
    }

    /// Reads a whole JSON value (any kind), for CSV cells of `json` columns; `nil` when invalid.
    static func validJSONText(_ text: String) -> Bool {
        let array = Array(text.utf8)
        return array.withUnsafeBufferPointer { buffer in
            var reader = JSONRecordReader(buffer)
            reader.skipWhitespace()
            guard (try? reader.value(depth: 0)) != nil else { return false }
            reader.skipWhitespace()
            return reader.index == buffer.count
        }
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        skipWhitespace()
        guard peek == byte else { throw Failure(detail: "invalid JSON: expected '\(Character(UnicodeScalar(byte)))' at byte \(index + 1)") }
        index += 1
    }

    private mutating func object() throws(Failure) -> [(name: String, value: FieldValue)] {
        try expect(UInt8(ascii: "{"))
        var fields: [(name: String, value: FieldValue)] = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return fields
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw Failure(detail: "invalid JSON: expected a member name at byte \(index + 1)") }
            let name = try string()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            fields.append((name, try value(depth: 1)))
            skipWhitespace()
            guard let next = peek else { throw Failure(detail: "invalid JSON: unterminated object") }
            index += 1
            if next == UInt8(ascii: "}") { return fields }
            guard next == UInt8(ascii: ",") else { throw Failure(detail: "invalid JSON: expected ',' or '}' at byte \(index)") }
        }
    }

    private mutating func value(depth: Int) throws(Failure) -> FieldValue {
        skipWhitespace()
        guard let byte = peek else { throw Failure(detail: "invalid JSON: a value is missing") }
        switch byte {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard depth < 64 else { throw Failure(detail: "invalid JSON: nested deeper than 64 levels") }
            let start = index
            try skipNested(depth: depth)
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            return .json(text)
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw Failure(detail: "invalid JSON at byte \(index + 1)") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw Failure(detail: "invalid JSON at byte \(index + 1)")
        }
        index += count
    }

    private mutating func number() throws(Failure) -> FieldValue {
        let start = index
        var isInteger = true
        if peek == UInt8(ascii: "-") { index += 1 }
        var digits = 0
        while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1; digits += 1 }
        guard digits > 0 else { throw Failure(detail: "invalid JSON: unexpected character at byte \(start + 1)") }
        if peek == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            var fraction = 0
            while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1; fraction += 1 }
            guard fraction > 0 else { throw Failure(detail: "invalid JSON: bad number at byte \(start + 1)") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            var exponent = 0
            while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1; exponent += 1 }
            guard exponent > 0 else { throw Failure(detail: "invalid JSON: bad number at byte \(start + 1)") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .int(integer) }
        guard let double = Double(text), double.isFinite else { throw Failure(detail: "invalid JSON: number out of range at byte \(start + 1)") }
        return .float(double)
    }

    private mutating func string() throws(Failure) -> String {
        index += 1
        let start = index
        var plain = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                if plain {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    guard let text = String(validating: slice, as: UTF8.self) else { throw Failure(detail: "a string is not valid UTF-8") }
                    return text
                }
                break
            }
            if byte == UInt8(ascii: "\\") { plain = false; index += 2; continue }
            if byte < 0x20 { throw Failure(detail: "invalid JSON: control character in a string at byte \(index + 1)") }
            index += 1
        }
        guard !plain else { throw Failure(detail: "invalid JSON: unterminated string") }
        // Escapes present: decode this one string with Foundation, which knows surrogate pairs.
        index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") { index += 2; continue }
            if byte == UInt8(ascii: "\"") { break }
            index += 1
        }
        guard index < bytes.count else { throw Failure(detail: "invalid JSON: unterminated string") }
        let quoted = Data(UnsafeBufferPointer(rebasing: bytes[(start - 1)...index]))
        index += 1
        guard let text = try? JSONDecoder().decode(String.self, from: quoted) else {
            throw Failure(detail: "invalid JSON: bad escape in a string")
        }
        return text
    }

    private mutating func skipNested(depth: Int) throws(Failure) {
        var level = 0
        repeat {
            guard let byte = peek else { throw Failure(detail: "invalid JSON: unterminated array or object") }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                level += 1
                guard depth + level <= 64 else { throw Failure(detail: "invalid JSON: nested deeper than 64 levels") }
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                level -= 1
                index += 1
            case UInt8(ascii: "\""):
                _ = try string()
            default:
                index += 1
            }
        } while level > 0
        // Validate the nested text by Foundation; cheap, nested values are rare in raw records.
    }
}
