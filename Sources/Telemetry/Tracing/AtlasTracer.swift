// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import Instrumentation
public import Tracing
public import W3CTraceContext
public import HTTP
import Synchronization

/// The server span of the request whose handler runs in this task (and the tasks it starts).
///
/// A task-local of its own rather than `InstrumentationContext.current`: binding that cost every
/// request an `InstrumentationContext` built for it (a dictionary, a hash, a generic metadata
/// look-up), where this binds the span's plain words. ``AtlasTracer`` falls back to it when a
/// span is started, or a context injected, without a trace context, which is what
/// `InstrumentationContext.current ?? .topLevel` gives inside a handler.
enum RequestSpanScope {
    @TaskLocal static var trace: RequestTrace?
    /// The caller's `tracestate`, bound beside ``trace`` only when one came
    /// (``RequestTrace/hasTraceState``).
    @TaskLocal static var traceState: String?
}

/// The caller's `tracestate` header value, kept in the request context beside its
/// ``RequestTrace`` when one came (rarely), so the trace itself stays plain words.
enum TraceStateKey: RequestContextKey {
    typealias Value = String
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
    let sampleThreshold: UInt64?

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
        span(operationName, kind: kind, context: context()) { instant().nanosecondsSinceEpoch }
    }

    private func span(_ operationName: String, kind: SpanKind, context: InstrumentationContext,
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
                         recording: sampled)
    }

    /// A request's server span, started at `startNanos` (wall clock) as a child of `remote`, the
    /// caller's `traceparent`, when one came. A value, not an ``AtlasSpan``: the span's fields are
    /// the request's own, written out when it ends (``endRequestSpan(_:request:context:status:endNanos:)``),
    /// so a traced request allocates nothing for its span, and nothing made on the event loop is
    /// reference-counted or freed on a worker.
    ///
    /// When `remote` carries a `tracestate`, ``RequestTrace/hasTraceState`` is set and the
    /// caller keeps the state (``TraceStateKey``).
    public func startRequestTrace(remote: TraceContext?, startNanos: UInt64) -> RequestTrace {
        var ids = SpanIDGenerator()
        let span = ids.nonZero()
        if let remote {
            let (high, low) = remote.traceID.words
            let sampled = remote.flags.contains(.sampled)
            return RequestTrace(traceHigh: high, traceLow: low, spanID: span, parentSpanID: remote.spanID.word,
                                flags: sampled ? remote.flags.rawValue : 0, startNanos: startNanos,
                                hasTraceState: !remote.state.isEmpty)
        }
        let sampled = sampleThreshold.map { ids.next() < $0 } ?? true
        return RequestTrace(traceHigh: ids.nonZero(), traceLow: ids.next(), spanID: span, flags: sampled ? 1 : 0, startNanos: startNanos)
    }

    /// Ends a request's server span and queues it for export, when its trace is sampled.
    public func endRequestSpan(_ trace: RequestTrace, request: Request, context: RequestContext, status: Int, endNanos: UInt64) {
        guard trace.sampled, keepsOtherSpans else { return }
        let json = queue.encoding == .json
        // Only the fields the span needs, read through a pointer: a pointer to the context (or a
        // closure capturing it) copied the whole context, retaining every field.
        let fields = RequestSpanEnd(route: context.route, tenant: context.tenant, requestID: context.requestID,
                                    traceState: trace.hasTraceState ? context[TraceStateKey.self] : nil, status: status,
                                    endNanos: max(endNanos, trace.startNanos))
        withUnsafePointer(to: fields) { fields in
            if !json, let method = request.knownMethodName {
                queue.record(asRecord: true) { out, _ in OTLPTraceEncoder.appendRequestRecord(trace, request, fields, method: method, to: &out) }
            } else {
                queue.record { out, first in
                    OTLPTraceEncoder.appendRequestSpanValues(trace, request, fields, json: json, to: &out, first: first)
                }
            }
        }
    }

    /// The trace context a span started under `context` is a child of: the one `context`
    /// carries, else that of the request whose handler task this is (``RequestSpanScope``), so
    /// that `withSpan` and the storage layer's spans, which start under
    /// `InstrumentationContext.current ?? .topLevel`, hang off the request span. `fromScope` is
    /// true in the second case.
    @inline(__always)
    func parentTrace(of context: InstrumentationContext) -> (TraceContext?, fromScope: Bool) {
        if !context.isEmpty, let trace = context.traceContext { return (trace, false) }
        if let trace = RequestSpanScope.trace {
            return (trace.traceContext(state: trace.hasTraceState ? RequestSpanScope.traceState : nil), true)
        }
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
        let own = TraceContext(traceID: parent?.traceID ?? TraceID(high: ids.nonZero(), low: ids.next()), spanID: SpanID(word: ids.nonZero()),
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
        var attributes = SpanAttributes()
        var events: [SpanEventRecord] = []
        var status: SpanStatus?
        var ended = false
        /// ``context``, built on first use: most request spans are never asked for it.
        var context: InstrumentationContext?
    }
    private let state: Mutex<State>

    init(name: String, kind: SpanKind, parentContext: InstrumentationContext, trace: TraceContext,
         parentSpanID: SpanID?, startNanos: UInt64, queue: SpanQueue?, recording: Bool = true, sharesParentContext: Bool = false) {
        self.recording = recording
        self.sharesParentContext = sharesParentContext
        self.kind = kind
        self.parentContext = parentContext
        self.traceContext = trace
        self.parentSpanID = parentSpanID
        self.startNanos = startNanos
        self.queue = queue
        self.state = Mutex(State(name: name))
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
        get { state.withLock { $0.name } }
        set { state.withLock { if !$0.ended { $0.name = newValue } } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { if !$0.ended { $0.attributes = newValue } } }
    }

    public var isRecording: Bool { recording && state.withLock { !$0.ended } }

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
                queue?.record { out, first in encode(state, endNanos: endNanos, into: &out, first: first) }
            }
        }
    }

    /// Encodes the ended span in its queue's encoding (the span's lock is held).
    private func encode(_ state: UnsafePointer<State>, endNanos: UInt64, into out: inout ProtoWriter, first: Bool) {
        let endNanos = max(endNanos, startNanos)
        switch queue?.encoding {
        case .json?: OTLPTraceEncoder.appendJSON(self, state.pointee, endNanos: endNanos, to: &out, first: first)
        default: OTLPTraceEncoder.appendProtobuf(self, state, endNanos: endNanos, to: &out)
        }
    }
}

