// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import Core
public import CoreMetrics
public import HTTP
public import Logging
public import ServiceLifecycle
import Foundation
import Instrumentation
import Synchronization

/// The Telemetry module's entry point, built once by the `atlas` composition root from the
/// environment (SPEC §2): `ATLAS_OTLP_ENDPOINT`, `ATLAS_AI_OTLP_ENDPOINT`, `ATLAS_OTLP_PROTOCOL`,
/// `ATLAS_OTLP_SAMPLE_RATIO`, `ATLAS_METRICS_TOKEN`.
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
    /// The exporter of AI spans (`ai.*`) to `ATLAS_AI_OTLP_ENDPOINT`, when that is set.
    public let aiTraceExporter: OTLPTraceExporter?
    /// The OTLP metrics exporter service, when `ATLAS_OTLP_ENDPOINT` is set with the protobuf protocol.
    public let metricsExporter: OTLPMetricsExporter?
    let metricsToken: String?
    private let contributors = Contributors()

    /// The scrape-time sources, shared with the OTLP metrics exporter.
    final class Contributors: Sendable {
        let list = Mutex<[MetricsContributor]>([])
        var samples: [ContributedSample] { list.withLock { $0 }.flatMap { $0() } }
    }

    public init(environment: EnvironmentReader = EnvironmentReader(), logger: Logger = Logger(label: "atlas.telemetry"),
                queueCapacity: Int = 2048) throws {
        let registry = MetricsRegistry()
        self.registry = registry
        red = HTTPREDMetrics(registry: registry)
        metricsToken = environment.raw("ATLAS_METRICS_TOKEN")
        let encoding = try environment.choice("ATLAS_OTLP_PROTOCOL", default: OTLPProtocol.protobuf)
        let endpoint = try Self.endpoint(environment, "ATLAS_OTLP_ENDPOINT")
        let aiEndpoint = try Self.endpoint(environment, "ATLAS_AI_OTLP_ENDPOINT")
        if endpoint != nil || aiEndpoint != nil {
            let queue = SpanQueue(capacity: queueCapacity, encoding: encoding)
            let aiQueue = aiEndpoint.map { _ in SpanQueue(capacity: queueCapacity, encoding: encoding) }
            tracer = AtlasTracer(queue: queue, aiQueue: aiQueue, keepsOtherSpans: endpoint != nil,
                                 sampleRatio: try environment.double("ATLAS_OTLP_SAMPLE_RATIO", default: 1, in: 0...1))
            // Without a general endpoint, only AI spans leave the process; the rest still carry
            // trace context (the access log's trace_id, outgoing traceparent) and are dropped.
            traceExporter = endpoint.map { OTLPTraceExporter(endpoint: $0, queue: queue, logger: logger) }
            if let aiEndpoint, let aiQueue {
                aiTraceExporter = OTLPTraceExporter(endpoint: aiEndpoint, queue: aiQueue, logger: logger)
            } else {
                aiTraceExporter = nil
            }
            let contributors = self.contributors
            metricsExporter = encoding == .protobuf
                ? endpoint.map { OTLPMetricsExporter(endpoint: $0, registry: registry, logger: logger,
                                                     contributed: { contributors.samples }) } : nil
        } else {
            tracer = nil
            traceExporter = nil
            aiTraceExporter = nil
            metricsExporter = nil
        }
        if let tracer {
            let queues = [tracer.queue] + (tracer.aiQueue.map { [$0] } ?? [])
            contribute {
                [ContributedSample(name: "atlas_trace_spans_dropped_total", value: Double(queues.map(\.dropped).reduce(0, +))),
                 ContributedSample(name: "atlas_trace_spans_queued", value: Double(queues.map(\.count).reduce(0, +)))]
            }
        }
    }

    private static func endpoint(_ environment: EnvironmentReader, _ name: String) throws -> URL? {
        guard let raw = environment.raw(name), !raw.isEmpty else { return nil }
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil else {
            throw ConfigurationError(variable: name, reason: "expected an http(s) base URL, got \(raw)")
        }
        return url
    }

    private static let globalTracerInstalled = Mutex(false)

    /// Makes this module's tracer the process-wide one, so `withSpan` anywhere (graph nodes,
    /// LLM calls, storage) records into it. swift-distributed-tracing allows one bootstrap per
    /// process: later calls (tests building several applications) keep the first.
    public func installGlobalTracer() {
        guard let tracer else { return }
        Self.globalTracerInstalled.withLock { installed in
            guard !installed else { return }
            installed = true
            InstrumentationSystem.bootstrap(tracer)
        }
    }

    /// A swift-metrics backend over ``registry``: pass it to the modules (`openDatabase(…, metrics:)`,
    /// `BillingModule(…, metrics:)`, `AIModule(…, metrics:)`), so their handles write into this
    /// module's registry even when a process holds several.
    public var metricsFactory: any MetricsFactory { AtlasMetricsFactory(registry: registry) }

    /// Makes ``metricsFactory`` the target of the process-wide `MetricsSystem`, so `Counter`,
    /// `Gauge`, `Timer` … created without a factory (by any library) land on `/metrics` and in the
    /// OTLP export. swift-metrics allows one bootstrap per process: the first call bootstraps a
    /// forwarding factory, later calls (tests building several applications) retarget it.
    public func installGlobalMetrics() {
        ForwardingMetricsFactory.install(metricsFactory)
    }

    /// The recorder for `Router.useStandardMiddleware(configuration:accessLog:metrics:compression:)`.
    public var metricsRecorder: any HTTPMetricsRecorder { red }

    /// Long-running work to add to the service group: the span and metrics exporters when
    /// `ATLAS_OTLP_ENDPOINT` is set.
    public var services: [any Service] {
        var services: [any Service] = []
        if let traceExporter { services.append(traceExporter) }
        if let aiTraceExporter { services.append(aiTraceExporter) }
        if let metricsExporter { services.append(metricsExporter) }
        return services
    }

    /// Adds a scrape-time source of samples (another module's counters).
    public func contribute(_ contributor: @escaping MetricsContributor) {
        contributors.list.withLock { $0.append(contributor) }
    }

    /// Installs the in-flight gauge and, when tracing is on, the request span middleware. Call it
    /// after `useStandardMiddleware`, so both see the request id and the final status.
    public func installMiddleware(on router: Router) {
        router.use(InFlightMiddleware(metrics: red))
        if let tracer {
            let tracing = TracingMiddleware(tracer: tracer)
            router.use(tracing)
            router.scope(tracing)
        }
    }

    /// Registers `GET /metrics` (see ``MetricsAccess``) and pre-creates the RED series of every
    /// route registered so far.
    public func registerMetricsRoute(on router: Router, counters: [MetricsContributor] = [],
                                     authorize: (@Sendable (Request) -> Bool)? = nil) {
        for counter in counters { contribute(counter) }
        router.registerMetricsRoute(registry: registry, access: MetricsAccess(token: metricsToken, authorize: authorize),
                                    contributors: { [contributors] in contributors.list.withLock { $0 } })
        red.prepare(routes: router.routes)
    }
}
