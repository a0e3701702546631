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
/// since the last export (batch size and encoding are the queue's, which encodes each span as
/// it ends), retries with exponential backoff on 429, 502, 503, 504 and transport
/// errors, and exports what is left on graceful shutdown. Export never runs on a request's
/// thread; recording only appends to the queue.
public final class OTLPTraceExporter: Service, Sendable {
    public let url: URL
    public let queue: SpanQueue
    public var encoding: OTLPProtocol { queue.encoding }
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
    public init(endpoint: URL, queue: SpanQueue,
                serviceName: String = "atlas", interval: Duration = .seconds(5),
                maxAttempts: Int = 4, initialBackoff: Duration = .milliseconds(500),
                timeout: TimeInterval = 10, logger: Logger = Logger(label: "atlas.telemetry")) {
        var base = endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.url = URL(string: base + "/v1/traces") ?? endpoint
        self.queue = queue
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

    /// Runs the batch processor on a thread of its own until graceful shutdown or cancellation,
    /// then exports what is left (``flush(budget:)``).
    ///
    /// The thread sleeps until the queue rings it with a full batch, or until `interval` has
    /// passed with spans waiting, and posts synchronously. Full batches go out back to back.
    /// A pool task that polled the queue every few milliseconds, and a dispatch queue per post,
    /// cost the traced server a third of a core in wake-ups and context switches.
    public func run() async throws {
        let thread: BackgroundThread
        do {
            thread = try BackgroundThread(name: "atlas-otlp") { [self] thread in exportLoop(thread) }
        } catch {
            logger.error("otlp exporter thread failed to start", metadata: ["error": "\(error)", "url": "\(url)"])
            try? await gracefulShutdown()
            await Task.detached { await self.flush() }.value
            return
        }
        queue.notify { thread.ring() }
        try? await gracefulShutdown()
        queue.notify(nil)
        await thread.stop()
        // A cancelled task would cancel the final requests too, so flush from a fresh one.
        await Task.detached { await self.flush() }.value
    }

    private func exportLoop(_ thread: BackgroundThread) {
        var lastExport = ContinuousClock.now
        while !thread.isStopping {
            let waiting = queue.count
            let since = ContinuousClock.now - lastExport
            if queue.hasFullBatch || (waiting > 0 && since >= interval) {
                exportBatch { pause in
                    Self.pause(pause, on: thread)
                }
                lastExport = ContinuousClock.now
                continue
            }
            thread.sleep(milliseconds: Self.milliseconds(waiting > 0 ? interval - since : interval))
        }
    }

    /// Sleeps `pause` on `thread` (waking early for spans does not cut it short); false when the
    /// thread is asked to stop.
    private static func pause(_ pause: Duration, on thread: BackgroundThread) -> Bool {
        let until = ContinuousClock.now + pause
        while !thread.isStopping {
            let left = until - ContinuousClock.now
            if left <= .zero { return true }
            thread.sleep(milliseconds: milliseconds(left))
        }
        return false
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(clamping: seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    /// Exports what is queued now and waits for batches already in flight, retrying transient
    /// failures, but starting nothing after `budget` (so a hanging collector holds up shutdown by
    /// at most `budget` plus one request timeout).
    public func flush(budget: Duration = .seconds(5)) async {
        let deadline = ContinuousClock.now + budget
        await poster.perform { [self] in
            while ContinuousClock.now < deadline {
                if queue.count > 0 {
                    exportBatch { pause in
                        guard ContinuousClock.now + pause <= deadline else { return false }
                        Self.sleep(pause)
                        return true
                    }
                } else if inFlight.load(ordering: .acquiring) > 0 {
                    Self.sleep(.milliseconds(10))
                } else {
                    return
                }
            }
        }
    }

    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }

    /// Takes a batch, encodes it and posts it, blocking, with up to `maxAttempts` tries.
    /// `pause` waits out a backoff and says whether to try again.
    private func exportBatch(pause: (Duration) -> Bool) {
        inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing)
        defer { inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing) }
        guard let batch = queue.take() else { return }
        let spans = batch.count
        let body = encoding == .protobuf
            ? OTLPTraceEncoder.protobuf(batch, resource: resource)
            : OTLPTraceEncoder.json(batch, resource: resource)
        queue.recycle(batch)
        var backoff = initialBackoff
        for attempt in 1...maxAttempts {
            switch poster.sendNow(body, encoding: encoding) {
            case .success:
                counters.withLock { $0.exported += spans }
                return
            case .rejected(let status):
                logger.warning("otlp export rejected", metadata: ["status": "\(status)", "spans": "\(spans)"])
                counters.withLock { $0.failedBatches += 1 }
                return
            case .retryable(let retryAfter):
                let wait = min(max(retryAfter ?? backoff, backoff), .seconds(30))
                guard attempt < maxAttempts, pause(wait) else { break }
                backoff *= 2
                continue
            }
            break
        }
        logger.debug("otlp export gave up", metadata: ["spans": "\(spans)", "url": "\(url)"])
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

    /// Posts `body` on this poster's own queue, so that the awaiting task's thread is not held.
    func send(_ body: [UInt8], encoding: OTLPProtocol) async -> Outcome {
        await perform { sendNow(body, encoding: encoding) }
    }

    /// Runs blocking export work on this poster's serial queue and waits for it.
    func perform<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            queue.async { continuation.resume(returning: work()) }
        }
    }

    /// Posts `body` and waits for the answer, on the calling thread.
    func sendNow(_ body: [UInt8], encoding: OTLPProtocol) -> Outcome {
        let contentType = encoding == .protobuf ? "application/x-protobuf" : "application/json"
        guard let client else { return .retryable(retryAfter: nil) }
        do {
            let response = try client.send("POST", target, headers: [("Content-Type", contentType)],
                                           body: body, timeout: .milliseconds(Int64(timeout * 1000)))
            return Self.outcome(status: response.status, retryAfter: response.header("retry-after"))
        } catch {
            return .retryable(retryAfter: nil)
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
