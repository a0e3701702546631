// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import Instrumentation
public import Tracing
public import W3CTraceContext
import HTTP
import Synchronization

/// The server span of the request whose handler runs in this task (and the tasks it starts).
///
/// A task-local of its own rather than `InstrumentationContext.current`: binding that cost every
/// request an `InstrumentationContext` built for it (a dictionary, a hash, a generic metadata
/// look-up), where this binds one reference. ``AtlasTracer`` falls back to it when a span is
/// started, or a context injected, without a trace context, which is what
/// `InstrumentationContext.current ?? .topLevel` gives inside a handler.
enum RequestSpanScope {
    @TaskLocal static var span: AtlasSpan?
}

/// The W3C trace context of the current span, carried in an `InstrumentationContext`.
public enum TraceContextKey: InstrumentationContextKey {
    public typealias Value = TraceContext
}

extension InstrumentationContext {
    /// The trace context of the span this context belongs to (or of the remote parent after
    /// `extract`).
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }
}

/// A swift-distributed-tracing `Tracer` that records every span and hands finished spans to a
/// bounded ``SpanQueue`` for export. W3C `traceparent`/`tracestate` (w3.org/TR/trace-context)
/// are read by `extract` and written by `inject`; a span started under a context with a trace
/// context is its child (same trace id, parent span id set).
///
/// ```swift
/// InstrumentationSystem.bootstrap(telemetry.tracer)
/// try await withSpan("graph.node", ofKind: .internal) { span in span.attributes["atlas.node"] = "load" }
/// ```
public final class AtlasTracer: Tracer {
    public typealias Span = AtlasSpan

    /// Where finished spans go.
    public let queue: SpanQueue
    /// Where finished AI spans (operation names starting `ai.`, `graph.` or `llm.`) go when they
    /// have a collector of their own (`ATLAS_AI_OTLP_ENDPOINT`).
    public let aiQueue: SpanQueue?
    /// False when only AI spans have a collector: other spans carry trace context but are not kept.
    let keepsOtherSpans: Bool

    /// Root spans recorded and exported when `ratio × 2^64` exceeds a random draw; 1 records all.
    private let sampleThreshold: UInt64?

    /// - Parameter sampleRatio: the share of new traces to record (0...1). A span with a parent
    ///   follows the parent's `sampled` flag, so a trace is kept or dropped as a whole
    ///   (OpenTelemetry's ParentBased(TraceIdRatioBased) sampler). Unsampled spans still carry
    ///   their ids (logs, outgoing `traceparent` with flags `00`) but record and export nothing.
    public init(queue: SpanQueue, aiQueue: SpanQueue? = nil, keepsOtherSpans: Bool = true, sampleRatio: Double = 1) {
        self.queue = queue
        self.aiQueue = aiQueue
        self.keepsOtherSpans = keepsOtherSpans
        let ratio = min(max(sampleRatio, 0), 1)
        sampleThreshold = ratio >= 1 ? nil : UInt64(ratio * 18_446_744_073_709_549_568)
    }

    /// Operation-name prefixes of the AI module's spans: agent runs, graph nodes, model calls.
    public static let aiPrefixes = ["ai.", "graph.", "llm."]

