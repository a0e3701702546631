// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import Tracing
import W3CTraceContext
import HTTP
import HTTPTypes

/// Protocol Buffers wire format (protobuf.dev/programming-guides/encoding): just the field
/// kinds the OTLP messages use.
///
/// Bytes are written into zero-filled room kept ahead of ``count`` and stored by index; appending
/// to the array one field (or one byte) at a time cost several times the encoding itself.
struct ProtoWriter {
    /// The buffer: the message is its first ``count`` bytes, the rest is room to write into.
    private var storage: [UInt8] = []
    private(set) var count = 0

    init(capacity: Int = 256) {
        storage = [UInt8](repeating: 0, count: max(capacity, 16))
    }

    /// The encoded message.
    var bytes: [UInt8] { Array(storage[0..<count]) }

    /// Empties the writer, keeping its buffer.
    mutating func removeAll() { count = 0 }

    /// Calls `body` with the message's bytes.
    func withMessage<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// Copies another writer's message in.
    mutating func append(_ other: ProtoWriter) {
        other.storage.withUnsafeBytes { raw(UnsafeRawBufferPointer(rebasing: $0[0..<other.count])) }
    }

    /// The messages of `first`, `second` and `third` one after another, copied once each.
    static func join(_ first: ProtoWriter, _ second: ProtoWriter, _ third: ProtoWriter?) -> [UInt8] {
        let total = first.count + second.count + (third?.count ?? 0)
        return [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            var at = 0
            for part in [first, second, third] {
                guard let part else { continue }
                part.storage.withUnsafeBufferPointer { source in
                    guard part.count > 0 else { return }
                    // Raw, so it is one `memcpy`: the typed `initialize(from:count:)` went a
                    // byte at a time.
                    UnsafeMutableRawPointer(out.baseAddress! + at).copyMemory(from: source.baseAddress!, byteCount: part.count)
                }
                at += part.count
            }
            initialized = total
        }
    }

    /// Makes room for at least `extra` more bytes.
    private mutating func ensure(_ extra: Int) {
        let needed = count + extra
        guard needed > storage.count else { return }
        storage.append(contentsOf: repeatElement(0, count: max(needed - storage.count, storage.count)))
    }

    /// Writes through a pointer to room for `bound` bytes; `body` returns how many it wrote.
    mutating func write(bound: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        ensure(bound)
        let at = count
        let written = storage.withUnsafeMutableBufferPointer { body($0.baseAddress! + at) }
        count += written
    }

    mutating func byte(_ value: UInt8) {
        write(bound: 1) { $0.pointee = value; return 1 }
    }

    mutating func varint(_ value: UInt64) {
        write(bound: 10) { Self.putVarint(value, at: $0) }
    }

    @inline(__always)
    static func putVarint(_ value: UInt64, at pointer: UnsafeMutablePointer<UInt8>) -> Int {
        var value = value
        var index = 0
        while value >= 0x80 {
            pointer[index] = UInt8(truncatingIfNeeded: value) | 0x80
            value >>= 7
            index += 1
        }
        pointer[index] = UInt8(value)
        return index + 1
    }

    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func uint(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(value)
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        tag(field, 0)
        byte(value ? 1 : 0)
    }

