// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Storage
import Testing

@Suite struct UsageMeteringTests {
    static func input(_ tenant: TenantID, tokens: Int64, latency: Double? = nil, key: String? = nil, source: String = "ai-service") throws -> UsageEventInput {
        try UsageEventInput(tenant: tenant, source: source, tokens: tokens, latencyMs: latency, idempotencyKey: key)
    }

    static func count(_ database: any Database, tenant: TenantID) async throws -> Int64 {
        try await database.read { conn in
            try conn.queryScalar("SELECT COUNT(*) FROM billing_usage_events WHERE tenant_id = \(tenant.rawValue)", as: Int64.self) ?? 0
        }
    }

    @Test(arguments: StorageBackend.all)
    func concurrentSubmissions_ShareCommits_AndEveryAcknowledgedEventIsStored(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let service = BillingService.make(database)
            let tenant = uniqueTenant()
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        let receipts = try await service.record([try Self.input(tenant, tokens: Int64(index), latency: Double(index % 50))])
                        guard case .accepted(let id) = receipts[0] else { throw UsageTestFailure() }
                        return id
                    }
                }
                var ids: [String] = []
                for try await id in group { ids.append(id) }
                return ids
            }
            #expect(Set(ids).count == 300)
            #expect(try await Self.count(database, tenant: tenant) == 300)
            // Group commit: far fewer transactions than requests.
            let batches = service.metrics.value("usage_batches_total")
            #expect(batches < 300)
            // The rollups equal the events.
            let totals = try await service.periodTotals(for: tenant, at: Date())
            #expect(totals.meteredEvents == 300 && totals.meteredTokens == Int64((0..<300).reduce(0, +)))
            let hourly = try await database.read { conn in
                try conn.queryFirst("SELECT CAST(SUM(events) AS BIGINT) AS e, CAST(SUM(tokens) AS BIGINT) AS t FROM billing_usage_hourly WHERE tenant_id = \(tenant.rawValue)")
            }
            #expect(try hourly?.decode("e", as: Int64.self) == 300)
            #expect(try hourly?.decode("t", as: Int64.self) == totals.meteredTokens)
        }
    }

    @Test(arguments: StorageBackend.all)
    func idempotencyKey_MakesARetryCountOnce_AndRefusesDifferentContent(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let service = BillingService.make(database)
            let tenant = uniqueTenant()
            let other = uniqueTenant()
            let first = try await service.record([try Self.input(tenant, tokens: 42, latency: 120, key: "req-1")])
            guard case .accepted(let id) = first[0] else { Issue.record("not accepted"); return }
            #expect(try await service.record([try Self.input(tenant, tokens: 42, latency: 120, key: "req-1")]) == [.duplicate(id: id)])
            #expect(try await service.record([try Self.input(tenant, tokens: 43, latency: 120, key: "req-1")]) == [.conflict(id: id)])
            // Keys are per tenant.
            guard case .accepted = try await service.record([try Self.input(other, tokens: 42, latency: 120, key: "req-1")])[0] else {
                Issue.record("another tenant's key collided"); return
            }
            // The same key twice inside one batch, and concurrent retries.
            let batch = try await service.record([try Self.input(tenant, tokens: 5, key: "req-2"), try Self.input(tenant, tokens: 5, key: "req-2"),
                                                  try Self.input(tenant, tokens: 6, key: "req-2")])
            #expect(batch[1] == .duplicate(id: batch[0].id) && batch[2] == .conflict(id: batch[0].id))
            let concurrent = try await withThrowingTaskGroup(of: UsageReceipt.self) { group in
                for _ in 0..<20 { group.addTask { try await service.record([try Self.input(tenant, tokens: 7, key: "req-3")])[0] } }
                var all: [UsageReceipt] = []
                for try await receipt in group { all.append(receipt) }
                return all
            }
            #expect(Set(concurrent.map(\.id)).count == 1)
            #expect(concurrent.filter { if case .accepted = $0 { true } else { false } }.count == 1)
            #expect(try await Self.count(database, tenant: tenant) == 3)
            #expect(try await service.periodTotals(for: tenant, at: Date()).meteredTokens == 42 + 5 + 7)
        }
    }

    @Test(arguments: StorageBackend.all)
    func dailySummary_CoversExactlyTheWindow_WithMeanAndPercentiles(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock()
            let service = BillingService.make(database, clock: clock)
            let tenant = uniqueTenant()
            let quiet = uniqueTenant()
            let hour: TimeInterval = 3_600
            let base = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / hour).rounded(.down) * hour - 10 * hour)
            // Window of 2 hours ending at base + 2h30m starts at base + 30m.
            clock.set(base.addingTimeInterval(20 * 60))                 // outside
            _ = try await service.record([try Self.input(tenant, tokens: 1_000, latency: 999)])
            _ = try await service.record([try Self.input(quiet, tokens: 1)])
            clock.set(base.addingTimeInterval(40 * 60))                 // leading partial hour
            _ = try await service.record((1...10).map { try! Self.input(tenant, tokens: 10, latency: Double($0 * 10)) })
            clock.set(base.addingTimeInterval(hour + 15 * 60))          // whole hour
            _ = try await service.record((11...19).map { try! Self.input(tenant, tokens: 10, latency: Double($0 * 10)) })
            _ = try await service.record([try Self.input(tenant, tokens: 10)])   // no latency: counted, not averaged
            clock.set(base.addingTimeInterval(2 * hour + 30 * 60))      // now, in the current hour
            _ = try await service.record([try Self.input(tenant, tokens: 10, latency: 200)])

            let lines = try await service.summary(hours: 2)
            #expect(!lines.contains { $0.tenant == quiet.rawValue })
            let line = try #require(lines.first { $0.tenant == tenant.rawValue })
            #expect(line.events == 21)
            #expect(line.tokens == 210)
            #expect(line.latencyCount == 20)
            #expect(line.meanLatency == (10...200).filter { $0 % 10 == 0 }.map(Double.init).reduce(0, +) / 20)
            let p50 = try #require(line.histogram.percentile(0.5))
            let p95 = try #require(line.histogram.percentile(0.95))
            #expect(abs(p50 - 100) / 100 < 0.26)
            #expect(abs(p95 - 190) / 190 < 0.26)
            let wide = try await service.summary(hours: 3)
            #expect(wide.first { $0.tenant == tenant.rawValue }?.events == 22)
            #expect(wide.contains { $0.tenant == quiet.rawValue })
        }
    }

    @Test(arguments: StorageBackend.all)
    func periodTotals_AreAdjustmentsPlusEvents_AndNeverNegative(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let service = BillingService.make(database)
            let tenant = uniqueTenant()
            _ = try await service.record([try Self.input(tenant, tokens: 300), try Self.input(tenant, tokens: 200)])
            let adjusted = try await service.adjust(tenant, tokensDelta: 1_000, requestsDelta: 3, actor: "user:test")
            #expect(adjusted.tokens == 1_500 && adjusted.requests == 5)
            await #expect(throws: BillingError.self) {
                _ = try await service.adjust(tenant, tokensDelta: -2_000, requestsDelta: 0, actor: "user:test")
            }
            #expect(try await service.periodTotals(for: tenant, at: Date()).tokens == 1_500)
            // The seed tenants of SPEC §3 start the period with their reference usage.
            let demo = try await service.periodTotals(for: TenantID("demo")!, at: Date())
            #expect(demo.tokens == 120_000 && demo.requests == 540)
            let preview = try await service.preview(for: TenantID("demo")!, currentPlan: .scale)
            #expect(preview.total == Cents(99_900))
        }
    }

    @Test(arguments: StorageBackend.all)
    func budgetAlerts_FireExactlyOncePerThresholdPerPeriod(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Date(timeIntervalSince1970: 1_763_000_000))     // 2025-11-13
            let configuration = BillingConfiguration(alertWebhookURL: URL(string: "http://127.0.0.1:9/unused"))
            let service = BillingService.make(database, configuration: configuration, clock: clock)
            let tenant = uniqueTenant()
            try await service.setBudget(try Budget(validating: 1_000, thresholds: [80, 100], enforce: true), for: tenant, actor: "user:test")
            func alerts() async throws -> [Int] {
                try await database.read { conn in
                    try conn.query("SELECT threshold FROM billing_budget_alerts WHERE tenant_id = \(tenant.rawValue) ORDER BY period_start, threshold")
                        .map { try $0.decode("threshold", as: Int.self) }
                }
            }
            func outbox() async throws -> Int64 {
                try await database.read { conn in
                    try conn.queryScalar("SELECT COUNT(*) FROM billing_outbox WHERE kind = 'budget.alert' AND tenant_id = \(tenant.rawValue)", as: Int64.self) ?? 0
                }
            }
            _ = try await service.record([try Self.input(tenant, tokens: 799)])
            #expect(try await alerts() == [])
            try await service.check(tenant)
            // Many concurrent events cross 80% together: one alert.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 { group.addTask { _ = try await service.record([try Self.input(tenant, tokens: 5)]) } }
                try await group.waitForAll()
            }
            #expect(try await alerts() == [80])
            // 899 + 100 = 999: still below 100%.
            _ = try await service.adjust(tenant, tokensDelta: 100, requestsDelta: 0, actor: "user:test")
            #expect(try await alerts() == [80])
            _ = try await service.adjust(tenant, tokensDelta: 1, requestsDelta: 0, actor: "user:test")
            #expect(try await alerts() == [80, 100])
            _ = try await service.record([try Self.input(tenant, tokens: 500)])
            try await service.setBudget(try Budget(validating: 1_000, thresholds: [80, 100], enforce: true), for: tenant, actor: "user:test")
            #expect(try await alerts() == [80, 100])
            #expect(try await outbox() == 2)
            do {
                try await service.check(tenant)
                Issue.record("an exhausted budget was not enforced")
            } catch let error as BillingError {
                #expect(error.status == 402 && error.code == "budget_exhausted")
            }
            // A new month starts afresh.
            clock.set(Date(timeIntervalSince1970: 1_764_547_200 + 60))              // 2025-12-01T00:01Z
            try await service.check(tenant)
            _ = try await service.record([try Self.input(tenant, tokens: 900)])
            #expect(try await alerts() == [80, 100, 80])
            #expect(try await outbox() == 3)
        }
    }
}

struct UsageTestFailure: Error {}
