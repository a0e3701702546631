// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import Instrumentation
import HTTP
import Tracing
import W3CTraceContext

/// A storage query's client span, carried as plain values from ``AtlasTracer/startQuerySpan(_:system:operation:tenant:)``
/// to ``AtlasTracer/endQuerySpan(_:error:)`` and written into the export batch when it ends.
///
/// Not an ``AtlasSpan``: nothing can change a query's span between its start and end, so it
/// needs no object, lock or attribute storage, which cost more than the query itself on the
/// authenticated read path (an allocation, a lock, reference counting, the fields copied twice).
public struct QuerySpan: Sendable {
    var traceHigh: UInt64 = 0
    var traceLow: UInt64 = 0
    var spanID: UInt64 = 0
    /// 0 for a span that starts its own trace.
    var parentSpanID: UInt64 = 0
    var startNanos: UInt64 = 0
    /// False when the span's trace is not sampled, or its spans have no collector.
    var recording = false
    /// The parent's `tracestate`, when it has one (rarely).
    var traceState: String?
    var name: StaticString
    var system: StaticString
    var operation: StaticString
    var tenant: String?

    /// The attributes, in the order they are written (OTLP/JSON, a failed query).
    var attributes: [(key: String, value: OTLPValue)] {
        var pairs: [(key: String, value: OTLPValue)] = [("db.system.name", .string("\(system)")), ("db.operation.name", .string("\(operation)"))]
        if let tenant { pairs.append(("atlas.tenant", .string(tenant))) }
        return pairs
    }
}

extension AtlasTracer {
    /// Starts a storage query's client span (`db.read`, `db.transaction`) with OpenTelemetry's
    /// database attributes: a child of the current span (`InstrumentationContext.current`, else
    /// the request's), or the root of a new trace sampled like any other.
    public func startQuerySpan(_ name: StaticString, system: StaticString, operation: StaticString, tenant: String?) -> QuerySpan {
        var span = QuerySpan(name: name, system: system, operation: operation, tenant: tenant)
        guard keepsOtherSpans else { return span }
        var ids = SpanIDGenerator()
        if let current = InstrumentationContext.current, let parent = current.traceContext {
            guard parent.flags.contains(.sampled) else { return span }
            (span.traceHigh, span.traceLow) = parent.traceID.words
            span.parentSpanID = parent.spanID.word
            if !parent.state.isEmpty { span.traceState = parent.traceStateHeaderValue }
        } else if let parent = RequestSpanScope.trace {
            guard parent.sampled else { return span }
            (span.traceHigh, span.traceLow, span.parentSpanID) = (parent.traceHigh, parent.traceLow, parent.spanID)
            if parent.hasTraceState { span.traceState = RequestSpanScope.traceState }
        } else {
            if let sampleThreshold, ids.next() >= sampleThreshold { return span }
            (span.traceHigh, span.traceLow) = (ids.nonZero(), ids.next())
        }
        span.spanID = ids.nonZero()
        span.recording = true
        span.startNanos = WallClock.nanos()
        return span
    }

    /// Ends a query's span; a failed query's span is an error with an `exception` event.
    public func endQuerySpan(_ span: QuerySpan, error: (any Error)?) {
        guard span.recording else { return }
        let endNanos = max(WallClock.nanos(), span.startNanos)
        let json = queue.encoding == .json
        withUnsafePointer(to: span) { span in
            queue.record { out, first in
                if json || error != nil || span.pointee.traceState != nil {
                    let events = error.map { [SpanEventRecord.exception($0, at: endNanos)] } ?? []
                    OTLPTraceEncoder.appendSpan(trace: span.pointee.traceContext, parent: span.pointee.parentSpanID, name: "\(span.pointee.name)",
                                                kind: .client, startNanos: span.pointee.startNanos, endNanos: endNanos,
                                                attributes: span.pointee.attributes, events: events, failed: error != nil,
                                                json: json, to: &out, first: first)
                } else {
                    OTLPTraceEncoder.appendQuerySpan(span, endNanos: endNanos, to: &out)
                }
            }
        }
    }
}

extension QuerySpan {
    var traceContext: TraceContext {
        RequestTrace(traceHigh: traceHigh, traceLow: traceLow, spanID: spanID).traceContext(state: traceState)
    }
}

extension SpanEventRecord {
    /// OpenTelemetry's `exception` event (opentelemetry.io/docs/specs/semconv/exceptions/exceptions-spans).
    static func exception(_ error: any Error, at timeNanos: UInt64) -> SpanEventRecord {
        SpanEventRecord(name: "exception", timeNanos: timeNanos,
                        attributes: [("exception.type", .string("\(type(of: error))")), ("exception.message", .string("\(error)"))])
    }
}
