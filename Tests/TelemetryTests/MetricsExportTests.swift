// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Core
import Foundation
import HTTP
import HTTPTypes
import Testing
@testable import Telemetry

/// Decodes an `ExportMetricsServiceRequest` with opentelemetry-proto and prints
/// name → kind and data points as JSON.
private let decodeMetricsScript = """
import sys, json
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
request = ExportMetricsServiceRequest()
request.ParseFromString(sys.stdin.buffer.read())
out = {}
for rm in request.resource_metrics:
    for sm in rm.scope_metrics:
        for m in sm.metrics:
            kind = m.WhichOneof("data")
            points = []
            for p in getattr(m, kind).data_points:
                attrs = {kv.key: kv.value.string_value for kv in p.attributes}
                if kind == "histogram":
                    points.append({"attrs": attrs, "count": p.count, "sum": p.sum, "buckets": list(p.bucket_counts), "bounds": len(p.explicit_bounds)})
                else:
                    v = p.as_int if p.WhichOneof("value") == "as_int" else p.as_double
                    points.append({"attrs": attrs, "value": v})
            out[m.name] = {"kind": kind, "points": points,
                           "monotonic": getattr(m, kind).is_monotonic if kind == "sum" else False,
                           "cumulative": getattr(m, kind).aggregation_temporality == 2 if kind in ("sum", "histogram") else False}
print(json.dumps(out))
"""

@Suite struct MetricsExportTests {
    struct Point: Decodable {
        var attrs: [String: String]
        var value: Double?
        var count: Int?
        var buckets: [Int]?
        var bounds: Int?
    }
    struct Metric: Decodable {
        var kind: String
        var points: [Point]
        var monotonic: Bool
        var cumulative: Bool
    }

    @Test func exportsREDMetricsOverOTLP_DecodedByOpenTelemetryProto() async throws {
        let collector = Collector(path: "/v1/metrics")
        let endpoint = try await collector.start()
        defer { collector.stop() }
        let telemetry = try TelemetryModule(environment: EnvironmentReader(["ATLAS_OTLP_ENDPOINT": endpoint.absoluteString]))
        let router = Router()
        router.useStandardMiddleware(configuration: HTTPServer.Configuration(), accessLog: nil,
                                     metrics: telemetry.metricsRecorder, compression: false)
        telemetry.installMiddleware(on: router)
        _ = router.get("/health/live") { _, _ in Response.text("ok") }
        for _ in 0..<4 { _ = await router.respond(to: try Request(method: .get, target: "/health/live")) }
        telemetry.contribute {
            [ContributedSample(name: "atlas_billing_outbox_failed_total", labels: [("reason", "budget.alert")], value: 5),
             ContributedSample(name: "atlas_http_open_connections", value: 7)]
        }

        let exporter = try #require(telemetry.metricsExporter)
        await exporter.export()
        #expect(exporter.sent == 1)
        let body = try #require(collector.bodies.first)
        let metrics = try JSONDecoder().decode([String: Metric].self,
                                               from: Data(try runPython(decodeMetricsScript, input: Data(body)).utf8))
        let requests = try #require(metrics["atlas_http_requests_total"])
        #expect(requests.kind == "sum" && requests.monotonic && requests.cumulative)
        #expect(requests.points.first { $0.attrs["route"] == "/health/live" && $0.attrs["status_class"] == "2xx" }?.value == 4)
        let duration = try #require(metrics["atlas_http_request_duration_seconds"])
        #expect(duration.kind == "histogram")
        let point = try #require(duration.points.first)
        #expect(point.count == 4)
        #expect(point.buckets?.count == (point.bounds ?? 0) + 1)
        #expect(point.buckets?.reduce(0, +) == 4)
        #expect(metrics["atlas_http_requests_in_flight"]?.kind == "gauge")
        // Samples other modules contribute at scrape time leave over OTLP too, as on /metrics.
        let failed = try #require(metrics["atlas_billing_outbox_failed_total"])
        #expect(failed.kind == "sum" && failed.monotonic && failed.cumulative)
        #expect(failed.points.first?.attrs["reason"] == "budget.alert" && failed.points.first?.value == 5)
        #expect(metrics["atlas_http_open_connections"]?.kind == "gauge" && metrics["atlas_http_open_connections"]?.points.first?.value == 7)
    }
}
