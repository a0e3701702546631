// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import HTTP
public import Instrumentation
import HTTPTypes
import Tracing
import W3CTraceContext

extension RequestContext {
    /// The server span of the request in flight, when tracing is on.
    public var requestSpan: AtlasSpan? {
        span as? AtlasSpan
    }

    /// The context to start child spans under (`withSpan(…, context: context.instrumentationContext)`),
    /// or `.topLevel` when tracing is off.
    public var instrumentationContext: InstrumentationContext {
        requestSpan?.context ?? .topLevel
    }
}

/// Starts a server span per request (continuing an incoming W3C `traceparent`) and ends it with
/// the semantic-convention attributes `http.request.method`, `http.route`, `url.path`,
/// `http.response.status_code` and `atlas.tenant`; 5xx answers mark the span as an error. It sets
/// ``RequestContext/traceID``, so the access log line carries `trace_id`. As the router's
/// ``RequestScope`` it makes the server span the current request span of each async handler's
/// task, so spans started anywhere below it — storage, graph nodes, model calls — are its
/// children and outgoing calls carry its `traceparent`, though
/// `InstrumentationContext.current` stays unset until a `withSpan` below binds one.
public struct TracingMiddleware: Middleware, RequestScope {
    let tracer: AtlasTracer

    public init(tracer: AtlasTracer) {
        self.tracer = tracer
    }

    public func before(_ request: Request, context: inout RequestContext) throws -> Response? {
        // The W3C header read straight from the request (one field, lowercase on the wire as
        // the spec writes it, matched case-insensitively); the instrumentation context is built
        // only when a caller sent one.
        var parent = InstrumentationContext.topLevel
        var remote: TraceContext?
        if let header = request.headers.first("traceparent"),
           let trace = try? TraceContext(traceParentHeaderValue: header, traceStateHeaderValue: request.headers.first("tracestate")) {
            remote = trace
            parent.traceContext = trace
        }
        let span = tracer.startRequestSpan(method: request.method.rawValue, route: context.route, parent: parent, remote: remote,
                                           startNanos: DefaultTracerClock.now.nanosecondsSinceEpoch)
        context.span = span
        let (high, low) = withUnsafeBytes(of: span.traceContext.traceID.bytes) {
            (UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
        let spanWord = withUnsafeBytes(of: span.traceContext.spanID.bytes) { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
        context.setSpanIdentifiers(traceHigh: high, traceLow: low, span: spanWord)
        return nil
    }

    /// Binds the server span as the current request span (``RequestSpanScope``) while the
    /// handler's task is created; the task inherits it, and spans started in it under no other
    /// trace context are the server span's children.
    public func bind(_ context: RequestContext, _ start: () -> Void) {
        guard let span = context.requestSpan else { return start() }
        RequestSpanScope.$span.withValue(span, operation: start)
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        guard let span = context.requestSpan, span.recording else { return }
        span.endRequest(RequestSpanFields(method: request.method.rawValue, request: request, status: Int(response.status.code),
                                          route: context.route, tenant: context.tenant, requestID: context.requestID),
                        endNanos: DefaultTracerClock.now.nanosecondsSinceEpoch)
    }
}
