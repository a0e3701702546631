// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
import Foundation
import HTTP
import HTTPTypes
import Metrics
import Testing
@testable import Telemetry

/// Parses Prometheus text with prometheus_client's own parser and prints one JSON object per
/// sample: name, labels, value, and the family type.
private let parseScript = """
import sys, json
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        print(json.dumps({"family": family.name, "type": family.type, "name": s.name, "labels": s.labels, "value": s.value}))
"""

struct ParsedSample: Decodable {
    var family: String
    var type: String
    var name: String
    var labels: [String: String]
    var value: Double
}

func parsePrometheus(_ text: String) throws -> [ParsedSample] {
    let output = try runPython(parseScript, input: Data(text.utf8))
    return try output.split(separator: "\n").map { try JSONDecoder().decode(ParsedSample.self, from: Data($0.utf8)) }
}

@Suite struct MetricsTests {
    func makeRouter(_ telemetry: TelemetryModule) -> Router {
        let router = Router()
        router.useStandardMiddleware(configuration: HTTPServer.Configuration(), accessLog: nil,
                                     metrics: telemetry.metricsRecorder, compression: false)
        telemetry.installMiddleware(on: router)
        _ = router.get("/tenants/{tenant}/things") { _, _ in Response.text("ok") }
        _ = router.get("/boom") { _, _ in Response.text("no", status: .internalServerError) }
        telemetry.registerMetricsRoute(on: router, counters: [
            counterSource(prefix: "atlas_billing_") { [("stripe_webhooks_rejected_total", "no_matching_signature", 3)] },
        ])
        return router
    }

