// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import CoreMetrics

/// A swift-metrics backend writing into a ``MetricsRegistry``, so any library that uses
/// `Counter`, `Gauge`, `Recorder`, `Meter` or `Timer` shows up on `/metrics`.
///
/// Labels become Prometheus names (dots and dashes turn into `_`); dimensions become labels.
/// Aggregating recorders and timers are histograms (timers in seconds, with
/// ``latencyBucketsSeconds``); non-aggregating recorders and meters are gauges.
///
/// ```swift
/// MetricsSystem.bootstrap(AtlasMetricsFactory(registry: telemetry.registry))
/// ```
public struct AtlasMetricsFactory: MetricsFactory {
    public let registry: MetricsRegistry

    public init(registry: MetricsRegistry) {
        self.registry = registry
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        CounterAdapter(cell: registry.counter(label, labels: dimensions), registry: registry,
                       name: MetricName.sanitize(label), labels: MetricLabels(dimensions))
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        FloatingCounterAdapter(cell: registry.floatingCounter(label, labels: dimensions), registry: registry,
                               name: MetricName.sanitize(label), labels: MetricLabels(dimensions))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        GaugeAdapter(cell: registry.gauge(label, labels: dimensions), registry: registry,
                     name: MetricName.sanitize(label), labels: MetricLabels(dimensions))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        if aggregate {
            return HistogramAdapter(cell: registry.histogram(label, labels: dimensions), registry: registry,
                                    name: MetricName.sanitize(label), labels: MetricLabels(dimensions), scale: 1)
        }
        return GaugeAdapter(cell: registry.gauge(label, labels: dimensions), registry: registry,
                            name: MetricName.sanitize(label), labels: MetricLabels(dimensions))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let name = MetricName.sanitize(label)
        let seconds = name.hasSuffix("_seconds") ? name : name + "_seconds"
        return HistogramAdapter(cell: registry.histogram(seconds, labels: dimensions), registry: registry,
                                name: seconds, labels: MetricLabels(dimensions), scale: 1e-9)
    }

    public func destroyCounter(_ handler: any CounterHandler) { (handler as? any Removable)?.remove() }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { (handler as? any Removable)?.remove() }
    public func destroyMeter(_ handler: any MeterHandler) { (handler as? any Removable)?.remove() }
    public func destroyRecorder(_ handler: any RecorderHandler) { (handler as? any Removable)?.remove() }
    public func destroyTimer(_ handler: any TimerHandler) { (handler as? any Removable)?.remove() }
}

private protocol Removable {
    var registry: MetricsRegistry { get }
    var name: String { get }
    var labels: MetricLabels { get }
}

extension Removable {
    func remove() { registry.remove(name, labels: labels) }
}

private final class CounterAdapter: CounterHandler, Removable {
    let cell: CounterCell, registry: MetricsRegistry, name: String, labels: MetricLabels
    init(cell: CounterCell, registry: MetricsRegistry, name: String, labels: MetricLabels) {
        (self.cell, self.registry, self.name, self.labels) = (cell, registry, name, labels)
    }
    func increment(by amount: Int64) { cell.increment(by: amount) }
    func reset() { cell.reset() }
}

private final class FloatingCounterAdapter: FloatingPointCounterHandler, Removable {
    let cell: GaugeCell, registry: MetricsRegistry, name: String, labels: MetricLabels
    init(cell: GaugeCell, registry: MetricsRegistry, name: String, labels: MetricLabels) {
        (self.cell, self.registry, self.name, self.labels) = (cell, registry, name, labels)
    }
    func increment(by amount: Double) { if amount > 0, amount.isFinite { cell.add(amount) } }
    func reset() { cell.set(0) }
}

private final class GaugeAdapter: RecorderHandler, MeterHandler, Removable {
    let cell: GaugeCell, registry: MetricsRegistry, name: String, labels: MetricLabels
    init(cell: GaugeCell, registry: MetricsRegistry, name: String, labels: MetricLabels) {
        (self.cell, self.registry, self.name, self.labels) = (cell, registry, name, labels)
    }
    func record(_ value: Int64) { cell.set(Double(value)) }
    func record(_ value: Double) { cell.set(value) }
    func set(_ value: Int64) { cell.set(Double(value)) }
    func set(_ value: Double) { cell.set(value) }
    func increment(by amount: Double) { cell.add(amount) }
    func decrement(by amount: Double) { cell.add(-amount) }
}

private final class HistogramAdapter: RecorderHandler, TimerHandler, Removable {
    let cell: HistogramCell, registry: MetricsRegistry, name: String, labels: MetricLabels
    let scale: Double
    init(cell: HistogramCell, registry: MetricsRegistry, name: String, labels: MetricLabels, scale: Double) {
        (self.cell, self.registry, self.name, self.labels, self.scale) = (cell, registry, name, labels, scale)
    }
    func record(_ value: Int64) { cell.observe(Double(value) * scale) }
    func record(_ value: Double) { cell.observe(value * scale) }
    func recordNanoseconds(_ duration: Int64) { cell.observe(Double(duration) * scale) }
}
