// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import W3CTraceContext
public import Tracing
import Synchronization

/// An attribute value as OTLP's `AnyValue` carries it.
public enum OTLPValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case array([OTLPValue])

    static func attributes(_ attributes: SpanAttributes) -> [(key: String, value: OTLPValue)] {
        var out: [(key: String, value: OTLPValue)] = []
        attributes.forEach { key, value in
            if out.count < 128 { out.append((key, OTLPValue(value))) }
        }
        return out.sorted { $0.key < $1.key }
    }

    init(_ attribute: SpanAttribute) {
        switch attribute {
        case .int32(let value): self = .int(Int64(value))
        case .int64(let value): self = .int(value)
        case .double(let value): self = .double(value)
        case .bool(let value): self = .bool(value)
        case .string(let value): self = .string(value)
        case .int32Array(let values): self = .array(values.map { .int(Int64($0)) })
        case .int64Array(let values): self = .array(values.map { .int($0) })
        case .doubleArray(let values): self = .array(values.map { .double($0) })
        case .boolArray(let values): self = .array(values.map { .bool($0) })
        case .stringArray(let values): self = .array(values.map { .string($0) })
        case .stringConvertible(let value): self = .string(value.description)
        case .stringConvertibleArray(let values): self = .array(values.map { .string($0.description) })
        default: self = .string("\(attribute)")
        }
    }
}

/// A span that has ended, ready for export. What the exporter needs is computed from the
/// recorded fields on the exporter's thread (``name``, ``attributes``, ``traceState``), not when
/// the span ends. A class, so the queue and the exporter pass one reference around instead of
/// copying (and retaining) a dozen fields at each step.
public final class FinishedSpan: Sendable {
    public struct Event: Sendable {
        public var name: String
        public var timeNanos: UInt64
        public var attributes: [(key: String, value: OTLPValue)]
    }

    public let traceID: TraceID
    public let spanID: SpanID
    public let parentSpanID: SpanID?
    let traceStateValue: TraceState
    let baseName: String
    let nameSuffix: String?
    public let kind: SpanKind
    public let startNanos: UInt64
    public let endNanos: UInt64
    let spanAttributes: SpanAttributes
    let request: RequestSpanFields?
    public let events: [Event]
    /// OTLP `Status.StatusCode`: 0 unset, 1 ok, 2 error.
    public let statusCode: Int
    public let statusMessage: String

    init(traceID: TraceID, spanID: SpanID, parentSpanID: SpanID?, traceStateValue: TraceState, baseName: String,
         nameSuffix: String?, kind: SpanKind, startNanos: UInt64, endNanos: UInt64, spanAttributes: SpanAttributes,
         request: RequestSpanFields?, events: [Event], statusCode: Int, statusMessage: String) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.traceStateValue = traceStateValue
        self.baseName = baseName
        self.nameSuffix = nameSuffix
        self.kind = kind
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.spanAttributes = spanAttributes
        self.request = request
        self.events = events
        self.statusCode = statusCode
        self.statusMessage = statusMessage
    }

    public var name: String { nameSuffix.map { "\(baseName) \($0)" } ?? baseName }

    /// The W3C `tracestate` header value, empty when there is none.
    public var traceState: String {
        TraceContext(traceID: traceID, spanID: spanID, flags: [], state: traceStateValue).traceStateHeaderValue ?? ""
    }

    /// The attributes set through the tracing API, sorted by key, with the request span's fixed
    /// attributes taking precedence over any of the same key.
    public var attributes: [(key: String, value: OTLPValue)] {
        let recorded = OTLPValue.attributes(spanAttributes)
        guard let request else { return recorded }
        let fixed = request.attributes
        if recorded.isEmpty { return fixed }
        let overridden = Set(fixed.map(\.key))
        return (recorded.filter { !overridden.contains($0.key) } + fixed).sorted { $0.key < $1.key }
    }
}

/// Finished spans waiting for export, at most `capacity` of them: when full a new span is
/// dropped and counted, so a dead or slow collector costs bounded memory and never blocks the
/// request that ended the span.
public final class SpanQueue: Sendable {
    public let capacity: Int
    /// Spans in arrival order from `head` on; the taken prefix is dropped once it is at least
    /// half the array, so taking a batch costs the batch, not the backlog behind it.
    private struct Storage {
        var spans: [FinishedSpan] = []
        var head = 0
        var count: Int { spans.count - head }
    }
    private let storage = Mutex(Storage())
    private let droppedCount = Atomic<Int>(0)
    private let enqueuedCount = Atomic<Int>(0)

    public init(capacity: Int = 2048) {
        self.capacity = max(1, capacity)
    }

    /// Adds `span`, or drops it when the queue is full.
    public func enqueue(_ span: FinishedSpan) {
        let accepted = storage.withLock { storage in
            guard storage.count < capacity else { return false }
            storage.spans.append(span)
            return true
        }
        if accepted {
            enqueuedCount.wrappingAdd(1, ordering: .relaxed)
        } else {
            droppedCount.wrappingAdd(1, ordering: .relaxed)
        }
    }

    /// Removes and returns up to `limit` of the oldest spans.
    func take(_ limit: Int) -> [FinishedSpan] {
        storage.withLock { storage in
            if storage.count <= limit {
                // The usual case: hand over the whole array and start a fresh one.
                var all: [FinishedSpan] = []
                swap(&all, &storage.spans)
                let head = storage.head
                storage.head = 0
                storage.spans.reserveCapacity(min(capacity, max(64, all.count)))
                return head == 0 ? all : Array(all[head...])
            }
            let batch = Array(storage.spans[storage.head..<(storage.head + limit)])
            storage.head += limit
            if storage.head * 2 >= storage.spans.count {
                storage.spans.removeFirst(storage.head)
                storage.head = 0
            }
            return batch
        }
    }

    /// Spans waiting now.
    public var count: Int { storage.withLock { $0.count } }
    /// Spans dropped because the queue was full, since start.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    /// Spans accepted, since start.
    public var enqueued: Int { enqueuedCount.load(ordering: .relaxed) }
}
