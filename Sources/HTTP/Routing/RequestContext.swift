// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

/// Per-request state that travels with a request through middleware and its handler.
///
/// A value type passed `inout`, so what a handler sets (``tenant``, extension values) is what
/// the access log and metrics see afterwards, without a shared mutable object.
///
/// ```swift
/// router.get("/tenants/{tenant}/catalog") { request, context in
///     let tenant = try context.parameters.require("tenant")
///     context.tenant = tenant            // appears in the access log line
///     ...
/// }
/// ```
public struct RequestContext: Sendable {
    /// The request id, set by ``RequestIDMiddleware`` and echoed as `X-Request-ID` on the response.
    public var requestID: String?
    /// Path parameters captured by the route template, percent-decoded.
    public internal(set) var parameters: Parameters
    /// The matched route template, e.g. `/tenants/{tenant}/usage`; `nil` when no route matched.
    public internal(set) var route: String?
    /// The tenant the request acts for, once known; logged as `tenant` (null when unset).
    public var tenant: String?
    /// The W3C trace id of the request's span, once tracing set it; logged as `trace_id`.
    public var traceID: String? {
        get { traceIDText ?? trace.map { HexText.string($0.traceHigh, $0.traceLow) } }
        set { traceIDText = newValue }
    }
    /// The id of the request's server span, once tracing set it; logged as `span_id`.
    public var spanID: String? {
        get { spanIDText ?? trace.map { HexText.string($0.spanID) } }
        set { spanIDText = newValue }
    }
    /// Ids set as text (``traceID``/``spanID`` assigned), which take precedence over ``trace``.
    private(set) var traceIDText: String?
    private(set) var spanIDText: String?
    /// The request's server span as a tracing middleware started it: ids and start time as plain
    /// words, so that a traced request allocates no span object, and the access log writes the
    /// ids without building strings.
    public var trace: RequestTrace?
    /// Whether the in-flight gauge counted this request (set by the metrics middleware's
    /// `before`, so its recorder subtracts only what was added). A field rather than an extension
    /// value: an extension value would allocate the request's value array on the event loop for
    /// every request, to be freed on the worker that runs the handler.
    public var countedInFlight = false
    /// The connected peer, or `nil` for a request that did not come from a socket.
    public let remoteAddress: SocketAddress?
    /// Monotonic nanoseconds when the request head was complete.
    let startNanos: UInt64
    /// A handful of entries per request (principal, span, in-flight flag): a scanned array costs
    /// less than hashing into a dictionary it would first have to allocate.
    @usableFromInline var values: [ContextEntry] = []

    init(remoteAddress: SocketAddress?, startNanos: UInt64, route: String?, parameters: Parameters) {
        self.remoteAddress = remoteAddress
        self.startNanos = startNanos
        self.route = route
        self.parameters = parameters
    }

    /// A context for a request handled without a socket (router tests).
    public init(remoteAddress: SocketAddress? = nil) {
        self.init(remoteAddress: remoteAddress, startNanos: SystemClock.monotonicNanos(), route: nil,
                  parameters: Parameters(kind: "path parameter"))
    }

    /// Sets the request span's ids from their big-endian 64-bit words (the trace id's high and low
    /// halves, the span id), as tracing does for every request.
    public mutating func setSpanIdentifiers(traceHigh: UInt64, traceLow: UInt64, span: UInt64) {
        trace = RequestTrace(traceHigh: traceHigh, traceLow: traceLow, spanID: span)
        traceIDText = nil
        spanIDText = nil
    }

    /// Time since the request head was complete.
    public var elapsed: Duration {
        .nanoseconds(Int64(SystemClock.monotonicNanos() &- startNanos))
    }

    /// Values other modules attach, keyed by a type (e.g. Auth's principal, Telemetry's trace id).
    ///
    /// ```swift
    /// enum TraceIDKey: RequestContextKey { typealias Value = String }
    /// context[TraceIDKey.self] = traceID
    /// ```
    @inlinable public subscript<Key: RequestContextKey>(_ key: Key.Type) -> Key.Value? {
        get {
            let id = ObjectIdentifier(key)
            for entry in values where entry.key == id { return entry.value as? Key.Value }
            return nil
        }
        set {
            // No `switch (index, newValue)`: a tuple of generic optionals has its type metadata
            // instantiated at run time on every call.
            let id = ObjectIdentifier(key)
            let index = values.firstIndex { $0.key == id }
            if let newValue {
                if let index {
                    values[index].value = newValue
                } else {
                    if values.isEmpty { values.reserveCapacity(4) }
                    values.append(ContextEntry(key: id, value: newValue))
                }
            } else if let index {
                values.remove(at: index)
            }
        }
    }
}

/// The server span of a request: its W3C ids as big-endian 64-bit words, its parent and its
/// start. A tracing middleware sets it (``RequestContext/trace``) and exports the span from it
/// when the response is ready; spans started while the handler runs are its children.
///
/// Plain words, no references: copying one, and binding one as a task-local value, costs no
/// reference counting.
public struct RequestTrace: Sendable, Equatable {
    /// The trace id's high and low halves (its first and last eight bytes).
    public var traceHigh: UInt64
    public var traceLow: UInt64
    /// The server span's id; never 0.
    public var spanID: UInt64
    /// The caller's span id from an incoming `traceparent`; 0 when the trace starts here.
    public var parentSpanID: UInt64
    /// Wall-clock nanoseconds since 1970 when the span started.
    public var startNanos: UInt64
    /// W3C trace flags; bit 0 set when the trace is sampled (recorded and exported).
    public var flags: UInt8
    /// Whether the caller sent a `tracestate`, which the tracing middleware keeps beside this.
    public var hasTraceState: Bool

