// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core

/// Name–value pairs decoded from a path or a query string, with typed, throwing accessors.
///
/// `require` throws a ``Core/AtlasError`` with status 400 when the value is missing or does not
/// convert, so handlers can use it without their own error mapping:
///
/// ```swift
/// let tenant = try context.parameters.require("tenant")
/// let id = try context.parameters.require("id", as: Int.self)
/// let hours = try request.query.get("hours", as: Int.self) ?? 24
/// ```
public struct Parameters: Sendable, Sequence {
    /// What the values name in error messages: "path parameter" or "query parameter".
    let kind: String
    private(set) var pairs: [(name: String, value: String)]

    init(kind: String, pairs: [(name: String, value: String)] = []) {
        self.kind = kind
        self.pairs = pairs
    }

    /// The number of pairs.
    public var count: Int { pairs.count }
    public var isEmpty: Bool { pairs.isEmpty }

    /// The first value named `name`.
    public subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every value named `name`, in order (`?tag=a&tag=b`).
    public func values(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }

    /// The value named `name`; 400 when it is absent.
    public func require(_ name: String) throws -> String {
        guard let value = self[name] else {
            throw AtlasError.badRequest("missing \(kind) `\(name)`", code: "missing_parameter")
        }
        return value
    }

    /// The value named `name` converted to `T`; 400 when it is absent or does not convert.
    public func require<T: LosslessStringConvertible>(_ name: String, as type: T.Type) throws -> T {
        let text = try require(name)
        guard let value = T(text) else {
            throw AtlasError.badRequest("\(kind) `\(name)` must be \(Self.describe(type))", code: "invalid_parameter")
        }
        return value
    }

    /// The value named `name` converted to `T`, `nil` when absent; 400 when present but invalid.
    public func get<T: LosslessStringConvertible>(_ name: String, as type: T.Type) throws -> T? {
        guard self[name] != nil else { return nil }
        return try require(name, as: type)
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        pairs.makeIterator()
    }

    mutating func append(name: String, value: String) {
        pairs.append((name, value))
    }

    static func describe<T>(_ type: T.Type) -> String {
        switch type {
        case is any FixedWidthInteger.Type: return "an integer"
        case is any BinaryFloatingPoint.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return "a valid \(type)"
        }
    }
}

/// The decoded query string of a request (`?hours=24&tenant=acme`).
public typealias QueryParameters = Parameters

extension Parameters {
    /// An empty query.
    public init() {
        self.init(kind: "query parameter")
    }

    /// Parses `application/x-www-form-urlencoded` pairs: `&`-separated, `=` between name and
    /// value, percent-decoded, `+` read as a space.
    init(parsing bytes: UnsafeRawBufferPointer, kind: String = "query parameter") {
        self.init(kind: kind)
        var start = 0
        let count = bytes.count
        while start < count {
            var end = start
            while end < count, bytes[end] != 0x26 { end += 1 }
            if end > start {
                var equals = start
                while equals < end, bytes[equals] != 0x3D { equals += 1 }
                let name = PercentDecoding.decode(UnsafeRawBufferPointer(rebasing: bytes[start..<equals]), plusAsSpace: true)
                let value = equals < end
                    ? PercentDecoding.decode(UnsafeRawBufferPointer(rebasing: bytes[(equals + 1)..<end]), plusAsSpace: true)
                    : ""
                append(name: name, value: value)
            }
            start = end + 1
        }
    }

    /// Parses a form body (`application/x-www-form-urlencoded`), e.g. OAuth2 token requests.
    public init(formEncoded body: [UInt8]) {
        self.init(kind: "form field")
        let parsed = body.withUnsafeBytes { Parameters(parsing: $0, kind: "form field") }
        self.pairs = parsed.pairs
    }
}

/// Percent-decoding (RFC 3986 §2.1). Invalid UTF-8 after decoding becomes U+FFFD, so the result
/// never matches a real identifier and the lookup that follows answers 404 rather than crashing.
enum PercentDecoding {
    static func decode(_ bytes: UnsafeRawBufferPointer, plusAsSpace: Bool) -> String {
        var needsWork = false
        for byte in bytes where byte == ByteClass.percent || (plusAsSpace && byte == 0x2B) {
            needsWork = true
            break
        }
        if !needsWork { return String(decoding: bytes, as: UTF8.self) }
        var output = [UInt8]()
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ByteClass.percent, index + 2 < bytes.count,
               let high = ByteClass.hexValue(bytes[index + 1]), let low = ByteClass.hexValue(bytes[index + 2]) {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(plusAsSpace && byte == 0x2B ? ByteClass.space : byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
