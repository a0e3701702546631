// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import Foundation
import Dispatch
import HTTP
public import Logging
public import ServiceLifecycle
import Synchronization

/// OTLP/HTTP payload encodings (`ATLAS_OTLP_PROTOCOL`).
public enum OTLPProtocol: String, Sendable, CaseIterable {
    case protobuf = "http/protobuf"
    case json = "http/json"
}

/// The batch span processor and OTLP/HTTP exporter, run as a service: it sends what
/// ``SpanQueue`` holds to `<endpoint>/v1/traces` when a batch is full or `interval` has passed
/// since the last export, retries with exponential backoff on 429, 502, 503, 504 and transport
/// errors, and exports what is left on graceful shutdown. Export never runs on a request's
/// thread; recording only appends to the queue.
public final class OTLPTraceExporter: Service, Sendable {
    public let url: URL
    public let encoding: OTLPProtocol
    public let queue: SpanQueue
    let batchSize: Int
    let interval: Duration
    let maxAttempts: Int
    let initialBackoff: Duration
    let resource: [(key: String, value: OTLPValue)]
    let poster: OTLPPoster
    let logger: Logger
    private let counters = Mutex<(exported: Int, failedBatches: Int)>((0, 0))
    /// Batches taken from the queue and not yet settled, so a flush also waits for the one the
    /// periodic loop has in flight.
    private let inFlight = Atomic<Int>(0)

    /// - Parameters:
    ///   - endpoint: the collector's base URL (`ATLAS_OTLP_ENDPOINT`); `/v1/traces` is appended.
    ///   - timeout: per attempt; a hanging collector costs at most this, on this service's task.
    public init(endpoint: URL, encoding: OTLPProtocol = .protobuf, queue: SpanQueue,
                serviceName: String = "atlas", batchSize: Int = 512, interval: Duration = .seconds(5),
                maxAttempts: Int = 4, initialBackoff: Duration = .milliseconds(500),
                timeout: TimeInterval = 10, logger: Logger = Logger(label: "atlas.telemetry")) {
        var base = endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.url = URL(string: base + "/v1/traces") ?? endpoint
        self.encoding = encoding
        self.queue = queue
        self.batchSize = max(1, batchSize)
        self.interval = interval
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.resource = [("service.name", .string(serviceName)), ("telemetry.sdk.language", .string("swift")),
                         ("telemetry.sdk.name", .string("atlas"))]
        self.poster = OTLPPoster(url: self.url, timeout: timeout)
        self.logger = logger
    }

    /// Spans the collector accepted, and batches given up on, since start.
    public var exported: Int { counters.withLock { $0.exported } }
    public var failedBatches: Int { counters.withLock { $0.failedBatches } }

