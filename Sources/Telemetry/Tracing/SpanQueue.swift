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

/// One event of a span, kept until the span is encoded.
struct SpanEventRecord: Sendable {
    var name: String
    var timeNanos: UInt64
    var attributes: [(key: String, value: OTLPValue)]
}

/// Ended spans waiting for export, each already encoded in the queue's ``encoding`` the moment
/// it ended, at most `capacity` of them: when full a new span is dropped and counted, so a dead
/// or slow collector costs bounded memory and never blocks the request that ended the span.
///
/// Spans are written into the batch being filled (`batchSize` spans, or fewer once it holds
/// `maxBatchBytes`); a full batch is sealed and the exporter, rung by ``notify(_:)``, takes it
/// whole and wraps it in an `ExportTraceServiceRequest`. Nothing is allocated per span and
/// nothing a request allocated is freed on the exporter's thread: keeping ended spans as objects
/// until export cost more than the request they described (allocation, reference counting,
/// and frees from another thread contending for the allocator's arena lock).
public final class SpanQueue: Sendable {
    public let capacity: Int
    /// Spans per export request.
    public let batchSize: Int
    /// How spans are encoded, and so the payload the exporter sends.
    public let encoding: OTLPProtocol
    /// A batch is sealed early once its encoded spans reach this size.
    let maxBatchBytes: Int
    /// Spans are dropped while the sealed batches hold this many bytes: spans with large
    /// attributes are copied here, so a span count alone would not bound the memory a dead
    /// collector leaves queued.
    public let maxQueuedBytes: Int

    private struct Storage {
        /// The batch spans are written into.
        var filling: ProtoWriter?
        var fillingCount = 0
        /// Request records among them (``OTLPTraceEncoder/appendRequestRecord(_:_:_:method:to:)``).
        var fillingRecords = 0
        /// Sealed batches, oldest first.
        var sealed: [SpanBatch] = []
        /// Spans in `filling` and `sealed`.
        var count = 0
        /// Encoded bytes in `sealed`.
        var sealedBytes = 0
        /// Buffers of exported batches, reused so that a busy server does not map and fault in
        /// a fresh one per batch.
        var spare: [ProtoWriter] = []
        var onReady: (@Sendable () -> Void)?
    }
    private let storage = Mutex(Storage())
    private let droppedCount = Atomic<Int>(0)
    private let enqueuedCount = Atomic<Int>(0)

    public init(capacity: Int = 2048, batchSize: Int = 512, encoding: OTLPProtocol = .protobuf, maxBatchBytes: Int = 2 << 20,
                maxQueuedBytes: Int = 32 << 20) {
        self.capacity = max(1, capacity)
        self.batchSize = max(1, min(batchSize, self.capacity))
        self.encoding = encoding
        self.maxBatchBytes = max(1024, maxBatchBytes)
        self.maxQueuedBytes = max(self.maxBatchBytes, maxQueuedBytes)
    }

    /// Encodes an ended span into the batch being filled (`first` tells the encoder it starts
    /// the batch), or drops it when the queue is full.
    func record(asRecord: Bool = false, _ encode: (inout ProtoWriter, _ first: Bool) -> Void) {
        var ready: (@Sendable () -> Void)?
        let accepted = storage.withLock { storage in
            guard storage.count < capacity, storage.sealedBytes < maxQueuedBytes else { return false }
            let first = storage.fillingCount == 0
            if storage.filling == nil {
                storage.filling = storage.spare.popLast() ?? ProtoWriter(capacity: min(batchSize * 320, maxBatchBytes + 4096))
            }
            encode(&storage.filling!, first)
            storage.fillingCount += 1
            if asRecord { storage.fillingRecords += 1 }
            storage.count += 1
            if storage.fillingCount >= batchSize || storage.filling!.count >= maxBatchBytes {
                let batch = SpanBatch(encoded: storage.filling.take()!, count: storage.fillingCount, records: storage.fillingRecords)
                storage.sealedBytes += batch.encoded.count
                storage.sealed.append(batch)
                storage.fillingCount = 0
                storage.fillingRecords = 0
                ready = storage.onReady
            }
            return true
        }
        if accepted {
            enqueuedCount.wrappingAdd(1, ordering: .relaxed)
            ready?()
        } else {
            droppedCount.wrappingAdd(1, ordering: .relaxed)
        }
    }

    /// Has `action` called whenever a batch is sealed, so an exporter can sleep until then
    /// instead of polling; `nil` removes it.
    func notify(_ action: (@Sendable () -> Void)?) {
        storage.withLock { $0.onReady = action }
    }

    /// Removes and returns the oldest batch: a sealed one, else the spans written so far.
    func take() -> SpanBatch? {
        storage.withLock { storage in
            let batch: SpanBatch
            if !storage.sealed.isEmpty {
                batch = storage.sealed.removeFirst()
                storage.sealedBytes -= batch.encoded.count
            } else if storage.fillingCount > 0, let filling = storage.filling.take() {
                batch = SpanBatch(encoded: filling, count: storage.fillingCount, records: storage.fillingRecords)
                storage.fillingCount = 0
                storage.fillingRecords = 0
            } else {
                return nil
            }
            storage.count -= batch.count
            return batch
        }
    }

    /// Hands an exported batch's buffer back for reuse.
    func recycle(_ batch: consuming SpanBatch) {
        var encoded = batch.encoded
        encoded.removeAll()
        storage.withLock { storage in
            if storage.spare.count < 2 { storage.spare.append(encoded) }
        }
    }

    /// A sealed batch is ready (or the queue is empty).
    var hasFullBatch: Bool { storage.withLock { !$0.sealed.isEmpty } }
    /// Spans waiting now.
    public var count: Int { storage.withLock { $0.count } }
    /// Spans dropped because the queue was full, since start.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    /// Spans accepted, since start.
    public var enqueued: Int { enqueuedCount.load(ordering: .relaxed) }
}

/// Encoded spans taken from a ``SpanQueue``: `ScopeSpans.spans` fields for protobuf, or
/// comma-separated `Span` objects for OTLP/JSON.
struct SpanBatch: Sendable {
    var encoded: ProtoWriter
    var count: Int
    /// How many of the spans are request records still to encode (``OTLPTraceEncoder/finish(_:)``).
    var records = 0
}