    /// The queue a span of this name is exported from; `nil` when it is not exported.
    func queue(forOperation name: String) -> SpanQueue? {
        if let aiQueue, Self.aiPrefixes.contains(where: name.hasPrefix) { return aiQueue }
        return keepsOtherSpans ? queue : nil
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> AtlasSpan {
        span(operationName, kind: kind, context: context(), fields: SpanFields()) { instant().nanosecondsSinceEpoch }
    }

    /// Starts a span whose string attributes are given up front as ``SpanFields`` and kept as
    /// they are, without the attribute dictionary the tracing API builds (an allocation and a
    /// hash per key): the storage layer starts one for every query. The span is a child of
    /// `context`, as with `startSpan`.
    ///
    /// ```swift
    /// let span = tracer.startSpan("db.read", ofKind: .client, context: InstrumentationContext.current ?? .topLevel,
    ///                             fields: SpanFields(("db.system.name", "sqlite"), ("db.operation.name", "read")))
    /// defer { span.end() }
    /// ```
    public func startSpan(_ operationName: String, ofKind kind: SpanKind, context: InstrumentationContext,
                          fields: SpanFields) -> AtlasSpan {
        span(operationName, kind: kind, context: context, fields: fields) { DefaultTracerClock.now.nanosecondsSinceEpoch }
    }

    private func span(_ operationName: String, kind: SpanKind, context: InstrumentationContext, fields: SpanFields,
                      startNanos: () -> UInt64) -> AtlasSpan {
        let (parent, fromScope) = parentTrace(of: context)
        if let parent, !parent.flags.contains(.sampled) {
            // Nothing of a dropped trace is recorded, so a child needs no ids of its own: it
            // carries its parent's context as it is (an outgoing `traceparent` names the parent,
            // with the sampled flag clear), which spares the ids and a context per span.
            return AtlasSpan(name: operationName, kind: kind, parentContext: context, trace: parent, parentSpanID: nil,
                             startNanos: 0, queue: nil, recording: false, sharesParentContext: !fromScope)
        }
        let (own, sampled) = traceContext(under: parent)
        return AtlasSpan(name: operationName, kind: kind, parentContext: context, trace: own, parentSpanID: parent?.spanID,
                         startNanos: startNanos(), queue: sampled ? queue(forOperation: operationName) : nil,
                         recording: sampled, fields: fields)
    }

    /// A storage query's client span, with OpenTelemetry's database attributes (`db.system.name`,
    /// `db.operation.name`) and `atlas.tenant` as fields: what `TracedDatabase` starts per query.
    public func startDatabaseSpan(_ name: String, system: String, operation: String, tenant: String?,
                                  context: InstrumentationContext) -> AtlasSpan {
        var fields = SpanFields(("db.system.name", system), ("db.operation.name", operation))
        if let tenant { fields.append("atlas.tenant", tenant) }
        return startSpan(name, ofKind: .client, context: context, fields: fields)
    }

    /// The server span of one request, named `METHOD route` when it is exported. Cheaper than
    /// `startSpan`: the name is not joined into a string, and the fixed attributes are written
    /// from the request's fields when the span ends (``AtlasSpan/endRequest(_:endNanos:)``).
    func startRequestSpan(method: String, route: String?, parent: InstrumentationContext, remote: TraceContext?,
                          startNanos: UInt64) -> AtlasSpan {
        let (own, sampled) = traceContext(under: remote)
        return AtlasSpan(name: method, route: route, kind: .server, parentContext: parent, trace: own, parentSpanID: remote?.spanID,
                         startNanos: startNanos, queue: sampled && keepsOtherSpans ? queue : nil, recording: sampled)
    }

    /// The trace context a span started under `context` is a child of: the one `context`
    /// carries, else that of the request whose handler task this is (``RequestSpanScope``), so
    /// that `withSpan` and the storage layer's spans, which start under
    /// `InstrumentationContext.current ?? .topLevel`, hang off the request span. `fromScope` is
    /// true in the second case.
    @inline(__always)
    func parentTrace(of context: InstrumentationContext) -> (TraceContext?, fromScope: Bool) {
        if !context.isEmpty, let trace = context.traceContext { return (trace, false) }
        if let span = RequestSpanScope.span { return (span.traceContext, true) }
        return (nil, false)
    }

    /// A new span's own trace context: the parent's trace and sampling decision when there is a
    /// parent, else a new trace sampled by ``sampleThreshold``.
    private func traceContext(under parent: TraceContext?) -> (TraceContext, sampled: Bool) {
        var ids = SpanIDGenerator()
        let sampled: Bool
        if let parent {
            sampled = parent.flags.contains(.sampled)
        } else if let sampleThreshold {
            sampled = ids.next() < sampleThreshold
        } else {
            sampled = true
        }
        let own = TraceContext(traceID: parent?.traceID ?? ids.traceID(), spanID: ids.spanID(),
                               flags: sampled ? (parent?.flags ?? .sampled) : [], state: parent?.state ?? TraceState())
        return (own, sampled)
    }

    public func forceFlush() {}

    public func extract<Carrier, Extract>(_ carrier: Carrier, into context: inout InstrumentationContext,
                                          using extractor: Extract)
    where Extract: Extractor, Extract.Carrier == Carrier {
        guard let parent = extractor.extract(key: "traceparent", from: carrier),
              let remote = try? TraceContext(traceParentHeaderValue: parent,
                                             traceStateHeaderValue: extractor.extract(key: "tracestate", from: carrier))
        else { return }
        context.traceContext = remote
    }

    public func inject<Carrier, Inject>(_ context: InstrumentationContext, into carrier: inout Carrier,
                                        using injector: Inject)
    where Inject: Injector, Inject.Carrier == Carrier {
        guard let trace = parentTrace(of: context).0 else { return }
        injector.inject(trace.traceParentHeaderValue, forKey: "traceparent", into: &carrier)
        if let state = trace.traceStateHeaderValue, !state.isEmpty {
            injector.inject(state, forKey: "tracestate", into: &carrier)
        }
    }
}

/// One span of an ``AtlasTracer``. Thread-safe; after `end` further changes are ignored.
public final class AtlasSpan: Tracing.Span {
    /// The span's own trace context (trace id, span id, flags, state).
    public let traceContext: TraceContext
    /// The context the span was started in; ``context`` is this plus ``traceContext``.
    let parentContext: InstrumentationContext
    let kind: SpanKind
    let parentSpanID: SpanID?
    let startNanos: UInt64
    private let queue: SpanQueue?
    /// False for a span its trace's sampling decision dropped: it keeps its ids and nothing else.
    let recording: Bool
    /// True for an unsampled child that carries its parent's context unchanged.
    private let sharesParentContext: Bool