    public func run() async throws {
        var lastExport = ContinuousClock.now
        var lastFullBatch = ContinuousClock.now - .seconds(60)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let waiting = queue.count
            if waiting >= batchSize || (waiting > 0 && ContinuousClock.now - lastExport >= interval) {
                if waiting >= batchSize { lastFullBatch = ContinuousClock.now }
                await exportBatch(retry: true)
                lastExport = ContinuousClock.now
                // Full batches go out back to back: sleeping between them capped export at ten
                // batches a second, and a busy server dropped spans a healthy collector would take.
                continue
            }
            // While spans arrive faster than a batch per second, look again in 2 ms: the queue
            // holds a few batches, which a server tracing 100,000 requests a second fills in
            // 20 ms, so a 100 ms nap dropped most of its spans.
            let busy = ContinuousClock.now - lastFullBatch < .seconds(1)
            try? await Task.sleep(for: busy ? .milliseconds(2) : .milliseconds(100))
        }
        // A cancelled task would cancel the final requests too, so flush from a fresh one.
        await Task.detached { await self.flush() }.value
    }

    /// Exports what is queued now and waits for batches already in flight, retrying transient
    /// failures, but starting nothing after `budget` (so a hanging collector holds up shutdown by
    /// at most `budget` plus one request timeout).
    public func flush(budget: Duration = .seconds(5)) async {
        let deadline = ContinuousClock.now + budget
        while ContinuousClock.now < deadline {
            if queue.count > 0 {
                await exportBatch(retry: true, deadline: deadline)
            } else if inFlight.load(ordering: .acquiring) > 0 {
                try? await Task.sleep(for: .milliseconds(10))
            } else {
                return
            }
        }
    }

    private func exportBatch(retry: Bool, deadline: ContinuousClock.Instant? = nil) async {
        inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing)
        defer { inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing) }
        let spans = queue.take(batchSize)
        guard !spans.isEmpty else { return }
        let body = encoding == .protobuf
            ? OTLPTraceEncoder.protobuf(spans, resource: resource)
            : OTLPTraceEncoder.json(spans, resource: resource)
        var backoff = initialBackoff
        for attempt in 1...(retry ? maxAttempts : 1) {
            let outcome = await poster.send(body, encoding: encoding)
            switch outcome {
            case .success:
                counters.withLock { $0.exported += spans.count }
                return
            case .rejected(let status):
                logger.warning("otlp export rejected", metadata: ["status": "\(status)", "spans": "\(spans.count)"])
                counters.withLock { $0.failedBatches += 1 }
                return
            case .retryable(let retryAfter):
                let pause = min(max(retryAfter ?? backoff, backoff), .seconds(30))
                guard attempt < (retry ? maxAttempts : 1), !Task.isCancelled else { break }
                if let deadline, ContinuousClock.now + pause > deadline { break }
                try? await Task.sleep(for: pause)
                backoff *= 2
            }
        }
        logger.debug("otlp export gave up", metadata: ["spans": "\(spans.count)", "url": "\(url)"])
        counters.withLock { $0.failedBatches += 1 }
    }
}

/// One OTLP/HTTP POST and how it went (opentelemetry.io/docs/specs/otlp/#otlphttp-response):
/// 429, 502, 503 and 504 and transport errors may be retried, other failures may not.
///
/// The collector (`http` or `https`) is reached through ``HTTPClient`` over kept-alive
/// connections, on a serial queue of this poster's own so that a hanging collector blocks no
/// other work (ADR-012, ADR-014).
struct OTLPPoster: Sendable {
    enum Outcome {
        case success
        case rejected(Int)
        case retryable(retryAfter: Duration?)
    }

    let url: URL
    let timeout: TimeInterval
    /// Nil when the URL is neither `http` nor `https`; every export then fails as retryable.
    let client: HTTPClient?
    private let target: String
    private let queue: DispatchQueue

    init(url: URL, timeout: TimeInterval) {
        self.url = url
        self.timeout = timeout
        // One exporter posts one batch at a time: a single kept-alive connection is enough.
        client = HTTPClient(url: url.absoluteString, maxIdleConnections: 1)
        target = HTTPClient.requestTarget(of: url.absoluteString)
        queue = DispatchQueue(label: "atlas.otlp.\(url.path)")
    }

    func send(_ body: [UInt8], encoding: OTLPProtocol) async -> Outcome {
        let contentType = encoding == .protobuf ? "application/x-protobuf" : "application/json"
        guard let client else { return .retryable(retryAfter: nil) }
        let timeout = Duration.milliseconds(Int64(timeout * 1000))
        let target = self.target
        return await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            queue.async {
                do {
                    let response = try client.send("POST", target, headers: [("Content-Type", contentType)],
                                                   body: body, timeout: timeout)
                    continuation.resume(returning: Self.outcome(status: response.status,
                                                                retryAfter: response.header("retry-after")))
                } catch {
                    continuation.resume(returning: .retryable(retryAfter: nil))
                }
            }
        }
    }

    static func outcome(status: Int, retryAfter: String?) -> Outcome {
        switch status {
        case 200..<300: return .success
        case 429, 502, 503, 504: return .retryable(retryAfter: retryAfter.flatMap(Int.init).map { Duration.seconds($0) })
        default: return .rejected(status)
        }
    }
}
