// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import Foundation
public import HTTPTypes

/// A value that writes its own JSON, for the few answers on the hottest routes.
///
/// `Response.json` prefers this over `Encodable` when a type has both. Going through `Encodable`
/// costs a boxed container per object, a generic-metadata look-up per container and a snake_case
/// check per key; for the tenant summary that was a sixth of a request's instructions. A type
/// that conforms must write exactly what its `Encodable` form writes (snake_case keys, ISO 8601
/// dates, absent optionals left out): keep a test that compares the two.
///
/// ```swift
/// extension Summary: JSONWritable {
///     func write(to json: inout JSONWriter) {
///         json.beginObject()
///         json.member("tenant", tenant)
///         json.member("refreshed_at", refreshedAt)
///         json.endObject()
///     }
/// }
/// ```
public protocol JSONWritable {
    func write(to json: inout JSONWriter)
}

/// Writes JSON text into one byte buffer: objects, member names given as they appear on the wire,
/// and values formatted as ``Response/json(_:status:)`` formats them.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// True right after `{`, so the next member needs no comma.
    private var atStart = true

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        atStart = true
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        atStart = false
    }

    /// Writes a member's name; the value (for example a nested object) follows.
    public mutating func key(_ name: StaticString) {
        if !atStart { bytes.append(UInt8(ascii: ",")) }
        atStart = false
        bytes.append(UInt8(ascii: "\""))
        append(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        JSONEscaping.appendString(value, to: &bytes)
    }

    public mutating func member(_ name: StaticString, _ value: Int) {
        key(name)
        JSONEscaping.appendInteger(Int64(value), to: &bytes)
    }

    public mutating func member(_ name: StaticString, _ value: Bool) {
        key(name)
        append(value ? "true" : "false")
    }

    public mutating func member(_ name: StaticString, _ value: Date) {
        key(name)
        JSONEscaping.appendDate(value, to: &bytes)
    }

    /// An optional string member, left out when `nil` as the synthesized `Encodable` leaves it out.
    public mutating func member(_ name: StaticString, _ value: String?) {
        if let value { member(name, value) }
    }
}

extension Response {
    /// A JSON response written by the value itself (``JSONWritable``), chosen over the
    /// `Encodable` overload when a type offers both.
    public static func json<T: Encodable & JSONWritable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var writer = JSONWriter()
        value.write(to: &writer)
        return Response(status: status, headers: [.contentType: "application/json"], body: .bytes(writer.bytes))
    }
}