    struct State {
        var name: String
        /// Joined to `name` with a space when the span is exported or its name read (the route
        /// of a request span), so the event loop does not build the string.
        var nameSuffix: String?
        var attributes = SpanAttributes()
        /// String attributes given when the span started (``AtlasTracer/startSpan(_:ofKind:context:fields:)``).
        var fields = SpanFields()
        var events: [SpanEventRecord] = []
        var status: SpanStatus?
        var ended = false
        /// ``context``, built on first use: most request spans are never asked for it.
        var context: InstrumentationContext?
    }
    private let state: Mutex<State>

    init(name: String, route: String? = nil, kind: SpanKind, parentContext: InstrumentationContext, trace: TraceContext,
         parentSpanID: SpanID?, startNanos: UInt64, queue: SpanQueue?, recording: Bool = true, sharesParentContext: Bool = false,
         fields: SpanFields = SpanFields()) {
        self.recording = recording
        self.sharesParentContext = sharesParentContext
        self.kind = kind
        self.parentContext = parentContext
        self.traceContext = trace
        self.parentSpanID = parentSpanID
        self.startNanos = startNanos
        self.queue = queue
        self.state = Mutex(State(name: name, nameSuffix: route, fields: recording ? fields : SpanFields()))
    }

    /// The context to start children under: the starting context with this span's trace context.
    public var context: InstrumentationContext {
        if sharesParentContext { return parentContext }
        return state.withLock { state in
            if let context = state.context { return context }
            var context = parentContext
            context.traceContext = traceContext
            state.context = context
            return context
        }
    }

    public var operationName: String {
        get { state.withLock { state in state.nameSuffix.map { "\(state.name) \($0)" } ?? state.name } }
        set {
            state.withLock { state in
                guard !state.ended else { return }
                state.name = newValue
                state.nameSuffix = nil
            }
        }
    }

    public var attributes: SpanAttributes {
        get {
            state.withLock { state in
                var attributes = state.attributes
                state.fields.forEach { key, value in
                    if attributes[key] == nil { attributes[key] = value }
                }
                return attributes
            }
        }
        set { state.withLock { if !$0.ended { $0.attributes = newValue } } }
    }

    public var isRecording: Bool { recording && state.withLock { !$0.ended } }

