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
        let span = tracer.startRequestSpan(method: request.method.rawValue, route: context.route, parent: parent,
                                           startNanos: DefaultTracerClock.now.nanosecondsSinceEpoch)
        context[RequestSpanKey.self] = span
        context.traceID = Hex.string(span.traceContext.traceID.bytes)
        context.spanID = Hex.string(span.traceContext.spanID.bytes)
        return nil
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        guard let span = context[RequestSpanKey.self], span.recording else { return }
        span.endRequest(RequestSpanFields(method: request.method.rawValue, path: request.path, status: Int(response.status.code),
                                          route: context.route, tenant: context.tenant, requestID: context.requestID),
                        endNanos: DefaultTracerClock.now.nanosecondsSinceEpoch)
    }
}

/// Lower-case hex text of fixed-size ids, in one allocation.
enum Hex {
    private static let digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66)

    static func string<Bytes>(_ bytes: Bytes) -> String {
        withUnsafeBytes(of: bytes) { raw in
            String(unsafeUninitializedCapacity: raw.count * 2) { out in
                withUnsafeBytes(of: digits) { table in
                    for (index, byte) in raw.enumerated() {
                        out[2 * index] = table[Int(byte >> 4)]
                        out[2 * index + 1] = table[Int(byte & 0x0F)]
                    }
                }
                return raw.count * 2
            }
        }
    }
}
