// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// Sends the registry's metrics to `<endpoint>/v1/metrics` every `interval` (10 s by default,
/// SPEC §4) as an OTLP `ExportMetricsServiceRequest` with cumulative temporality: counters as
/// monotonic sums, gauges as gauges, histograms with explicit bounds. Protobuf encoding only.
public final class OTLPMetricsExporter: Service, Sendable {
    public let url: URL
    let registry: MetricsRegistry
    let interval: Duration
    let poster: OTLPPoster
    let startNanos: UInt64
    let resource: [(key: String, value: OTLPValue)]
    let logger: Logger
    let contributed: @Sendable () -> [ContributedSample]
    private let sentCount = Atomic<Int>(0)

    /// - Parameter contributed: scrape-time samples of other modules (``MetricsContributor``),
    ///   exported beside the registry's families, as on `/metrics`.
    public init(endpoint: URL, registry: MetricsRegistry, serviceName: String = "atlas",
                interval: Duration = .seconds(10), timeout: TimeInterval = 10,
                logger: Logger = Logger(label: "atlas.telemetry"),
                contributed: @escaping @Sendable () -> [ContributedSample] = { [] }) {
        self.contributed = contributed
        var base = endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.url = URL(string: base + "/v1/metrics") ?? endpoint
        self.registry = registry
        self.interval = interval
        self.poster = OTLPPoster(url: self.url, timeout: timeout)
        self.startNanos = Self.nowNanos()
        self.resource = [("service.name", .string(serviceName))]
        self.logger = logger
    }

    /// Exports accepted by the collector since start.
    public var sent: Int { sentCount.load(ordering: .relaxed) }

    public func run() async throws {
        var last = ContinuousClock.now
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(100))
            if ContinuousClock.now - last >= interval {
                await export()
                last = ContinuousClock.now
            }
        }
        await Task.detached { await self.export() }.value
    }

    /// Sends one snapshot now.
    public func export() async {
        let body = OTLPMetricsEncoder.protobuf(Self.families(registry, contributed()), startNanos: startNanos,
                                               nowNanos: Self.nowNanos(), resource: resource)
        switch await poster.send(body, encoding: .protobuf) {
        case .success: sentCount.add(1, ordering: .relaxed)
        case .rejected(let status): logger.warning("otlp metrics export rejected", metadata: ["status": "\(status)"])
        case .retryable: logger.debug("otlp metrics export failed; the next interval sends a fresh snapshot")
        }
    }

    /// The registry's families plus the contributed samples whose names it does not hold (the
    /// same rule as ``PrometheusRenderer``), sorted by name.
    static func families(_ registry: MetricsRegistry, _ contributed: [ContributedSample])
        -> [(name: String, family: MetricsRegistry.Family)] {
        let own = registry.snapshot()
        guard !contributed.isEmpty else { return own }
        let names = Set(own.map(\.name))
        let extra = MetricsRegistry()
        for sample in contributed where !names.contains(sample.name) {
            switch sample.kind {
            case .counter: extra.floatingCounter(sample.name, labels: sample.labels).set(sample.value)
            case .gauge, .histogram: extra.gauge(sample.name, labels: sample.labels).set(sample.value)
            }
        }
        return (own + extra.snapshot()).sorted { $0.name < $1.name }
    }

    static func nowNanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// `ExportMetricsServiceRequest` (opentelemetry-proto, collector/metrics/v1) in protobuf.
enum OTLPMetricsEncoder {
    static func protobuf(_ families: [(name: String, family: MetricsRegistry.Family)], startNanos: UInt64,
                         nowNanos: UInt64, resource: [(key: String, value: OTLPValue)]) -> [UInt8] {
        var request = ProtoWriter()
        request.message(1) { resourceMetrics in
            resourceMetrics.message(1) { res in
                for attribute in resource { res.message(1) { OTLPTraceEncoder.keyValue(&$0, attribute) } }
            }
            resourceMetrics.message(2) { scopeMetrics in
                scopeMetrics.message(1) { $0.string(1, OTLPTraceEncoder.scopeName) }
                for (name, family) in families where !family.series.isEmpty {
                    scopeMetrics.message(2) { metric in
                        metric.string(1, name, always: true)
                        metric.string(2, family.help)
                        let field = family.kind == .counter ? 7 : family.kind == .gauge ? 5 : 9
                        metric.message(field) { data in
                            for labels in family.order {
                                guard let cell = family.series[labels] else { continue }
                                data.message(1) { point in
                                    point.fixed64(2, startNanos)
                                    point.fixed64(3, nowNanos)
                                    let attributes = labels.pairs.map { (key: $0.name, value: OTLPValue.string($0.value)) }
                                    switch cell {
                                    case .counter(let counter):
                                        point.sfixed64(6, counter.value)
                                        for attribute in attributes { point.message(7) { OTLPTraceEncoder.keyValue(&$0, attribute) } }
                                    case .floatCounter(let gauge), .gauge(let gauge):
                                        point.double(4, gauge.value)
                                        for attribute in attributes { point.message(7) { OTLPTraceEncoder.keyValue(&$0, attribute) } }
                                    case .histogram(let histogram):
                                        let snapshot = histogram.snapshot()
                                        point.fixed64(4, snapshot.count)
                                        point.double(5, snapshot.sum)
                                        var previous: UInt64 = 0
                                        for cumulative in snapshot.cumulative {
                                            point.fixed64(6, cumulative - previous)
                                            previous = cumulative
                                        }
                                        point.fixed64(6, snapshot.count - previous)
                                        for bound in histogram.bounds { point.double(7, bound) }
                                        for attribute in attributes { point.message(9) { OTLPTraceEncoder.keyValue(&$0, attribute) } }
                                    }
                                }
                            }
                            if family.kind != .gauge { data.uint(2, 2) }  // AGGREGATION_TEMPORALITY_CUMULATIVE
                            if family.kind == .counter { data.bool(3, true) }
                        }
                    }
                }
            }
        }
        return request.bytes
    }
}
