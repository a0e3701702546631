// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import HTTP
public import Instrumentation
import HTTPTypes
import Tracing
import W3CTraceContext
#if canImport(Glibc)
import Glibc
#endif

extension RequestContext {
    /// The context to start child spans under (`withSpan(…, context: context.instrumentationContext)`):
    /// the request span's trace context, or `.topLevel` when tracing is off.
    public var instrumentationContext: InstrumentationContext {
        guard let trace else { return .topLevel }
        var context = InstrumentationContext.topLevel
        context.traceContext = trace.traceContext(state: trace.hasTraceState ? self[TraceStateKey.self] : nil)
        return context
    }
}

/// Starts a server span per request (continuing an incoming W3C `traceparent`) and ends it with
/// the semantic-convention attributes `http.request.method`, `http.route`, `url.path`,
/// `http.response.status_code`, `atlas.tenant` and `atlas.request_id`; 5xx answers mark the span
/// as an error. The span is the request's ``RequestContext/trace``, a value, so the access log
/// line carries its `trace_id` and `span_id`; a handler adds nothing to it, but starts a child
/// span for attributes of its own. As the router's ``RequestScope`` it makes the server span the
/// current request span of each async handler's task, so spans started anywhere below it —
/// storage, graph nodes, model calls — are its children and outgoing calls carry its
/// `traceparent`, though `InstrumentationContext.current` stays unset until a `withSpan` below
/// binds one.
public struct TracingMiddleware: Middleware, RequestScope {
    let tracer: AtlasTracer

    public init(tracer: AtlasTracer) {
        self.tracer = tracer
    }

    public func before(_ request: Request, context: inout RequestContext) throws -> Response? {
        // The W3C header read straight from the request (one field, lowercase on the wire as
        // the spec writes it, matched case-insensitively).
        var remote: TraceContext?
        if let header = request.headers.first("traceparent") {
            remote = try? TraceContext(traceParentHeaderValue: header, traceStateHeaderValue: request.headers.first("tracestate"))
        }
        let trace = tracer.startRequestTrace(remote: remote, startNanos: WallClock.nanos())
        if trace.hasTraceState { context[TraceStateKey.self] = remote?.traceStateHeaderValue }
        context.trace = trace
        return nil
    }

    /// Binds the server span as the current request span (``RequestSpanScope``) while the
    /// handler's task is created; the task inherits it, and spans started in it under no other
    /// trace context are the server span's children.
    public func bind(_ context: RequestContext, _ start: () -> Void) {
        guard let trace = context.trace else { return start() }
        if trace.hasTraceState, let state = context[TraceStateKey.self] {
            RequestSpanScope.$traceState.withValue(state) { RequestSpanScope.$trace.withValue(trace, operation: start) }
        } else {
            RequestSpanScope.$trace.withValue(trace, operation: start)
        }
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        guard let trace = context.trace, trace.sampled else { return }
        tracer.endRequestSpan(trace, request: request, context: context, status: Int(response.status.code), endNanos: WallClock.nanos())
    }
}

/// Wall-clock time for span timestamps, read straight from the vDSO (the tracing library's
/// clock goes through `Duration` arithmetic on every read).
enum WallClock {
    static func nanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