    public init(traceHigh: UInt64, traceLow: UInt64, spanID: UInt64, parentSpanID: UInt64 = 0, flags: UInt8 = 1,
                startNanos: UInt64 = 0, hasTraceState: Bool = false) {
        self.traceHigh = traceHigh
        self.traceLow = traceLow
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.startNanos = startNanos
        self.flags = flags
        self.hasTraceState = hasTraceState
    }

    /// Whether the trace is recorded and exported (W3C flag `sampled`).
    public var sampled: Bool { flags & 1 != 0 }
}

/// Lower-case hexadecimal text of 64-bit words, most significant nibble first.
enum HexText {
    /// The 8 hex digits of `half` as the bytes of a little-endian word, first digit lowest: the
    /// nibbles are spread one per byte and turned into ASCII eight at a time, without a table
    /// or a loop (a digit at a time cost some 90 instructions a word, on every traced request's
    /// log line).
    @inline(__always)
    static func digits(_ half: UInt32) -> UInt64 {
        var x = UInt64(half)
        x = (x & 0x0000_0000_FFFF_0000) << 16 | (x & 0x0000_0000_0000_FFFF)
        x = (x & 0x0000_FF00_0000_FF00) << 8 | (x & 0x0000_00FF_0000_00FF)
        x = (x & 0x00F0_00F0_00F0_00F0) << 4 | (x & 0x000F_000F_000F_000F)
        // Byte i now holds nibble i, counted from the least significant; a nibble of 10 or more
        // gets 39 more, to land on `a`…`f` after `0`…`9`.
        let letters = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        x = x &+ 0x3030_3030_3030_3030 &+ letters &* 39
        return x.byteSwapped.littleEndian
    }

    /// Appends the 16 hex digits of each word in one piece.
    static func append(_ first: UInt64, _ second: UInt64? = nil, to bytes: inout [UInt8]) {
        var text: (UInt64, UInt64, UInt64, UInt64) = (digits(UInt32(truncatingIfNeeded: first >> 32)),
                                                      digits(UInt32(truncatingIfNeeded: first)), 0, 0)
        var count = 16
        if let second {
            text.2 = digits(UInt32(truncatingIfNeeded: second >> 32))
            text.3 = digits(UInt32(truncatingIfNeeded: second))
            count = 32
        }
        // As typed bytes: the array's append of a raw buffer goes a byte at a time.
        withUnsafeBytes(of: &text) { raw in
            bytes.append(contentsOf: UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count))
        }
    }

    static func string(_ words: UInt64...) -> String {
        String(unsafeUninitializedCapacity: words.count * 16) { out in
            var position = 0
            for word in words {
                var text = (digits(UInt32(truncatingIfNeeded: word >> 32)), digits(UInt32(truncatingIfNeeded: word)))
                withUnsafeBytes(of: &text) { bytes in
                    for index in 0..<16 { out[position + index] = bytes[index] }
                }
                position += 16
            }
            return position
        }
    }
}

/// One extension value. A struct, not a tuple: generic code over an array of tuples looks the
/// tuple's type metadata up at run time on every access.
@usableFromInline struct ContextEntry: Sendable {
    @usableFromInline let key: ObjectIdentifier
    @usableFromInline var value: any Sendable

    @usableFromInline init(key: ObjectIdentifier, value: any Sendable) {
        self.key = key
        self.value = value
    }
}

/// A typed key for values stored in a ``RequestContext``.
public protocol RequestContextKey {
    associatedtype Value: Sendable
}

/// A context type that wraps (or is) a ``RequestContext``; route groups are generic over it.
public protocol RequestContextConvertible: Sendable {
    /// The base context: request id, parameters, tenant, extension values.
    var requestContext: RequestContext { get set }
}

extension RequestContext: RequestContextConvertible {
    public var requestContext: RequestContext {
        get { self }
        set { self = newValue }
    }
}

/// A context built from its parent before each handler of a route group runs, for example one
/// that can exist only once the tenant and caller are resolved:
///
/// ```swift
/// struct TenantContext: ChildRequestContext {
///     var requestContext: RequestContext
///     let tenant: TenantID
///     init(request: Request, parent: RequestContext) async throws {
///         requestContext = parent
///         tenant = try await resolveMembership(request, parent)   // throws 403/404
///         requestContext.tenant = tenant.rawValue
///     }
/// }
/// router.group("/tenants/{tenant}", context: TenantContext.self)
///     .get("/usage") { request, context in ... }    // context: TenantContext
/// ```
///
/// Changes the handler makes to `requestContext` flow back to the parent (and so to the access
/// log); if `init` throws, the error is answered like a handler's.
public protocol ChildRequestContext: RequestContextConvertible {
    associatedtype ParentContext: RequestContextConvertible
    init(request: Request, parent: ParentContext) async throws
}
