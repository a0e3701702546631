// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes
import Testing
@testable import Telemetry

@Suite struct DashboardTests {
    /// infra/observability/, found from this file's place in the repository.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("infra/observability")

    @Test func everyDashboardMetric_IsExportedOnMetrics() async throws {
        let json = try String(contentsOf: Self.directory.appendingPathComponent("grafana-dashboard.json"), encoding: .utf8)
        let dashboard = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let panels = try #require(dashboard?["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(expressions.count >= 6)
        let pattern = try NSRegularExpression(pattern: "atlas_[a-z0-9_]+")
        var referenced = Set<String>()
        for expression in expressions {
            for match in pattern.matches(in: expression, range: NSRange(expression.startIndex..., in: expression)) {
                referenced.insert(String(expression[Range(match.range, in: expression)!]))
            }
        }

        let telemetry = try TelemetryModule(environment: EnvironmentReader(["ATLAS_OTLP_ENDPOINT": "http://127.0.0.1:9"]))
        let router = Router()
        router.useStandardMiddleware(configuration: HTTPServer.Configuration(), accessLog: nil,
                                     metrics: telemetry.metricsRecorder, compression: false)
        telemetry.installMiddleware(on: router)
        _ = router.get("/health/live") { _, _ in Response.text("ok") }
        telemetry.registerMetricsRoute(on: router)
        let scrape = await router.respond(to: try Request(method: .get, target: "/metrics"),
                                          context: RequestContext(remoteAddress: SocketAddress("127.0.0.1", port: 1)))
        let samples = try parsePrometheus(String(decoding: scrape.body.bytes ?? [], as: UTF8.self))
        let exported = Set(samples.map(\.name))
        #expect(!referenced.isEmpty)
        for name in referenced.sorted() {
            #expect(exported.contains(name), "dashboard queries \(name), which /metrics does not export")
        }
    }
}
