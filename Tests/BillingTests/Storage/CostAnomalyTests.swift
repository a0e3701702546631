// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Storage
import Testing

@Suite(.serialized) struct CostAnomalyTests {
    static let start = Date(timeIntervalSince1970: 1_794_268_800)  // 2026-11-10T00:00:00Z

    static func record(_ service: BillingService, _ tenant: TenantID, tokens: Int64) async throws {
        _ = try await service.record([try UsageEventInput(tenant: tenant, source: "ai-service", tokens: tokens, latencyMs: nil, idempotencyKey: nil)])
    }

    /// 24 hours at `perHour` tokens, leaving the clock two hours after the last of them.
    static func baseline(_ service: BillingService, _ clock: TestClock, _ tenant: TenantID, perHour: Int64) async throws {
        clock.set(start)
        for _ in 0..<24 {
            try await record(service, tenant, tokens: perHour)
            clock.advance(by: 3600)
        }
        clock.advance(by: 3600)
    }

    @Test(arguments: StorageBackend.all)
    func spikeAlertsOncePerEpisode_AndAgainAfterItEnded(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Self.start)
            let service = BillingService.make(database, clock: clock)
            let sent = RecordingNotifier()
            let detector = CostAnomalyDetector(service: service, notifier: sent,
                                               configuration: CostAnomalyConfiguration(ratio: 3, minTokens: 1000))
            let tenant = uniqueTenant()
            let quiet = uniqueTenant()
            try await Self.baseline(service, clock, tenant, perHour: 1000)
            try await Self.baseline(service, clock, quiet, perHour: 1000)
            // Normal use: nothing.
            try await Self.record(service, tenant, tokens: 1200)
            #expect(try await detector.check().isEmpty)
            // Ten times the usual hour: one notice, with the figures and the runbook.
            clock.advance(by: 600)
            try await Self.record(service, tenant, tokens: 9000)
            let notices = try await detector.check()
            #expect(notices.count == 1)
            let notice = try #require(notices.first)
            #expect(notice.type == "usage.cost_anomaly" && notice.tenant == tenant)
            #expect(notice.fields["tokens_last_hour"] == .number(10_200))
            #expect(notice.fields["baseline_tokens_per_hour"] == .number(1000))
            #expect(notice.fields["reason"] == .string("spike"))
            #expect(notice.fields["runbook"] == .string("automation/playbooks/cost-anomaly.md"))
            // Still anomalous ten minutes later: the same episode, no second notice.
            clock.advance(by: 600)
            try await Self.record(service, tenant, tokens: 5000)
            #expect(try await detector.check().isEmpty)
            // A second detector (another instance, or after a restart) sees the open episode too.
            let other = CostAnomalyDetector(service: service, notifier: sent, configuration: detector.configuration)
            #expect(try await other.check().isEmpty)
            // Two quiet hours end the episode; the next spike is a new one.
            clock.advance(by: 7200)
            #expect(try await detector.check().isEmpty)
            try await Self.record(service, tenant, tokens: 20_000)
            #expect(try await detector.check().count == 1)
            #expect(sent.notices.count == 2)
            #expect(Set(sent.notices.map(\.id)).count == 2)
        }
    }

    @Test(arguments: StorageBackend.all)
    func fastBurnTowardsTheBudgetAlertsBeforeItIsSpent(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Self.start)
            let service = BillingService.make(database, clock: clock)
            let sent = RecordingNotifier()
            let detector = CostAnomalyDetector(service: service, notifier: sent,
                                               configuration: CostAnomalyConfiguration(ratio: 3, minTokens: 1000, budgetHorizonHours: 24))
            let tenant = uniqueTenant()
            try await service.setBudget(try Budget(validating: 100_000, thresholds: [100], enforce: false), for: tenant, actor: "user:test")
            try await Self.baseline(service, clock, tenant, perHour: 2000)
            // 2.5× the baseline is no spike, but 47,000 tokens left at 5,000 an hour is 9.4 hours.
            try await Self.record(service, tenant, tokens: 5000)
            let notices = try await detector.check()
            let notice = try #require(notices.first)
            #expect(notices.count == 1)
            #expect(notice.fields["reason"] == .string("budget_burn"))
            #expect(notice.fields["budget_tokens"] == .number(100_000))
            #expect(notice.fields["used_tokens"] == .number(53_000))
            #expect(notice.fields["hours_to_budget_exhaustion"] == .number(9.4))
        }
    }
}

/// Keeps the notices a detector sends, in order.
final class RecordingNotifier: Notifier, @unchecked Sendable {
    // @unchecked: `sent` is only touched under `lock`.
    private let lock = NSLock()
    private var sent: [OperatorNotice] = []
    var notices: [OperatorNotice] { lock.withLock { sent } }

    func notify(_ notice: OperatorNotice) async throws -> Bool {
        lock.withLock {
            if sent.contains(where: { $0.id == notice.id && $0.type == notice.type }) { return false }
            sent.append(notice)
            return true
        }
    }
}
