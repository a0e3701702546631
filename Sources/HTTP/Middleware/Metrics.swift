// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import HTTPTypes
import Synchronization

/// Receives one observation per request: route template (``RequestContext/route``, `nil` when
/// no route matched), method, status, duration. The Telemetry module implements it for RED
/// metrics; ``InMemoryHTTPMetrics`` is the default.
public protocol HTTPMetricsRecorder: AnyObject, Sendable {
    /// Called on event-loop or worker threads, possibly concurrently.
    func record(_ request: Request, context: RequestContext, status: HTTPResponse.Status, duration: Duration)
}

/// Feeds every request to a ``HTTPMetricsRecorder``.
public struct MetricsMiddleware: Middleware {
    let recorder: any HTTPMetricsRecorder

    public init(recorder: any HTTPMetricsRecorder) {
        self.recorder = recorder
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        recorder.record(request, context: context, status: response.status, duration: context.elapsed)
    }
}

/// Per-route request counters and durations kept in memory.
public final class InMemoryHTTPMetrics: HTTPMetricsRecorder {
    /// One time series: route template (`unmatched` when none matched), method and status code.
    public struct Series: Hashable, Sendable {
        public var route: String
        public var method: String
        public var status: Int
    }

    /// The observations of one series.
    public struct Totals: Sendable, Equatable {
        public internal(set) var count: Int = 0
        var totalNanos: UInt64 = 0
        var maxNanos: UInt64 = 0

        /// The sum of all durations.
        public var totalDuration: Duration { .nanoseconds(Int64(clamping: totalNanos)) }
        /// The longest duration.
        public var maxDuration: Duration { .nanoseconds(Int64(clamping: maxNanos)) }

        mutating func add(_ nanos: UInt64) {
            count += 1
            totalNanos &+= nanos
            if nanos > maxNanos { maxNanos = nanos }
        }
    }

    private let series = Mutex<[Series: Totals]>([:])

    public init() {}

    public func record(_ request: Request, context: RequestContext, status: HTTPResponse.Status, duration: Duration) {
        let key = Series(route: context.route ?? "unmatched", method: request.storage.method.rawValue, status: status.code)
        let nanos = ServerCore.nanos(duration)
        series.withLock { $0[key, default: Totals()].add(nanos) }
    }

    /// A copy of every series so far.
    public func snapshot() -> [Series: Totals] {
        series.withLock { $0 }
    }
}
