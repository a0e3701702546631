// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import Core
public import HTTP
public import Logging
public import ServiceLifecycle
import Foundation
import Synchronization

/// The Telemetry module's entry point, built once by the `atlas` composition root from the
/// environment (SPEC §2): `ATLAS_OTLP_ENDPOINT`, `ATLAS_OTLP_PROTOCOL`, `ATLAS_METRICS_TOKEN`.
///
/// ```swift
/// let telemetry = try TelemetryModule(environment: environment, logger: logger)
/// router.useStandardMiddleware(configuration: http, metrics: telemetry.metricsRecorder)
/// telemetry.installMiddleware(on: router)
/// telemetry.registerMetricsRoute(on: router, counters: [counterSource(prefix: "atlas_billing_", billing.counters)])
/// services += telemetry.services
/// ```
public final class TelemetryModule: Sendable {
    /// The prefix of every table this module owns (ARCHITECTURE.md, rule 3).
    public static let tablePrefix = "telemetry_"

    /// Every metric this process exports.
    public let registry: MetricsRegistry
    /// RED metrics per route, for `useStandardMiddleware(…, metrics:)`.
    public let red: HTTPREDMetrics
    /// The tracer; `nil` when `ATLAS_OTLP_ENDPOINT` is unset (tracing off).
    public let tracer: AtlasTracer?
    /// The OTLP span exporter service, when tracing is on.
    public let traceExporter: OTLPTraceExporter?
    /// The OTLP metrics exporter service, when `ATLAS_OTLP_ENDPOINT` is set with the protobuf protocol.
    public let metricsExporter: OTLPMetricsExporter?
    let metricsToken: String?
    private let contributors = Mutex<[MetricsContributor]>([])

    public init(environment: EnvironmentReader = EnvironmentReader(), logger: Logger = Logger(label: "atlas.telemetry"),
                queueCapacity: Int = 2048) throws {
        registry = MetricsRegistry()
        red = HTTPREDMetrics(registry: registry)
        metricsToken = environment.raw("ATLAS_METRICS_TOKEN")
        let encoding = try environment.choice("ATLAS_OTLP_PROTOCOL", default: OTLPProtocol.protobuf)
        if let raw = environment.raw("ATLAS_OTLP_ENDPOINT"), !raw.isEmpty {
            guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  url.host != nil else {
                throw ConfigurationError(variable: "ATLAS_OTLP_ENDPOINT", reason: "expected an http(s) base URL, got \(raw)")
            }
            let queue = SpanQueue(capacity: queueCapacity)
            tracer = AtlasTracer(queue: queue)
            traceExporter = OTLPTraceExporter(endpoint: url, encoding: encoding, queue: queue, logger: logger)
            metricsExporter = encoding == .protobuf ? OTLPMetricsExporter(endpoint: url, registry: registry, logger: logger) : nil
        } else {
            tracer = nil
            traceExporter = nil
            metricsExporter = nil
        }
        if let queue = tracer?.queue {
            contribute {
                [ContributedSample(name: "atlas_trace_spans_dropped_total", value: Double(queue.dropped)),
                 ContributedSample(name: "atlas_trace_spans_queued", value: Double(queue.count))]
            }
        }
    }

    /// The recorder for `Router.useStandardMiddleware(configuration:accessLog:metrics:compression:)`.
    public var metricsRecorder: any HTTPMetricsRecorder { red }

    /// Long-running work to add to the service group: the span and metrics exporters when
    /// `ATLAS_OTLP_ENDPOINT` is set.
    public var services: [any Service] {
        var services: [any Service] = []
        if let traceExporter { services.append(traceExporter) }
        if let metricsExporter { services.append(metricsExporter) }
        return services
    }

    /// Adds a scrape-time source of samples (another module's counters).
    public func contribute(_ contributor: @escaping MetricsContributor) {
        contributors.withLock { $0.append(contributor) }
    }

    /// Installs the in-flight gauge and, when tracing is on, the request span middleware. Call it
    /// after `useStandardMiddleware`, so both see the request id and the final status.
    public func installMiddleware(on router: Router) {
        router.use(InFlightMiddleware(metrics: red))
        if let tracer { router.use(TracingMiddleware(tracer: tracer)) }
    }

    /// Registers `GET /metrics` (see ``MetricsAccess``) and pre-creates the RED series of every
    /// route registered so far.
    public func registerMetricsRoute(on router: Router, counters: [MetricsContributor] = [],
                                     authorize: (@Sendable (Request) -> Bool)? = nil) {
        for counter in counters { contribute(counter) }
        router.registerMetricsRoute(registry: registry, access: MetricsAccess(token: metricsToken, authorize: authorize),
                                    contributors: { [self] in self.contributors.withLock { $0 } })
        red.prepare(routes: router.routes)
    }
}
