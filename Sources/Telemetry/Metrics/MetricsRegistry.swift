// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// The kind of a metric family, as the Prometheus text format names it.
public enum MetricKind: String, Sendable {
    case counter, gauge, histogram
}

/// A sorted list of label pairs; the identity of one time series inside a family.
public struct MetricLabels: Hashable, Sendable {
    /// Pairs sorted by name, so `[a=1, b=2]` and `[b=2, a=1]` are the same series.
    public let pairs: [(name: String, value: String)]

    public init(_ pairs: [(String, String)]) {
        self.pairs = pairs.map { (name: MetricName.sanitize($0.0), value: $0.1) }.sorted { $0.name < $1.name }
    }

    public static func == (lhs: MetricLabels, rhs: MetricLabels) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.name)
            hasher.combine(pair.value)
        }
    }
}

/// A monotonically increasing integer; increments are one atomic add.
public final class CounterCell: Sendable {
    private let storage = Atomic<Int64>(0)
    init() {}
    /// Adds `amount` (negative amounts are ignored: counters only go up).
    public func increment(by amount: Int64 = 1) {
        guard amount > 0 else { return }
        storage.wrappingAdd(amount, ordering: .relaxed)
    }
    public var value: Int64 { storage.load(ordering: .relaxed) }
    func reset() { storage.store(0, ordering: .relaxed) }
}

/// A value that goes up and down, stored as the bit pattern of a `Double`.
public final class GaugeCell: Sendable {
    private let bits = Atomic<UInt64>(0)
    init() {}
    public func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }
    /// Adds `delta` with a compare-and-swap loop.
    public func add(_ delta: Double) {
        var current = bits.load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: current) + delta).bitPattern
            let (exchanged, original) = bits.compareExchange(
                expected: current, desired: next, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
    public var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
}

/// Observations counted into fixed upper bounds, plus their sum and count.
public final class HistogramCell: Sendable {
    /// Upper bounds, ascending, without `+Inf`.
    public let bounds: [Double]
    private struct State {
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }
    private let state: Mutex<State>

    init(bounds: [Double]) {
        self.bounds = bounds
        self.state = Mutex(State(counts: Array(repeating: 0, count: bounds.count)))
    }

    /// Records one observation; a value above every bound lands only in `+Inf`.
    public func observe(_ value: Double) {
        var index = 0
        while index < bounds.count, value > bounds[index] { index += 1 }
        state.withLock { state in
            if index < state.counts.count { state.counts[index] &+= 1 }
            state.sum += value
            state.count &+= 1
        }
    }

    /// Cumulative bucket counts (one per bound), the sum and the count.
    public func snapshot() -> (cumulative: [UInt64], sum: Double, count: UInt64) {
        let copy = state.withLock { $0 }
        var running: UInt64 = 0
        let cumulative = copy.counts.map { running &+= $0; return running }
        return (cumulative, copy.sum, copy.count)
    }
}

/// Bucket bounds for request latency in seconds: fine below 10 ms, where this server's answers
/// mostly fall, up to 10 s for slow upstream calls.
public let latencyBucketsSeconds: [Double] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

/// Every metric family Atlas exports, keyed by name. Handles are created once and kept by their
/// users, so the hot path never touches the registry's lock.
public final class MetricsRegistry: Sendable {
    enum Cell: Sendable {
        case counter(CounterCell)
        case floatCounter(GaugeCell)
        case gauge(GaugeCell)
        case histogram(HistogramCell)
    }

    struct Family: Sendable {
        var kind: MetricKind
        var help: String
        var series: [MetricLabels: Cell] = [:]
        var order: [MetricLabels] = []
    }

    private let families = Mutex<[String: Family]>([:])

    public init() {}

    /// The counter `name{labels}`, created on first use. A name already registered with another
    /// kind gets a fresh, unregistered cell rather than a crash.
    public func counter(_ name: String, labels: [(String, String)] = [], help: String = "") -> CounterCell {
        let cell = cell(name, .counter, labels, help) { .counter(CounterCell()) }
        if case .counter(let counter) = cell { return counter }
        return CounterCell()
    }

    /// A counter with fractional increments (swift-metrics `FloatingPointCounter`).
    func floatingCounter(_ name: String, labels: [(String, String)] = [], help: String = "") -> GaugeCell {
        let cell = cell(name, .counter, labels, help) { .floatCounter(GaugeCell()) }
        if case .floatCounter(let counter) = cell { return counter }
        return GaugeCell()
    }

    /// The gauge `name{labels}`, created on first use.
    public func gauge(_ name: String, labels: [(String, String)] = [], help: String = "") -> GaugeCell {
        let cell = cell(name, .gauge, labels, help) { .gauge(GaugeCell()) }
        if case .gauge(let gauge) = cell { return gauge }
        return GaugeCell()
    }

    /// The histogram `name{labels}`, created on first use with `buckets`.
    public func histogram(_ name: String, labels: [(String, String)] = [], buckets: [Double] = latencyBucketsSeconds,
                          help: String = "") -> HistogramCell {
        let sorted = buckets.filter(\.isFinite).sorted()
        let cell = cell(name, .histogram, labels, help) { .histogram(HistogramCell(bounds: sorted)) }
        if case .histogram(let histogram) = cell { return histogram }
        return HistogramCell(bounds: sorted)
    }

    /// Forgets one series (swift-metrics `destroy…`).
    func remove(_ name: String, labels: MetricLabels) {
        families.withLock { families in
            families[name]?.series[labels] = nil
            families[name]?.order.removeAll { $0 == labels }
        }
    }

    private func cell(_ name: String, _ kind: MetricKind, _ labels: [(String, String)], _ help: String,
                      make: () -> Cell) -> Cell {
        let name = MetricName.sanitize(name)
        let key = MetricLabels(labels)
        return families.withLock { families in
            var family = families[name] ?? Family(kind: kind, help: help)
            guard family.kind == kind else { return make() }
            if let existing = family.series[key] { return existing }
            let created = make()
            family.series[key] = created
            family.order.append(key)
            if family.help.isEmpty { family.help = help }
            families[name] = family
            return created
        }
    }

    /// A copy of every family, sorted by name, for rendering.
    func snapshot() -> [(name: String, family: Family)] {
        families.withLock { $0 }.sorted { $0.key < $1.key }.map { (name: $0.key, family: $0.value) }
    }
}

/// Metric and label names as Prometheus accepts them: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
public enum MetricName {
    public static func sanitize(_ name: String) -> String {
        var out = ""
        for (index, scalar) in name.unicodeScalars.enumerated() {
            let ok = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar == ":"
                || (index > 0 && ("0"..."9").contains(scalar))
            out.unicodeScalars.append(ok ? scalar : "_")
        }
        return out.isEmpty ? "_" : out
    }
}