/// What a request span takes from the request's context when it ends.
struct RequestSpanEnd {
    var route: String?
    var tenant: String?
    var requestID: String?
    /// The caller's `tracestate`, when one came.
    var traceState: String?
    var status: Int
    var endNanos: UInt64
}

extension RequestTrace {
    /// The span's W3C trace context, with the caller's `tracestate` header value when one came:
    /// the parent of spans started in its request's handler.
    func traceContext(state traceState: String?) -> TraceContext {
        let flags = TraceFlags(rawValue: flags)
        let own = TraceContext(traceID: TraceID(high: traceHigh, low: traceLow), spanID: SpanID(word: spanID), flags: flags,
                               state: TraceState())
        // The incoming `tracestate`, parsed again only for the rare request that brought one.
        guard let traceState, let withState = try? TraceContext(traceParentHeaderValue: own.traceParentHeaderValue,
                                                                  traceStateHeaderValue: traceState)
        else { return own }
        return withState
    }
}

extension TraceID {
    /// The id from its big-endian halves.
    init(high: UInt64, low: UInt64) {
        var bytes: TraceID.Bytes = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            raw.storeBytes(of: high.bigEndian, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        self.init(bytes: bytes)
    }

    /// The id's big-endian halves.
    var words: (high: UInt64, low: UInt64) {
        withUnsafeBytes(of: bytes) {
            (UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }
}

extension SpanID {
    /// The id from its big-endian word.
    init(word: UInt64) {
        var bytes: SpanID.Bytes = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { $0.storeBytes(of: word.bigEndian, as: UInt64.self) }
        self.init(bytes: bytes)
    }

    /// The id as a big-endian word.
    var word: UInt64 {
        withUnsafeBytes(of: bytes) { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
    }
}
