// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import HTTP
public import HTTPTypes
import Synchronization

/// RED metrics per route for the HTTP module's ``HTTPMetricsRecorder`` hook:
/// `atlas_http_requests_total{method,route,status_class}`,
/// `atlas_http_request_duration_seconds{method,route}` and `atlas_http_requests_in_flight`.
///
/// The cells of every registered (route, method) pair are created by ``prepare(routes:)`` and
/// published once as a read-only table, found with one dictionary lookup and no lock (the event
/// loop and the workers record at once); a pair met later is created on its first request and
/// found under a lock. Recording is atomic adds and a short histogram lock, with no allocation.
/// Route templates, not raw paths, are labels, so cardinality stays bounded by the route table
/// (plus `unmatched`).
public final class HTTPREDMetrics: HTTPMetricsRecorder {
    struct Key: Hashable {
        var route: String
        var method: String
    }

    final class RouteCells: Sendable {
        /// Indexed by status class 1xx…5xx.
        let byClass: [CounterCell]
        let duration: HistogramCell
        init(byClass: [CounterCell], duration: HistogramCell) {
            self.byClass = byClass
            self.duration = duration
        }
    }

    /// The table ``prepare(routes:)`` published.
    final class PreparedCells: Sendable {
        let cells: [Key: RouteCells]
        init(cells: [Key: RouteCells]) { self.cells = cells }
    }

    private let registry: MetricsRegistry
    private let prepared = PublishedCells()
    private let cells = Mutex<[Key: RouteCells]>([:])
    /// Requests that passed ``InFlightMiddleware``'s `before` and have not been recorded yet.
    public let inFlight: GaugeCell

    public init(registry: MetricsRegistry) {
        self.registry = registry
        self.inFlight = registry.gauge("atlas_http_requests_in_flight", help: "Requests being handled.")
    }

    /// Creates the cells of every route up front, so the first request of each costs no more
    /// than the rest and every route shows on `/metrics` at 0.
    public func prepare(routes: [(method: HTTPRequest.Method, template: String)]) {
        for route in routes { _ = cells(route: route.template, method: route.method.rawValue) }
        prepared.storeIfNil(PreparedCells(cells: cells.withLock { $0 }))
    }

    public func record(_ request: Request, context: RequestContext, status: HTTPResponse.Status, duration: Duration) {
        let template = context.route ?? "unmatched"
        let method = request.method.rawValue
        let route = prepared.load()?.cells[Key(route: template, method: method)] ?? cells(route: template, method: method)
        let statusClass = min(max(status.code / 100, 1), 5) - 1
        route.byClass[statusClass].increment()
        let (seconds, attoseconds) = duration.components
        route.duration.observe(Double(seconds) + Double(attoseconds) * 1e-18)
        if context.countedInFlight { inFlight.add(-1) }
    }

    private func cells(route: String, method: String) -> RouteCells {
        let key = Key(route: route, method: method)
        if let found = cells.withLock({ $0[key] }) { return found }
        let classes = ["1xx", "2xx", "3xx", "4xx", "5xx"].map { statusClass in
            registry.counter("atlas_http_requests_total",
                             labels: [("method", method), ("route", route), ("status_class", statusClass)],
                             help: "HTTP requests answered, by route template, method and status class.")
        }
        let duration = registry.histogram("atlas_http_request_duration_seconds",
                                          labels: [("method", method), ("route", route)],
                                          help: "Time from a complete request head to the response, by route.")
        let created = RouteCells(byClass: classes, duration: duration)
        return cells.withLock { cells in
            if let raced = cells[key] { return raced }
            cells[key] = created
            return created
        }
    }
}

/// Counts a request as in flight from its `before` hook until ``HTTPREDMetrics`` records it.
/// Install it after `useStandardMiddleware(…, metrics: red)`; a request whose `before` never ran
/// (answered earlier in the chain) is not counted and not subtracted.
public struct InFlightMiddleware: Middleware {
    let metrics: HTTPREDMetrics

    public init(metrics: HTTPREDMetrics) {
        self.metrics = metrics
    }

    public func before(_ request: Request, context: inout RequestContext) throws -> Response? {
        context.countedInFlight = true
        metrics.inFlight.add(1)
        return nil
    }
}

/// The prepared route cells, published once and then read without a lock. Not
/// `AtomicLazyReference`: its `load` is generic code of another module, which looked up
/// `Unmanaged<HTTPREDMetrics.PreparedCells>`'s metadata at run time on every request (some 650 instructions,
/// 4% of a `/health/live` request).
final class PublishedCells: Sendable {
    private let address = Atomic<UInt>(0)

    init() {}

    deinit {
        let raw = address.load(ordering: .acquiring)
        if let pointer = UnsafeRawPointer(bitPattern: raw) { Unmanaged<HTTPREDMetrics.PreparedCells>.fromOpaque(pointer).release() }
    }

    func load() -> HTTPREDMetrics.PreparedCells? {
        let raw = address.load(ordering: .acquiring)
        guard let pointer = UnsafeRawPointer(bitPattern: raw) else { return nil }
        return Unmanaged<HTTPREDMetrics.PreparedCells>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Publishes `cells` unless cells were published before.
    func storeIfNil(_ cells: HTTPREDMetrics.PreparedCells) {
        let retained = Unmanaged.passRetained(cells)
        let raw = UInt(bitPattern: retained.toOpaque())
        if !address.compareExchange(expected: 0, desired: raw, ordering: .acquiringAndReleasing).exchanged {
            retained.release()
        }
    }
}
