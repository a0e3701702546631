// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import Foundation
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

        // The features behind the panels run first, so their series exist; tracing is on for the
        // span-queue panel (nothing listens on the endpoint; nothing is exported in this test).
        let exported = try await ServedMetrics.with(.sqlite, environment: ["ATLAS_OTLP_ENDPOINT": "http://127.0.0.1:9"]) { served in
            try await served.exercise()
            return Set(try await served.scrape().map(\.name))
        }
        #expect(!referenced.isEmpty)
        // Pool use, query p95, tokens per tenant, cache hit ratio, outbox backlog, delivery failures.
        for name in ["atlas_http_open_connections", "atlas_storage_pool_connections_in_use", "atlas_storage_query_duration_seconds_bucket",
                     "atlas_ai_tokens_total", "atlas_ai_semantic_cache_lookups_total", "atlas_billing_outbox_pending",
                     "atlas_billing_outbox_failed_total"] {
            #expect(referenced.contains(name), "the dashboard has no panel on \(name)")
        }
        for name in referenced.sorted() {
            #expect(exported.contains(name), "dashboard queries \(name), which /metrics does not export")
        }
    }
}