    mutating func int64(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    private mutating func little(_ value: UInt64, bytes: Int) {
        write(bound: bytes) { pointer in
            for index in 0..<bytes { pointer[index] = UInt8(truncatingIfNeeded: value >> UInt64(8 * index)) }
            return bytes
        }
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        write(bound: 18) { pointer in
            let index = Self.putVarint(UInt64(field) << 3 | 1, at: pointer)
            UnsafeMutableRawPointer(pointer + index).storeBytes(of: value.littleEndian, as: UInt64.self)
            return index + 8
        }
    }

    mutating func sfixed64(_ field: Int, _ value: Int64) { fixed64(field, UInt64(bitPattern: value)) }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, 5)
        little(UInt64(value), bytes: 4)
    }

    mutating func double(_ field: Int, _ value: Double) {
        tag(field, 1)
        little(value.bitPattern, bytes: 8)
    }

    /// Raw bytes, copied in one piece.
    mutating func raw(_ value: UnsafeRawBufferPointer) {
        guard let source = value.baseAddress, !value.isEmpty else { return }
        write(bound: value.count) { pointer in
            UnsafeMutableRawPointer(pointer).copyMemory(from: source, byteCount: value.count)
            return value.count
        }
    }

    /// A string's UTF-8, copied in one piece.
    mutating func raw(_ text: String) {
        var text = text
        text.withUTF8 { raw(UnsafeRawBufferPointer($0)) }
    }

    /// A `bytes` (or string) field: tag, length and content written in one step.
    mutating func bytes(_ field: Int, _ value: UnsafeRawBufferPointer) {
        write(bound: 20 + value.count) { pointer in
            var index = Self.putVarint(UInt64(field) << 3 | 2, at: pointer)
            index += Self.putVarint(UInt64(value.count), at: pointer + index)
            if let source = value.baseAddress {
                UnsafeMutableRawPointer(pointer + index).copyMemory(from: source, byteCount: value.count)
            }
            return index + value.count
        }
    }

    /// A 16- or 8-byte id as a `bytes` field, without an intermediate array.
    mutating func id<ID>(_ field: Int, _ id: ID) {
        withUnsafeBytes(of: id) { bytes(field, $0) }
    }

    mutating func string(_ field: Int, _ value: String, always: Bool = false) {
        guard always || !value.isEmpty else { return }
        var value = value
        value.withUTF8 { bytes(field, UnsafeRawBufferPointer($0)) }
    }

    /// How many bytes `varint(value)` writes.
    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// A `KeyValue` field with a string `AnyValue`, its lengths worked out up front and the
    /// whole field written in one step: the request span's attributes on every traced request.
    mutating func stringAttribute(_ field: Int, _ key: String, _ value: String) {
        var key = key
        var value = value
        key.withUTF8 { key in
            value.withUTF8 { text in
                keyValue(field, key, anyValueCount: Self.stringValueLength(text.count)) { pointer in
                    var index = Self.putStringValueHead(text.count, at: pointer)
                    if let source = text.baseAddress {
                        UnsafeMutableRawPointer(pointer + index).copyMemory(from: source, byteCount: text.count)
                        index += text.count
                    }
                    return index
                }
            }
        }
    }

    /// A `KeyValue` field with an integer `AnyValue`.
    mutating func intAttribute(_ field: Int, _ key: String, _ value: Int64) {
        let number = UInt64(bitPattern: value)
        var key = key
        key.withUTF8 { key in
            keyValue(field, key, anyValueCount: Self.intValueLength(number)) { Self.putIntValue(number, at: $0) }
        }
    }

    /// A `KeyValue` field: tag, length, key, and the `AnyValue` of `anyValueCount` bytes that
    /// `value` writes.
    private mutating func keyValue(_ field: Int, _ key: UnsafeBufferPointer<UInt8>, anyValueCount: Int,
                                   _ value: (UnsafeMutablePointer<UInt8>) -> Int) {
        write(bound: 20 + Self.keyValueLength(keyCount: key.count, anyValueCount: anyValueCount)) { pointer in
            let index = Self.putKeyValueHead(field, key: key.baseAddress, keyCount: key.count, anyValueCount: anyValueCount,
                                             at: pointer)
            return index + value(pointer + index)
        }
    }

    // MARK: Attribute layout, shared by the writer above and `SpanCursor`

    /// An `AnyValue` holding a string of `count` bytes: tag, length, bytes.
    @inline(__always)
    static func stringValueLength(_ count: Int) -> Int { 1 + varintSize(UInt64(count)) + count }

    /// An `AnyValue` holding an integer.
    @inline(__always)
    static func intValueLength(_ value: UInt64) -> Int { 1 + varintSize(value) }

    /// A `KeyValue` message: the key as field 1, the `AnyValue` as field 2.
    @inline(__always)
    static func keyValueLength(keyCount: Int, anyValueCount: Int) -> Int {
        1 + varintSize(UInt64(keyCount)) + keyCount + 1 + varintSize(UInt64(anyValueCount)) + anyValueCount
    }

    /// A field of `field` (below 16, so a one-byte tag) holding a message of `length` bytes.
    @inline(__always)
    static func fieldSize(_ length: Int) -> Int { 1 + varintSize(UInt64(length)) + length }

    /// Writes a `KeyValue` field up to its `AnyValue`'s content: tag, length, key, value tag and
    /// length; returns the bytes written.
    @inline(__always)
    static func putKeyValueHead(_ field: Int, key: UnsafePointer<UInt8>?, keyCount: Int, anyValueCount: Int,
                                at pointer: UnsafeMutablePointer<UInt8>) -> Int {
        var index = putVarint(UInt64(field) << 3 | 2, at: pointer)
        index += putVarint(UInt64(keyValueLength(keyCount: keyCount, anyValueCount: anyValueCount)), at: pointer + index)
        pointer[index] = 0x0A                                            // KeyValue.key
        index += 1
        index += putVarint(UInt64(keyCount), at: pointer + index)
        if let key { (pointer + index).update(from: key, count: keyCount) }
        index += keyCount
        pointer[index] = 0x12                                            // KeyValue.value
        index += 1
        return index + putVarint(UInt64(anyValueCount), at: pointer + index)
    }

    /// Writes a string `AnyValue`'s tag and length; the bytes follow.
    @inline(__always)
    static func putStringValueHead(_ count: Int, at pointer: UnsafeMutablePointer<UInt8>) -> Int {
        pointer[0] = 0x0A                                                // AnyValue.string_value
        return 1 + putVarint(UInt64(count), at: pointer + 1)
    }

    /// Writes an integer `AnyValue`.
    @inline(__always)
    static func putIntValue(_ value: UInt64, at pointer: UnsafeMutablePointer<UInt8>) -> Int {
        pointer[0] = 0x18                                                // AnyValue.int_value
        return 1 + putVarint(value, at: pointer + 1)
    }

    /// A length-delimited field written in place. `reserve` bytes are kept for the length; when
    /// the content's length fits them it is written as a varint of exactly that many bytes (a
    /// padded varint, `0x85 0x01` for 133, which every protobuf parser reads), else the content
    /// is moved to make room. Spans (a few hundred bytes) reserve two, whole batches four, so
    /// nothing is moved on the common path.
    mutating func message(_ field: Int, reserve: Int = 1, _ build: (inout ProtoWriter) -> Void) {
        tag(field, 2)
        let lengthAt = count
        write(bound: reserve) { _ in reserve }
        build(&self)
        let length = count - lengthAt - reserve
        if length < 1 << (7 * reserve) {
            var rest = length
            for index in 0..<reserve {
                storage[lengthAt + index] = UInt8(truncatingIfNeeded: rest & 0x7F) | (index < reserve - 1 ? 0x80 : 0)
                rest >>= 7
            }
            return
        }
        var prefix = [UInt8](repeating: 0, count: 10)
        let prefixCount = prefix.withUnsafeMutableBufferPointer { Self.putVarint(UInt64(length), at: $0.baseAddress!) }
        storage.replaceSubrange(lengthAt..<(lengthAt + reserve), with: prefix[0..<prefixCount])
        count += prefixCount - reserve
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

    /// An `ExportTraceServiceRequest` carrying `batch` (already encoded `ScopeSpans.spans`): the
    /// few bytes of envelope, then the batch copied once.
    static func protobuf(_ batch: SpanBatch, resource: [(key: String, value: OTLPValue)]) -> [UInt8] {
        let batch = finish(batch)
        var resourceField = ProtoWriter(capacity: 128)                   // ResourceSpans.resource
        resourceField.message(1) { res in
            for attribute in resource { res.message(1) { keyValue(&$0, attribute) } }
        }
        var scopeField = ProtoWriter(capacity: 32)                       // ScopeSpans.scope
        scopeField.message(1) { $0.string(1, scopeName) }
        let scopeSpans = scopeField.count + batch.encoded.count
        let resourceSpans = resourceField.count + 1 + ProtoWriter.varintSize(UInt64(scopeSpans)) + scopeSpans
        var head = ProtoWriter(capacity: 64 + resourceField.count + scopeField.count)
        head.tag(1, 2)                                                   // ResourceSpans
        head.varint(UInt64(resourceSpans))
        head.append(resourceField)
        head.tag(2, 2)                                                   // ScopeSpans
        head.varint(UInt64(scopeSpans))
        head.append(scopeField)
        return ProtoWriter.join(head, batch.encoded, nil)
    }

    /// Appends an ended span as a `ScopeSpans.spans` field. The span's lock is held: everything
    /// is read in place, nothing copied out first.
    static func appendProtobuf(_ span: AtlasSpan, _ statePointer: UnsafePointer<AtlasSpan.State>, endNanos: UInt64,
                               to out: inout ProtoWriter) {
        // Through a pointer: a closure capturing the state copied it.
        out.message(2, reserve: 2) { out in
            let state = statePointer
            let trace = span.traceContext
            out.id(1, trace.traceID.bytes)
            out.id(2, trace.spanID.bytes)
            if !trace.state.isEmpty { out.string(3, traceState(trace)) }
            if let parent = span.parentSpanID { out.id(4, parent.bytes) }
            out.string(5, state.pointee.name, always: true)
            out.uint(6, UInt64(kind(span.kind)))
            out.fixed64(7, span.startNanos)
            out.fixed64(8, endNanos)
            // Attributes set through the tracing API, written as they are iterated: strings and
            // integers directly, the rest through `OTLPValue`.
            var written = 0
            state.pointee.attributes.forEach { key, attribute in
                guard written < 128 else { return }
                written += 1
                switch attribute {
                case .string(let text): out.stringAttribute(9, key, text)
                case .int64(let number): out.intAttribute(9, key, number)
                case .int32(let number): out.intAttribute(9, key, Int64(number))
                default: out.message(9) { keyValue(&$0, (key, OTLPValue(attribute))) }
                }
            }
            for event in state.pointee.events {
                out.message(11) { eventOut in
                    eventOut.fixed64(1, event.timeNanos)
                    eventOut.string(2, event.name)
                    for attribute in event.attributes { eventOut.message(3) { keyValue(&$0, attribute) } }
                }
            }
            out.message(15) { status in
                status.string(2, state.pointee.status?.message ?? "")
                status.uint(3, UInt64(statusCode(state.pointee.status)))
            }
            out.fixed32(16, 1)  // W3C trace flags: sampled
        }
    }

    /// The tag of a request span recorded as its raw fields (``appendRequestRecord(_:_:_:method:to:)``)
    /// in a batch of encoded spans: not a field number and wire type a batch otherwise holds
    /// (every span there is field 2, length-delimited, tag 0x12).
    static let requestRecordTag: UInt8 = 0xFF
    /// A request record's fixed part: ids and times, status, counts of its byte strings.
    static let requestRecordHead = 48 + 4 + 20

    /// Records a request's server span in the batch as its raw fields — ids, times, status and
    /// the bytes of method, path, route, tenant, request id and `tracestate` — for the exporter
    /// to encode (``finish(_:)``). The event loop ends most traced requests; copying the fields
    /// costs it about half of encoding them, and the exporter's thread does the rest.
    static func appendRequestRecord(_ trace: RequestTrace, _ request: Request, _ fields: UnsafePointer<RequestSpanEnd>,
                                    method: StaticString, to out: inout ProtoWriter) {
        let route = fields.pointee.route, tenant = fields.pointee.tenant, requestID = fields.pointee.requestID
        let traceState = fields.pointee.traceState
        let pathCount = request.withPathBytes { $0.count }
        let routeCount = route?.utf8.count ?? 0, tenantCount = tenant?.utf8.count ?? 0
        let requestIDCount = requestID?.utf8.count ?? 0, traceStateCount = traceState?.utf8.count ?? 0
        let length = requestRecordHead + method.utf8CodeUnitCount + pathCount + routeCount + tenantCount + requestIDCount + traceStateCount
        let total = 5 + length
        out.write(bound: total) { start in
            var cursor = SpanCursor(at: start)
            cursor.byte(requestRecordTag)
            cursor.little32(UInt32(length))
            cursor.little(trace.traceHigh); cursor.little(trace.traceLow); cursor.little(trace.spanID); cursor.little(trace.parentSpanID)
            cursor.little(trace.startNanos); cursor.little(fields.pointee.endNanos)
            cursor.little16(UInt16(clamping: fields.pointee.status))
            cursor.byte(UInt8(method.utf8CodeUnitCount))
            cursor.byte((route == nil ? 0 : 1) | (tenant == nil ? 0 : 2) | (requestID == nil ? 0 : 4))
            cursor.little32(UInt32(pathCount)); cursor.little32(UInt32(routeCount)); cursor.little32(UInt32(tenantCount))
            cursor.little32(UInt32(requestIDCount)); cursor.little32(UInt32(traceStateCount))
            cursor.text(method)
            request.withPathBytes { cursor.bytes($0) }
            if let route { cursor.text(route) }
            if let tenant { cursor.text(tenant) }
            if let requestID { cursor.text(requestID) }
            if let traceState { cursor.text(traceState) }
            precondition(cursor.position - start == total, "request record size miscounted")
            return total
        }
    }

    /// Encodes a batch's request records (``appendRequestRecord(_:_:_:method:to:)``) as spans,
    /// keeping its encoded spans as they are; a batch without records is returned unchanged.
    static func finish(_ batch: SpanBatch) -> SpanBatch {
        guard batch.records > 0 else { return batch }
        // A span takes about 100 bytes more than its record (keys and framing).
        var out = ProtoWriter(capacity: batch.encoded.count + batch.records * 160 + 64)
        batch.encoded.withMessage { all in
            var index = 0
            while index < all.count {
                if all[index] == requestRecordTag {
                    let length = Int(UInt32(littleEndian: all.loadUnaligned(fromByteOffset: index + 1, as: UInt32.self)))
                    appendRequestSpan(record: UnsafeRawBufferPointer(rebasing: all[(index + 5)..<(index + 5 + length)]), to: &out)
                    index += 5 + length
                } else {
                    // An encoded span: tag 0x12, a varint length, the span.
                    var end = index + 1
                    var length = 0, shift = 0
                    while true {
                        let byte = all[end]
                        end += 1
                        length |= Int(byte & 0x7F) << shift
                        shift += 7
                        if byte < 0x80 { break }
                    }
                    out.raw(UnsafeRawBufferPointer(rebasing: all[index..<(end + length)]))
                    index = end + length
                }
            }
        }
        return SpanBatch(encoded: out, count: batch.count)
    }

    /// Appends a request's server span from its record, named `METHOD route`, with the
    /// semantic-convention attributes (opentelemetry.io/docs/specs/semconv/http/http-spans)
    /// `http.request.method`, `url.path`, `http.response.status_code`, `http.route`,
    /// `atlas.tenant` and `atlas.request_id`; a 5xx answer is an error. The exact size is worked
    /// out first and every byte written through one pointer after a single capacity check.
    static func appendRequestSpan(record: UnsafeRawBufferPointer, to out: inout ProtoWriter) {
        func word(_ offset: Int) -> UInt64 { UInt64(littleEndian: record.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        func count(_ offset: Int) -> Int { Int(UInt32(littleEndian: record.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
        let (traceHigh, traceLow, spanID, parentSpanID, startNanos, endNanos) = (word(0), word(8), word(16), word(24), word(32), word(40))
        let status = Int(UInt16(littleEndian: record.loadUnaligned(fromByteOffset: 48, as: UInt16.self)))
        let present = record[51]
        var at = requestRecordHead
        func take(_ count: Int) -> UnsafeRawBufferPointer {
            defer { at += count }
            return UnsafeRawBufferPointer(rebasing: record[at..<(at + count)])
        }
        let method = take(Int(record[50])), path = take(count(52))
        let route = present & 1 == 0 ? nil : take(count(56))
        let tenant = present & 2 == 0 ? nil : take(count(60))
        let requestID = present & 4 == 0 ? nil : take(count(64))
        let traceState = take(count(68))
        let httpStatus = UInt64(bitPattern: Int64(status))
        let frame = SpanFrame(traceHigh: traceHigh, traceLow: traceLow, spanID: spanID, parentSpanID: parentSpanID,
                              traceState: traceState, nameCount: method.count + (route.map { 1 + $0.count } ?? 0), kind: .server,
                              startNanos: startNanos, endNanos: endNanos, failed: status >= 500)
        var attributes = SpanCursor.stringAttributeLength("http.request.method", method.count)
        attributes += SpanCursor.stringAttributeLength("url.path", path.count)
        attributes += ProtoWriter.fieldSize(ProtoWriter.keyValueLength(keyCount: SpanCursor.statusCodeKey.utf8CodeUnitCount,
                                                                       anyValueCount: ProtoWriter.intValueLength(httpStatus)))
        if let route { attributes += SpanCursor.stringAttributeLength("http.route", route.count) }
        if let tenant { attributes += SpanCursor.stringAttributeLength("atlas.tenant", tenant.count) }
        if let requestID { attributes += SpanCursor.stringAttributeLength("atlas.request_id", requestID.count) }
        frame.write(attributes: attributes, to: &out) { cursor in
            cursor.bytes(method)
            if let route {
                cursor.byte(UInt8(ascii: " "))
                cursor.bytes(route)
            }
        } attributes: { cursor in
            cursor.bytesAttribute("http.request.method", method)
            cursor.bytesAttribute("url.path", path)
            cursor.intAttribute(SpanCursor.statusCodeKey, httpStatus)
            if let route { cursor.bytesAttribute("http.route", route) }
            if let tenant { cursor.bytesAttribute("atlas.tenant", tenant) }
            if let requestID { cursor.bytesAttribute("atlas.request_id", requestID) }
        }
    }

    /// Appends a span given as values — in protobuf, or as an OTLP/JSON object after a comma
    /// unless it is `first` — for spans written without a fast path of their own (OTLP/JSON, a
    /// failed query). `failed` sets the error status.
    static func appendSpan(trace: TraceContext, parent: UInt64, name: String, kind spanKind: SpanKind, startNanos: UInt64,
                           endNanos: UInt64, attributes: [(key: String, value: OTLPValue)], events: [SpanEventRecord],
                           failed: Bool, json: Bool, to out: inout ProtoWriter, first: Bool) {
        let parentID = parent == 0 ? nil : SpanID(word: parent)
        if json {
            out.raw(jsonSpan(trace: trace, parent: parentID, name: name, kind: spanKind, startNanos: startNanos, endNanos: endNanos,
                             attributes: attributes, events: events, status: failed ? SpanStatus(code: .error) : nil, first: first))
            return
        }
        out.message(2, reserve: 2) { out in
            out.id(1, trace.traceID.bytes)
            out.id(2, trace.spanID.bytes)
            if !trace.state.isEmpty { out.string(3, traceState(trace)) }
            if let parentID { out.id(4, parentID.bytes) }
            out.string(5, name, always: true)
            out.uint(6, UInt64(kind(spanKind)))
            out.fixed64(7, startNanos)
            out.fixed64(8, endNanos)
            for attribute in attributes { out.message(9) { keyValue(&$0, attribute) } }
            for event in events {
                out.message(11) { eventOut in
                    eventOut.fixed64(1, event.timeNanos)
                    eventOut.string(2, event.name)
                    for attribute in event.attributes { eventOut.message(3) { keyValue(&$0, attribute) } }
                }
            }
            out.message(15) { status in status.uint(3, failed ? 2 : 0) }
            out.fixed32(16, 1)  // W3C trace flags: sampled
        }
    }

    /// Appends a storage query's client span that succeeded, under a parent without a
    /// `tracestate`, sized first and written through one pointer, as
    /// ``appendRequestSpan(record:to:)`` does.
    static func appendQuerySpan(_ span: UnsafePointer<QuerySpan>, endNanos: UInt64, to out: inout ProtoWriter) {
        let name = span.pointee.name
        let frame = SpanFrame(traceHigh: span.pointee.traceHigh, traceLow: span.pointee.traceLow, spanID: span.pointee.spanID,
                              parentSpanID: span.pointee.parentSpanID, traceState: UnsafeRawBufferPointer(start: nil, count: 0),
                              nameCount: name.utf8CodeUnitCount, kind: .client, startNanos: span.pointee.startNanos,
                              endNanos: endNanos, failed: false)
        var attributes = SpanCursor.stringAttributeLength("db.system.name", span.pointee.system.utf8CodeUnitCount)
        attributes += SpanCursor.stringAttributeLength("db.operation.name", span.pointee.operation.utf8CodeUnitCount)
        if let tenant = span.pointee.tenant { attributes += SpanCursor.stringAttributeLength("atlas.tenant", tenant.utf8.count) }
        frame.write(attributes: attributes, to: &out) { cursor in
            cursor.text(name)
        } attributes: { cursor in
            cursor.stringAttribute("db.system.name", span.pointee.system)
            cursor.stringAttribute("db.operation.name", span.pointee.operation)
            if let tenant = span.pointee.tenant { cursor.stringAttribute("atlas.tenant", tenant) }
        }
    }

    /// OTLP `Status.StatusCode`: 0 unset, 1 ok, 2 error.
    static func statusCode(_ status: SpanStatus?) -> Int {
        status.map { $0.code == .ok ? 1 : 2 } ?? 0
    }

    /// The W3C `tracestate` header value, empty when there is none.
    static func traceState(_ trace: TraceContext) -> String {
        trace.traceStateHeaderValue ?? ""
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

    /// An OTLP/JSON `ExportTraceServiceRequest` carrying `batch` (comma-separated span objects).
    static func json(_ batch: SpanBatch, resource: [(key: String, value: OTLPValue)]) -> [UInt8] {
        var head = "{\"resourceSpans\":[{\"resource\":{\"attributes\":"
        jsonAttributes(&head, resource)
        head += "},\"scopeSpans\":[{\"scope\":{\"name\":\"\(scopeName)\"},\"spans\":["
        var start = ProtoWriter(capacity: head.utf8.count)
        start.raw(head)
        var end = ProtoWriter(capacity: 16)
        end.raw("]}]}]}")
        return ProtoWriter.join(start, batch.encoded, end)
    }

    /// Appends an ended span as an OTLP/JSON `Span` object, after a comma unless it is `first`.
    static func appendJSON(_ span: AtlasSpan, _ state: AtlasSpan.State, endNanos: UInt64, to writer: inout ProtoWriter,
                           first: Bool) {
        // Not on a hot path (OTLP/JSON is for debugging collectors): values, not pointers.
        writer.raw(jsonSpan(trace: span.traceContext, parent: span.parentSpanID, name: state.name, kind: span.kind,
                            startNanos: span.startNanos, endNanos: endNanos, attributes: OTLPValue.attributes(state.attributes),
                            events: state.events, status: state.status, first: first))
    }

    /// Appends a request's server span through ``appendSpan(trace:parent:name:kind:startNanos:endNanos:attributes:events:failed:json:to:first:)``:
    /// as OTLP/JSON, or in protobuf for a method without a static name.
    static func appendRequestSpanValues(_ trace: RequestTrace, _ request: Request, _ fields: UnsafePointer<RequestSpanEnd>, json: Bool,
                                        to out: inout ProtoWriter, first: Bool) {
        let method = request.method.rawValue
        let status = fields.pointee.status
        var attributes: [(key: String, value: OTLPValue)] = [
            ("http.request.method", .string(method)), ("url.path", .string(request.path)),
            ("http.response.status_code", .int(Int64(status))),
        ]
        if let route = fields.pointee.route { attributes.append(("http.route", .string(route))) }
        if let tenant = fields.pointee.tenant { attributes.append(("atlas.tenant", .string(tenant))) }
        if let requestID = fields.pointee.requestID { attributes.append(("atlas.request_id", .string(requestID))) }
        appendSpan(trace: trace.traceContext(state: fields.pointee.traceState), parent: trace.parentSpanID,
                   name: fields.pointee.route.map { "\(method) \($0)" } ?? method, kind: .server, startNanos: trace.startNanos,
                   endNanos: fields.pointee.endNanos, attributes: attributes, events: [], failed: status >= 500, json: json,
                   to: &out, first: first)
    }

    private static func jsonSpan(trace: TraceContext, parent: SpanID?, name: String, kind spanKind: SpanKind, startNanos: UInt64,
                                 endNanos: UInt64, attributes: [(key: String, value: OTLPValue)], events: [SpanEventRecord],
                                 status: SpanStatus?, first: Bool) -> String {
        var out = first ? "" : ","
        out += "{\"traceId\":\"\(trace.traceID)\",\"spanId\":\"\(trace.spanID)\""
        if let parent { out += ",\"parentSpanId\":\"\(parent)\"" }
        let traceState = traceState(trace)
        if !traceState.isEmpty {
            out += ",\"traceState\":"
            JSONText.appendString(traceState, to: &out)
        }
        out += ",\"name\":"
        JSONText.appendString(name, to: &out)
        out += ",\"kind\":\(kind(spanKind)),\"startTimeUnixNano\":\"\(startNanos)\""
        out += ",\"endTimeUnixNano\":\"\(endNanos)\",\"attributes\":"
        jsonAttributes(&out, attributes)
        out += ",\"events\":["
        for (eventIndex, event) in events.enumerated() {
            if eventIndex > 0 { out += "," }
            out += "{\"timeUnixNano\":\"\(event.timeNanos)\",\"name\":"
            JSONText.appendString(event.name, to: &out)
            out += ",\"attributes\":"
            jsonAttributes(&out, event.attributes)
            out += "}"
        }
        out += "],\"status\":{\"code\":\(statusCode(status))"
        if let message = status?.message, !message.isEmpty {
            out += ",\"message\":"
            JSONText.appendString(message, to: &out)
        }
        out += "}}"
        return out
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

/// What every span written through a ``SpanCursor`` has besides its attributes: ids, the
/// parent's `tracestate`, name, kind, times, status and flags. It sizes the span and writes it
/// around the name and attributes the caller writes, in one pass after one capacity check.
struct SpanFrame {
    var traceHigh: UInt64
    var traceLow: UInt64
    var spanID: UInt64
    /// 0 for a root span.
    var parentSpanID: UInt64
    /// Empty when there is none.
    var traceState: UnsafeRawBufferPointer
    var nameCount: Int
    var kind: SpanKind
    var startNanos: UInt64
    var endNanos: UInt64
    /// Sets the error status.
    var failed: Bool

    /// Appends the span as a `ScopeSpans.spans` field; `attributes` is the size of what
    /// `writeAttributes` writes, and `writeName` writes `nameCount` bytes.
    @inline(__always)
    func write(attributes: Int, to out: inout ProtoWriter, name writeName: (inout SpanCursor) -> Void,
               attributes writeAttributes: (inout SpanCursor) -> Void) {
        var length = 18 + 10 + (parentSpanID == 0 ? 0 : 10) + ProtoWriter.fieldSize(nameCount) + 2 + 9 + 9
        if !traceState.isEmpty { length += ProtoWriter.fieldSize(traceState.count) }
        length += attributes + 2 + (failed ? 2 : 0) + 6
        let total = ProtoWriter.fieldSize(length)
        out.write(bound: total) { start in
            var cursor = SpanCursor(at: start)
            cursor.byte(0x12)                                            // ScopeSpans.spans
            cursor.varint(UInt64(length))
            cursor.byte(0x0A); cursor.byte(16); cursor.big(traceHigh); cursor.big(traceLow)
            cursor.byte(0x12); cursor.byte(8); cursor.big(spanID)
            if !traceState.isEmpty { cursor.byte(0x1A); cursor.varint(UInt64(traceState.count)); cursor.bytes(traceState) }
            if parentSpanID != 0 { cursor.byte(0x22); cursor.byte(8); cursor.big(parentSpanID) }
            cursor.byte(0x2A)                                            // name
            cursor.varint(UInt64(nameCount))
            writeName(&cursor)
            cursor.byte(0x30); cursor.byte(UInt8(OTLPTraceEncoder.kind(kind)))
            cursor.byte(0x39); cursor.little(startNanos)
            cursor.byte(0x41); cursor.little(endNanos)
            writeAttributes(&cursor)
            cursor.byte(0x7A)                                            // status
            if failed { cursor.byte(2); cursor.byte(0x18); cursor.byte(2) } else { cursor.byte(0) }
            cursor.byte(0x85); cursor.byte(0x01); cursor.little32(1)     // flags: sampled
            // The room was made for `total` bytes: writing any other count is a bug to stop at.
            precondition(cursor.position - start == total, "span size miscounted")
            return total
        }
    }
}

/// A write position in room that was made for everything it writes.
struct SpanCursor {
    var position: UnsafeMutablePointer<UInt8>

    init(at start: UnsafeMutablePointer<UInt8>) { position = start }

    @inline(__always) mutating func byte(_ value: UInt8) {
        position.pointee = value
        position += 1
    }

    @inline(__always) mutating func varint(_ value: UInt64) {
        position += ProtoWriter.putVarint(value, at: position)
    }

    @inline(__always) mutating func little(_ value: UInt64) {
        UnsafeMutableRawPointer(position).storeBytes(of: value.littleEndian, as: UInt64.self)
        position += 8
    }

    /// An id word as its eight bytes on the wire, most significant first.
    @inline(__always) mutating func big(_ value: UInt64) {
        UnsafeMutableRawPointer(position).storeBytes(of: value.bigEndian, as: UInt64.self)
        position += 8
    }

    @inline(__always) mutating func little16(_ value: UInt16) {
        UnsafeMutableRawPointer(position).storeBytes(of: value.littleEndian, as: UInt16.self)
        position += 2
    }

    @inline(__always) mutating func bytes(_ value: UnsafeRawBufferPointer) {
        if let source = value.baseAddress { UnsafeMutableRawPointer(position).copyMemory(from: source, byteCount: value.count) }
        position += value.count
    }

    @inline(__always) mutating func little32(_ value: UInt32) {
        UnsafeMutableRawPointer(position).storeBytes(of: value.littleEndian, as: UInt32.self)
        position += 4
    }

    /// The UTF-8 of `value`, found once: a native string's own storage, or a small string's bytes
    /// copied out of its two words.
    @inline(__always) mutating func text(_ value: String) {
        let copied = value.utf8.withContiguousStorageIfAvailable { bytes -> Int in
            if let source = bytes.baseAddress { UnsafeMutableRawPointer(position).copyMemory(from: source, byteCount: bytes.count) }
            return bytes.count
        }
        if let copied {
            position += copied
        } else {
            for byte in value.utf8 { self.byte(byte) }
        }
    }

    @inline(__always) mutating func text(_ value: StaticString) {
        UnsafeMutableRawPointer(position).copyMemory(from: value.utf8Start, byteCount: value.utf8CodeUnitCount)
        position += value.utf8CodeUnitCount
    }

    /// The size of a `KeyValue` (field 9) with a string `AnyValue` of `count` bytes.
    @inline(__always) static func stringAttributeLength(_ key: StaticString, _ count: Int) -> Int {
        ProtoWriter.fieldSize(ProtoWriter.keyValueLength(keyCount: key.utf8CodeUnitCount, anyValueCount: ProtoWriter.stringValueLength(count)))
    }

    /// The key of the request span's one integer attribute.
    static let statusCodeKey: StaticString = "http.response.status_code"

    /// A `KeyValue` (field 9) with a string `AnyValue`, lengths as `appendRequestSpan` counted them.
    @inline(__always) mutating func stringAttribute(_ key: StaticString, _ value: String) {
        // The bytes found once, for the length and the copy: reading `utf8.count` and the
        // storage apart cost two walks through the string's representation checks.
        let written = value.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            bytesAttribute(key, UnsafeRawBufferPointer(bytes))
            return true
        }
        if written == nil { Array(value.utf8).withUnsafeBytes { bytesAttribute(key, $0) } }
    }

    @inline(__always) mutating func stringAttribute(_ key: StaticString, _ value: StaticString) {
        bytesAttribute(key, UnsafeRawBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
    }

    /// A string attribute whose UTF-8 is `value`.
    @inline(__always) mutating func bytesAttribute(_ key: StaticString, _ value: UnsafeRawBufferPointer) {
        attribute(key, anyValueCount: ProtoWriter.stringValueLength(value.count))
        position += ProtoWriter.putStringValueHead(value.count, at: position)
        if let source = value.baseAddress {
            UnsafeMutableRawPointer(position).copyMemory(from: source, byteCount: value.count)
            position += value.count
        }
    }

    /// A `KeyValue` (field 9) with an integer `AnyValue`.
    @inline(__always) mutating func intAttribute(_ key: StaticString, _ value: UInt64) {
        attribute(key, anyValueCount: ProtoWriter.intValueLength(value))
        position += ProtoWriter.putIntValue(value, at: position)
    }

    /// A `KeyValue`'s framing up to its `AnyValue`'s content.
    @inline(__always) private mutating func attribute(_ key: StaticString, anyValueCount: Int) {
        position += ProtoWriter.putKeyValueHead(9, key: key.utf8Start, keyCount: key.utf8CodeUnitCount,
                                                anyValueCount: anyValueCount, at: position)
    }
}
