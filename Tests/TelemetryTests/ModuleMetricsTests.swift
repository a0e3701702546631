// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import AI
import AtlasTestSupport
import Core
import Foundation
import Storage
import Testing
@testable import Telemetry

/// The metrics other modules record through swift-metrics into Telemetry's registry, read back
/// from a served `/metrics` after real traffic, on both storage backends.
@Suite struct ModuleMetricsTests {
    @Test(arguments: TestBackend.all)
    func storageAIAndOutboxMetrics_AreServedWithTheirValues(_ backend: TestBackend) async throws {
        try await ServedMetrics.with(backend) { served in
            try await served.exercise()
            let idle = try IdleConnection(port: served.port)
            defer { idle.close() }
            let samples = try await served.scrape()
            let name = backend == .sqlite ? "sqlite" : "postgres"

            // Storage: every pool is back to 0 in use once idle; capacity as configured.
            let inUse = samples.filter { $0.name == "atlas_storage_pool_connections_in_use" && $0.labels["backend"] == name }
            #expect(!inUse.isEmpty && inUse.allSatisfy { $0.value == 0 }, "\(inUse)")
            if backend == .sqlite {
                #expect(value(samples, "atlas_storage_pool_connections_max", ["pool": "readers"]) == 4)
                #expect(value(samples, "atlas_storage_pool_connections_max", ["pool": "writer"]) == 1)
            } else {
                #expect(value(samples, "atlas_storage_pool_connections_max", ["pool": "main"]) == 3)
            }
            #expect(value(samples, "atlas_storage_pool_waits_total", ["backend": name]) != nil)
            for operation in ["read", "write", "transaction"] {
                let count = value(samples, "atlas_storage_query_duration_seconds_count", ["backend": name, "operation": operation]) ?? 0
                #expect(count > 0, "no \(operation) recorded")
                let inf = value(samples, "atlas_storage_query_duration_seconds_bucket",
                                ["backend": name, "operation": operation, "le": "+Inf"])
                #expect(inf == count)
            }
            #expect(samples.first { $0.name == "atlas_storage_query_duration_seconds_count" }?.type == "histogram")
            // One more read shows up as one more read statement.
            let reads = value(samples, "atlas_storage_query_duration_seconds_count", ["backend": name, "operation": "read"]) ?? 0
            _ = try await served.database.read { try $0.query("SELECT 1 AS one") }
            let after = try await served.scrape()
            #expect(value(after, "atlas_storage_query_duration_seconds_count", ["backend": name, "operation": "read"]) ?? 0 >= reads + 1)
            #expect(after.filter { $0.name == "atlas_storage_pool_connections_in_use" }.allSatisfy { $0.value == 0 })

            // AI: the tokens counted for the tenant are the tokens Billing metered; one miss, one hit.
            let tenant = served.tenant.rawValue
            let input = value(samples, "atlas_ai_tokens_total", ["tenant": tenant, "direction": "input"]) ?? 0
            let output = value(samples, "atlas_ai_tokens_total", ["tenant": tenant, "direction": "output"]) ?? 0
            let metered = try await served.meteredTokens()
            #expect(input > 0 && output > 0)
            #expect(Int64(input + output) == metered)
            #expect(value(samples, "atlas_ai_semantic_cache_lookups_total", ["tenant": tenant, "result": "miss"]) == 1)
            #expect(value(samples, "atlas_ai_semantic_cache_lookups_total", ["tenant": tenant, "result": "hit"]) == 1)

            // Billing: the undeliverable notice is the backlog, its failed attempt a retry.
            #expect(value(samples, "atlas_billing_outbox_pending", [:]) == 1)
            #expect(value(samples, "atlas_billing_outbox_retries_total", ["reason": "operator.notice"]) == 1)
            #expect(value(samples, "atlas_billing_outbox_failed_total", ["reason": "operator.notice"]) == 0)

            // HTTP: the idle connection and the scraping one are open.
            #expect((value(samples, "atlas_http_open_connections", [:]) ?? 0) >= 2)
        }
    }
}
