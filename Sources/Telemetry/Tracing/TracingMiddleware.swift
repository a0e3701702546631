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
        guard let span = context[RequestSpanKey.self] else { return }
        var attributes = span.attributes
        attributes["http.request.method"] = request.method.rawValue
        if let route = context.route { attributes["http.route"] = route }
        attributes["url.path"] = request.path
        attributes["http.response.status_code"] = Int64(response.status.code)
        if let tenant = context.tenant { attributes["atlas.tenant"] = tenant }
        if let requestID = context.requestID { attributes["atlas.request_id"] = requestID }
        span.attributes = attributes
        if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
        span.end(at: DefaultTracerClock.now)
    }
}
