// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import Tracing
import W3CTraceContext

/// Protocol Buffers wire format (protobuf.dev/programming-guides/encoding): just the field
/// kinds the OTLP trace messages use.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func uint(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(value)
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        tag(field, 0)
        varint(value ? 1 : 0)
    }

    mutating func int64(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func sfixed64(_ field: Int, _ value: Int64) { fixed64(field, UInt64(bitPattern: value)) }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, 5)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func double(_ field: Int, _ value: Double) {
        tag(field, 1)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    mutating func bytes(_ field: Int, _ value: some Collection<UInt8>) {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A 16- or 8-byte id as a `bytes` field, without an intermediate array.
    mutating func id<ID>(_ field: Int, _ id: ID) {
        withUnsafeBytes(of: id) { bytes(field, $0) }
    }

    mutating func string(_ field: Int, _ value: String, always: Bool = false) {
        guard always || !value.isEmpty else { return }
        var value = value
        value.withUTF8 { bytes(field, $0) }
    }

    /// A length-delimited field written in place: one byte is reserved for the length and the
    /// content is moved only when it turns out longer than 127 bytes.
    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        tag(field, 2)
        let lengthAt = bytes.count
        bytes.append(0)
        build(&self)
        let length = bytes.count - lengthAt - 1
        if length < 0x80 {
            bytes[lengthAt] = UInt8(length)
            return
        }
        var prefix: [UInt8] = []
        var rest = UInt64(length)
        while rest >= 0x80 {
            prefix.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        prefix.append(UInt8(rest))
        bytes.replaceSubrange(lengthAt...lengthAt, with: prefix)
    }
}

/// Encodes `ExportTraceServiceRequest` (opentelemetry-proto, collector/trace/v1) as protobuf or
/// as OTLP/JSON (opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).
enum OTLPTraceEncoder {
    static let scopeName = "atlas"

    static func kind(_ kind: SpanKind) -> Int {
        switch kind {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }

    static func protobuf(_ spans: [FinishedSpan], resource: [(key: String, value: OTLPValue)]) -> [UInt8] {
        var request = ProtoWriter()
        request.message(1) { resourceSpans in                          // ResourceSpans
            resourceSpans.message(1) { res in                           // Resource
                for attribute in resource { res.message(1) { keyValue(&$0, attribute) } }
            }
            resourceSpans.message(2) { scopeSpans in                    // ScopeSpans
                scopeSpans.message(1) { $0.string(1, scopeName) }       // InstrumentationScope
                for span in spans {
                    scopeSpans.message(2) { encode(&$0, span) }
                }
            }
        }
        return request.bytes
    }

    private static func encode(_ out: inout ProtoWriter, _ span: FinishedSpan) {
        out.id(1, span.traceID.bytes)
        out.id(2, span.spanID.bytes)
        if !span.traceStateValue.isEmpty { out.string(3, span.traceState) }
        if let parent = span.parentSpanID { out.id(4, parent.bytes) }
        if let suffix = span.nameSuffix {
            out.message(5) { name in
                var base = span.baseName
                var suffix = suffix
                base.withUTF8 { name.bytes.append(contentsOf: $0) }
                name.bytes.append(UInt8(ascii: " "))
                suffix.withUTF8 { name.bytes.append(contentsOf: $0) }
            }
        } else {
            out.string(5, span.baseName, always: true)
        }
        out.uint(6, UInt64(kind(span.kind)))
        out.fixed64(7, span.startNanos)
        out.fixed64(8, span.endNanos)
        for attribute in span.attributes { out.message(9) { keyValue(&$0, attribute) } }
        for event in span.events {
            out.message(11) { eventOut in
                eventOut.fixed64(1, event.timeNanos)
                eventOut.string(2, event.name)
                for attribute in event.attributes { eventOut.message(3) { keyValue(&$0, attribute) } }
            }
        }
        out.message(15) { status in
            status.string(2, span.statusMessage)
            status.uint(3, UInt64(span.statusCode))
        }
        out.fixed32(16, 1)  // W3C trace flags: sampled
    }

    static func keyValue(_ out: inout ProtoWriter, _ attribute: (key: String, value: OTLPValue)) {
        out.string(1, attribute.key, always: true)
        out.message(2) { anyValue(&$0, attribute.value) }
    }

    private static func anyValue(_ out: inout ProtoWriter, _ value: OTLPValue) {
        switch value {
        case .string(let text): out.string(1, text, always: true)
        case .bool(let flag): out.bool(2, flag)
        case .int(let number): out.int64(3, number)
        case .double(let number): out.double(4, number)
        case .array(let values):
            out.message(5) { array in
                for element in values { array.message(1) { anyValue(&$0, element) } }
            }
        }
    }

    static func json(_ spans: [FinishedSpan], resource: [(key: String, value: OTLPValue)]) -> [UInt8] {
        var out = "{\"resourceSpans\":[{\"resource\":{\"attributes\":"
        jsonAttributes(&out, resource)
        out += "},\"scopeSpans\":[{\"scope\":{\"name\":\"\(scopeName)\"},\"spans\":["
        for (index, span) in spans.enumerated() {
            if index > 0 { out += "," }
            out += "{\"traceId\":\"\(span.traceID)\",\"spanId\":\"\(span.spanID)\""
            if let parent = span.parentSpanID { out += ",\"parentSpanId\":\"\(parent)\"" }
            if !span.traceState.isEmpty {
                out += ",\"traceState\":"
                JSONText.appendString(span.traceState, to: &out)
            }
            out += ",\"name\":"
            JSONText.appendString(span.name, to: &out)
            out += ",\"kind\":\(kind(span.kind)),\"startTimeUnixNano\":\"\(span.startNanos)\""
            out += ",\"endTimeUnixNano\":\"\(span.endNanos)\",\"attributes\":"
            jsonAttributes(&out, span.attributes)
            out += ",\"events\":["
            for (eventIndex, event) in span.events.enumerated() {
                if eventIndex > 0 { out += "," }
                out += "{\"timeUnixNano\":\"\(event.timeNanos)\",\"name\":"
                JSONText.appendString(event.name, to: &out)
                out += ",\"attributes\":"
                jsonAttributes(&out, event.attributes)
                out += "}"
            }
            out += "],\"status\":{\"code\":\(span.statusCode)"
            if !span.statusMessage.isEmpty {
                out += ",\"message\":"
                JSONText.appendString(span.statusMessage, to: &out)
            }
            out += "}}"
        }
        out += "]}]}]}"
        return Array(out.utf8)
    }

    private static func jsonAttributes(_ out: inout String, _ attributes: [(key: String, value: OTLPValue)]) {
        out += "["
        for (index, attribute) in attributes.enumerated() {
            if index > 0 { out += "," }
            out += "{\"key\":"
            JSONText.appendString(attribute.key, to: &out)
            out += ",\"value\":"
            jsonValue(&out, attribute.value)
            out += "}"
        }
        out += "]"
    }

    private static func jsonValue(_ out: inout String, _ value: OTLPValue) {
        switch value {
        case .string(let text):
            out += "{\"stringValue\":"
            JSONText.appendString(text, to: &out)
            out += "}"
        case .bool(let flag): out += "{\"boolValue\":\(flag)}"
        case .int(let number): out += "{\"intValue\":\"\(number)\"}"
        case .double(let number): out += number.isFinite ? "{\"doubleValue\":\(number)}" : "{\"doubleValue\":\"NaN\"}"
        case .array(let values):
            out += "{\"arrayValue\":{\"values\":["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                jsonValue(&out, element)
            }
            out += "]}}"
        }
    }
}
