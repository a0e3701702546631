// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTPTypes
import Synchronization

/// Receives one observation per request: route template, method, status, duration.
/// The Telemetry module implements it for RED metrics; ``InMemoryHTTPMetrics`` is the default.
public protocol HTTPMetricsRecorder: Sendable {
    /// Called on event-loop or worker threads, possibly concurrently.
    func record(_ request: CompletedRequest)
}

/// Feeds every request to a ``HTTPMetricsRecorder``.
public struct MetricsMiddleware: Middleware {
    let recorder: any HTTPMetricsRecorder

    public init(recorder: any HTTPMetricsRecorder) {
        self.recorder = recorder
    }

    public func after(_ request: Request, context: RequestContext, response: inout Response) {
        recorder.record(CompletedRequest(request: request, context: context, status: response.status))
    }
}

/// Per-route request counters and durations kept in memory.
public final class InMemoryHTTPMetrics: HTTPMetricsRecorder {
    /// One time series: route template, method and status code.
    public struct Series: Hashable, Sendable {
        public var route: String
        public var method: String
        public var status: Int
    }

    /// The observations of one series.
    public struct Totals: Sendable, Equatable {
        public var count: Int = 0
        public var totalDuration: Duration = .zero
        public var maxDuration: Duration = .zero

        mutating func add(_ duration: Duration) {
            count += 1
            totalDuration += duration
            if duration > maxDuration { maxDuration = duration }
        }
    }

    private let series = Mutex<[Series: Totals]>([:])

    public init() {}

    public func record(_ request: CompletedRequest) {
        let key = Series(route: request.route, method: request.request.method.rawValue, status: request.status.code)
        let duration = request.duration
        series.withLock { $0[key, default: Totals()].add(duration) }
    }

    /// A copy of every series so far.
    public func snapshot() -> [Series: Totals] {
        series.withLock { $0 }
    }
}