    /// Ends a request span with its fixed attributes in one step; a 5xx answer marks it an error.
    func endRequest(_ fields: RequestSpanFields, endNanos: UInt64) {
        guard recording, let queue else { return }
        state.withLock { state in
            guard !state.ended else { return }
            state.ended = true
            if fields.status >= 500, state.status?.code != .ok { state.status = SpanStatus(code: .error) }
            // Through a pointer: a closure capturing the `inout` state copied the whole of it.
            withUnsafePointer(to: &state) { state in
                withUnsafePointer(to: fields) { fields in
                    queue.record { out, first in encode(state, request: fields, endNanos: endNanos, into: &out, first: first) }
                }
            }
        }
    }

    public func setStatus(_ status: SpanStatus) {
        state.withLock { state in
            // An OK status is final (opentelemetry.io/docs/specs/otel/trace/api/#set-status).
            if !state.ended, state.status?.code != .ok { state.status = status }
        }
    }

    public func addEvent(_ event: SpanEvent) {
        let converted = SpanEventRecord(name: event.name, timeNanos: event.nanosecondsSinceEpoch,
                                        attributes: OTLPValue.attributes(event.attributes))
        state.withLock { if !$0.ended, $0.events.count < 128 { $0.events.append(converted) } }
    }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes,
                                                    at instant: @autoclosure () -> Instant) {
        var eventAttributes = attributes
        eventAttributes["exception.type"] = "\(type(of: error))"
        eventAttributes["exception.message"] = "\(error)"
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: eventAttributes))
    }

    public func addLink(_ link: SpanLink) {}

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard recording else { return }
        let endNanos = instant().nanosecondsSinceEpoch
        state.withLock { state in
            guard !state.ended else { return }
            state.ended = true
            withUnsafePointer(to: &state) { state in
                queue?.record { out, first in encode(state, request: nil, endNanos: endNanos, into: &out, first: first) }
            }
        }
    }

    /// Encodes the ended span in its queue's encoding (the span's lock is held).
    private func encode(_ state: UnsafePointer<State>, request: UnsafePointer<RequestSpanFields>?, endNanos: UInt64,
                        into out: inout ProtoWriter, first: Bool) {
        let endNanos = max(endNanos, startNanos)
        switch queue?.encoding {
        case .json?: OTLPTraceEncoder.appendJSON(self, state.pointee, request?.pointee, endNanos: endNanos, to: &out, first: first)
        default: OTLPTraceEncoder.appendProtobuf(self, state, request, endNanos: endNanos, to: &out)
        }
    }
}

/// Up to four string attributes of a span, given when it starts and kept inline (no
/// allocation); further ones are dropped.
public struct SpanFields: Sendable {
    private var first: (key: String, value: String)?
    private var second: (key: String, value: String)?
    private var third: (key: String, value: String)?
    private var fourth: (key: String, value: String)?

    public init() {}

    public init(_ pairs: (key: String, value: String)...) {
        for pair in pairs { append(pair.key, pair.value) }
    }

    public mutating func append(_ key: String, _ value: String) {
        if first == nil { first = (key, value) } else if second == nil { second = (key, value) }
        else if third == nil { third = (key, value) } else if fourth == nil { fourth = (key, value) }
    }

    public var isEmpty: Bool { first == nil }

    func forEach(_ body: (String, String) -> Void) {
        if let first { body(first.key, first.value) } else { return }
        if let second { body(second.key, second.value) } else { return }
        if let third { body(third.key, third.value) } else { return }
        if let fourth { body(fourth.key, fourth.value) }
    }
}

/// The fixed attributes of a request span, kept as fields until export.
struct RequestSpanFields: Sendable {
    var method: String
    /// The request, for `url.path`, which is copied from where it arrived rather than built as
    /// a string first.
    var request: Request
    var status: Int
    var route: String?
    var tenant: String?
    var requestID: String?

    /// The semantic-convention attributes (opentelemetry.io/docs/specs/semconv/http/http-spans).
    var attributes: [(key: String, value: OTLPValue)] {
        var pairs: [(key: String, value: OTLPValue)] = [
            ("http.request.method", .string(method)), ("url.path", .string(request.path)),
            ("http.response.status_code", .int(Int64(status))),
        ]
        if let route { pairs.append(("http.route", .string(route))) }
        if let tenant { pairs.append(("atlas.tenant", .string(tenant))) }
        if let requestID { pairs.append(("atlas.request_id", .string(requestID))) }
        return pairs
    }
}
