// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import HTTP
public import Instrumentation
import HTTPTypes
import Tracing
import W3CTraceContext

/// The server span of the request in flight, kept in its ``RequestContext``.
public enum RequestSpanKey: RequestContextKey {
    public typealias Value = AtlasSpan
}

extension RequestContext {
    /// The context to start child spans under (`withSpan(…, context: context.instrumentationContext)`),
    /// or `.topLevel` when tracing is off.
    public var instrumentationContext: InstrumentationContext {
        self[RequestSpanKey.self]?.context ?? .topLevel
    }
}

struct RequestHeadersExtractor: Extractor {
    func extract(key: String, from carrier: Request) -> String? { carrier.headers[key] }
}

/// Starts a server span per request (continuing an incoming W3C `traceparent`) and ends it with
/// the semantic-convention attributes `http.request.method`, `http.route`, `url.path`,
/// `http.response.status_code` and `atlas.tenant`; 5xx answers mark the span as an error. It sets
/// ``RequestContext/traceID``, so the access log line carries `trace_id`.
public struct TracingMiddleware: Middleware {
    let tracer: AtlasTracer

    public init(tracer: AtlasTracer) {
        self.tracer = tracer
    }

    public func before(_ request: Request, context: inout RequestContext) throws -> Response? {
        var parent = InstrumentationContext.topLevel
        tracer.extract(request, into: &parent, using: RequestHeadersExtractor())
        let name = context.route.map { "\(request.method.rawValue) \($0)" } ?? request.method.rawValue
        let span = tracer.startSpan(name, context: parent, ofKind: .server, at: DefaultTracerClock.now,
                                    function: #function, file: #fileID, line: #line)
        context[RequestSpanKey.self] = span
        context.traceID = span.traceContext.traceID.description
        context.spanID = span.traceContext.spanID.description
        return nil
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        guard let span = context[RequestSpanKey.self], span.recording else { return }
        var attributes: [(key: String, value: OTLPValue)] = [
            ("http.request.method", .string(request.method.rawValue)),
            ("url.path", .string(request.path)),
            ("http.response.status_code", .int(Int64(response.status.code))),
        ]
        attributes.reserveCapacity(6)
        if let route = context.route { attributes.append(("http.route", .string(route))) }
        if let tenant = context.tenant { attributes.append(("atlas.tenant", .string(tenant))) }
        if let requestID = context.requestID { attributes.append(("atlas.request_id", .string(requestID))) }
        span.addDirectAttributes(attributes)
        if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
        span.end(at: DefaultTracerClock.now)
    }
}