    func scrape(_ router: Router) async throws -> [ParsedSample] {
        let request = try Request(method: .get, target: "/metrics", headers: [.authorization: "Bearer s3cret"])
        let response = await router.respond(to: request)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == PrometheusRenderer.contentType)
        return try parsePrometheus(String(decoding: response.body.bytes ?? [], as: UTF8.self))
    }

    @Test func exportsREDMetricsPerRoute_ParsedByPrometheusClient() async throws {
        let telemetry = try TelemetryModule(environment: EnvironmentReader(["ATLAS_METRICS_TOKEN": "s3cret"]))
        let router = makeRouter(telemetry)
        for tenant in ["acme", "globex", "acme"] {
            _ = await router.respond(to: try Request(method: .get, target: "/tenants/\(tenant)/things"))
        }
        _ = await router.respond(to: try Request(method: .get, target: "/boom"))
        _ = await router.respond(to: try Request(method: .get, target: "/nowhere"))

        let samples = try await scrape(router)
        func value(_ name: String, _ labels: [String: String]) -> Double? {
            samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
        }
        #expect(value("atlas_http_requests_total", ["route": "/tenants/{tenant}/things", "method": "GET", "status_class": "2xx"]) == 3)
        #expect(value("atlas_http_requests_total", ["route": "/boom", "status_class": "5xx"]) == 1)
        #expect(value("atlas_http_requests_total", ["route": "unmatched", "status_class": "4xx"]) == 1)
        #expect(value("atlas_http_request_duration_seconds_count", ["route": "/tenants/{tenant}/things"]) == 3)
        #expect(value("atlas_http_request_duration_seconds_bucket", ["route": "/tenants/{tenant}/things", "le": "+Inf"]) == 3)
        #expect(samples.first { $0.name == "atlas_http_request_duration_seconds_count" }?.type == "histogram")
        // The scrape itself is in flight while rendering; everything else has finished.
        #expect(value("atlas_http_requests_in_flight", [:]) == 1)
        #expect(value("atlas_billing_stripe_webhooks_rejected_total", ["reason": "no_matching_signature"]) == 3)
        #expect(!samples.contains { $0.labels["route"]?.contains("acme") == true })
    }

    @Test func swiftMetricsAPI_WritesIntoTheRegistry() throws {
        let registry = MetricsRegistry()
        let factory = AtlasMetricsFactory(registry: registry)
        let counter = Counter(label: "atlas.ai.tokens", dimensions: [("tenant", "acme")], factory: factory)
        counter.increment(by: 42)
        let gauge = Gauge(label: "atlas_storage_pool_in_use", factory: factory)
        gauge.record(3)
        let timer = Metrics.Timer(label: "atlas_storage_query_duration", dimensions: [("op", "select")], factory: factory)
        timer.recordMilliseconds(20)
        let samples = try parsePrometheus(PrometheusRenderer.render(registry))
        #expect(samples.contains { $0.name == "atlas_ai_tokens_total" && $0.labels["tenant"] == "acme" && $0.value == 42 })
        #expect(samples.contains { $0.name == "atlas_storage_pool_in_use" && $0.value == 3 })
        #expect(samples.contains { $0.name == "atlas_storage_query_duration_seconds_sum" && abs($0.value - 0.02) < 1e-9 })
        #expect(samples.contains { $0.name == "atlas_storage_query_duration_seconds_bucket" && $0.labels["le"] == "0.025" && $0.value == 1 })
    }

    /// The process-wide bootstrap happens once; later modules retarget it, and a handle keeps the
    /// registry it was made for. (The only test in this target using the global factory.)
    @Test func globalMetrics_RouteFactorylessHandles_ToTheModuleInstalledLast() throws {
        let first = try TelemetryModule(environment: EnvironmentReader([:]))
        first.installGlobalMetrics()
        let early = Counter(label: "atlas_global_probe_total", dimensions: [("at", "first")])
        early.increment(by: 2)
        let second = try TelemetryModule(environment: EnvironmentReader([:]))
        second.installGlobalMetrics()
        Counter(label: "atlas_global_probe_total", dimensions: [("at", "second")]).increment(by: 3)
        early.increment()
        let firstSamples = try parsePrometheus(PrometheusRenderer.render(first.registry))
        let secondSamples = try parsePrometheus(PrometheusRenderer.render(second.registry))
        #expect(firstSamples.filter { $0.name == "atlas_global_probe_total" }.map(\.value) == [3])
        #expect(secondSamples.filter { $0.name == "atlas_global_probe_total" }.map { "\($0.labels["at"] ?? ""):\($0.value)" } == ["second:3.0"])
    }

    @Test func escapesLabelValues_SoTheParserReadsThemBack() throws {
        let registry = MetricsRegistry()
        registry.counter("atlas_odd_total", labels: [("tenant", "a\"b\\c\nd")]).increment()
        let samples = try parsePrometheus(PrometheusRenderer.render(registry))
        #expect(samples.first?.labels["tenant"] == "a\"b\\c\nd")
    }

    @Test func refusesMetrics_WithoutTokenFromNonLoopbackPeer() async throws {
        let telemetry = try TelemetryModule(environment: EnvironmentReader(["ATLAS_METRICS_TOKEN": "s3cret"]))
        let router = makeRouter(telemetry)
        let remote = RequestContext(remoteAddress: SocketAddress("10.1.2.3", port: 5555))
        let anonymous = await router.respond(to: try Request(method: .get, target: "/metrics"), context: remote)
        #expect(anonymous.status == .unauthorized)
        let wrong = await router.respond(
            to: try Request(method: .get, target: "/metrics", headers: [.authorization: "Bearer s3cres"]), context: remote)
        #expect(wrong.status == .forbidden)
        let right = await router.respond(
            to: try Request(method: .get, target: "/metrics", headers: [.authorization: "Bearer s3cret"]), context: remote)
        #expect(right.status == .ok)
        let loopback = RequestContext(remoteAddress: SocketAddress("127.0.0.1", port: 5555))
        let local = await router.respond(to: try Request(method: .get, target: "/metrics"), context: loopback)
        #expect(local.status == .ok)
    }

    @Test func refusesMetrics_WhenNoTokenIsConfigured() async throws {
        let telemetry = try TelemetryModule(environment: EnvironmentReader([:]))
        let router = makeRouter(telemetry)
        let remote = RequestContext(remoteAddress: SocketAddress("10.1.2.3", port: 5555))
        let response = await router.respond(
            to: try Request(method: .get, target: "/metrics", headers: [.authorization: "Bearer "]), context: remote)
        #expect(response.status == .forbidden)
    }
}
