// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Storage
import Testing

/// A tenant registry standing in for the Auth module, which BillingTests may not import.
final class RecordingPlanWriter: TenantPlanWriter, @unchecked Sendable {
    // @unchecked: `calls` is only touched under `lock`.
    private let lock = NSLock()
    private var recorded: [(TenantPlan, TenantID, String)] = []
    var calls: [(TenantPlan, TenantID, String)] { lock.withLock { recorded } }

    func setPlan(_ plan: TenantPlan, for tenant: TenantID, actor: String) async throws {
        lock.withLock { recorded.append((plan, tenant, actor)) }
    }
}

@Suite(.serialized) struct OutboxTests {
    static func configuration(_ receiver: WebhookReceiver, format: BillingConfiguration.AlertFormat = .json,
                              maxAttempts: Int = 8, backoff: TimeInterval = 0.05) -> BillingConfiguration {
        BillingConfiguration(alertWebhookURL: receiver.url, alertWebhookFormat: format, alertWebhookSecret: "alert-secret",
                             alertWebhookTimeout: 5, alertMaxAttempts: maxAttempts, alertBackoff: backoff,
                             outboxPollInterval: .milliseconds(20))
    }

    static func crossBudget(_ service: BillingService, tenant: TenantID) async throws {
        try await service.setBudget(try Budget(validating: 100, thresholds: [80], enforce: false), for: tenant, actor: "user:test")
        _ = try await service.record([try UsageEventInput(tenant: tenant, source: "ai-service", tokens: 90, latencyMs: nil, idempotencyKey: nil)])
    }

    static func row(_ database: any Database, tenant: TenantID) async throws -> (attempts: Int, delivered: Bool, failed: Bool) {
        try await database.read { conn in
            let row = try #require(try conn.queryFirst("SELECT attempts, delivered_at, failed_at FROM billing_outbox WHERE tenant_id = \(tenant.rawValue)"))
            return (try row.decode("attempts"), try row.decode("delivered_at", as: Int64?.self) != nil,
                    try row.decode("failed_at", as: Int64?.self) != nil)
        }
    }

    static func until(_ timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while try await !condition() {
            guard clock.now < deadline else { throw UsageTestFailure() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test(arguments: StorageBackend.all)
    func signedAlertIsRetriedWithExponentialBackoff_UntilTheReceiverAccepts(backend: StorageBackend) async throws {
        let receiver = try WebhookReceiver { index, _ in index < 2 ? 503 : 200 }
        defer { receiver.stop() }
        try await withBillingDatabase(backend) { database, _ in
            let service = BillingService.make(database, configuration: Self.configuration(receiver))
            let worker = OutboxWorker(service: service, planWriter: nil)
            let tenant = uniqueTenant()
            try await Self.crossBudget(service, tenant: tenant)
            try await Self.until {
                await worker.runOnce()
                return receiver.requests.count >= 3
            }
            let state = try await Self.row(database, tenant: tenant)
            #expect(state.attempts == 3 && state.delivered && !state.failed)
            let requests = receiver.requests
            #expect(requests.count == 3)
            // 50 ms, then 100 ms (plus jitter below 10%).
            #expect(requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt) >= 0.05)
            #expect(requests[2].receivedAt.timeIntervalSince(requests[1].receivedAt) >= 0.1)
            // The same payload each time, signed so the receiver can verify it.
            #expect(Set(requests.map(\.body)).count == 1)
            let verifier = WebhookSignatureVerifier(secrets: ["alert-secret"])
            for request in requests {
                #expect(throws: Never.self) {
                    try verifier.verify(payload: request.body, header: request.headers["x-atlas-signature"], now: Date())
                }
            }
            let alert = try #require(requests[0].json)
            #expect(alert["type"] as? String == "budget.threshold_crossed")
            #expect(alert["tenant"] as? String == tenant.rawValue)
            #expect(alert["threshold_percent"] as? Int == 80 && alert["budget_tokens"] as? Int == 100 && alert["used_tokens"] as? Int == 90)
            // Nothing more is sent.
            await worker.runOnce()
            #expect(receiver.requests.count == 3)
        }
    }

    @Test(arguments: StorageBackend.all)
    func givesUp_AfterMaxAttempts(backend: StorageBackend) async throws {
        let receiver = try WebhookReceiver { _, _ in 500 }
        defer { receiver.stop() }
        try await withBillingDatabase(backend) { database, _ in
            let service = BillingService.make(database, configuration: Self.configuration(receiver, format: .slack, maxAttempts: 3, backoff: 0.01))
            let worker = OutboxWorker(service: service, planWriter: nil)
            let tenant = uniqueTenant()
            try await Self.crossBudget(service, tenant: tenant)
            try await Self.until { await worker.runOnce(); return try await Self.row(database, tenant: tenant).failed }
            #expect(try await Self.row(database, tenant: tenant).attempts == 3)
            try await Task.sleep(for: .milliseconds(100))
            await worker.runOnce()
            #expect(receiver.requests.count == 3)
            let text = try #require(receiver.requests[0].json?["text"] as? String)
            #expect(text.contains(tenant.rawValue) && text.contains("80%"))
        }
    }

    @Test(arguments: StorageBackend.all)
    func twoWorkersOnTwoConnectionSets_NeverDeliverAMessageTwice(backend: StorageBackend) async throws {
        let receiver = try WebhookReceiver { _, _ in
            usleep(2_000)
            return 200
        }
        defer { receiver.stop() }
        try await withBillingDatabase(backend) { database, test in
            // A second "instance": its own connections to the same database.
            let second = try await test.open()
            let configuration = Self.configuration(receiver)
            let first = BillingService.make(database, configuration: configuration)
            let other = BillingService.make(second, configuration: configuration)
            let messages = 80
            for _ in 0..<messages { try await Self.crossBudget(first, tenant: uniqueTenant()) }
            let workers = [OutboxWorker(service: first, planWriter: nil, id: "w1", batchSize: 4),
                           OutboxWorker(service: other, planWriter: nil, id: "w2", batchSize: 4)]
            let group = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in workers { group.addTask { try await worker.run() } }
                    try await group.waitForAll()
                }
            }
            try await Self.until(.seconds(60)) { receiver.requests.count >= messages }
            try await Task.sleep(for: .milliseconds(300))
            group.cancel()
            _ = try? await group.value
            await second.close()
            let deliveries = receiver.requests.compactMap { $0.headers["x-atlas-delivery"] }
            #expect(deliveries.count == messages)
            #expect(Set(deliveries).count == messages)
            let claimedBy = try await database.read { conn in
                try conn.query("SELECT claimed_by, COUNT(*) AS n FROM billing_outbox WHERE delivered_at IS NOT NULL GROUP BY claimed_by")
                    .map { (try $0.decode("claimed_by", as: String.self), try $0.decode("n", as: Int64.self)) }
            }
            #expect(claimedBy.map(\.1).reduce(0, +) == Int64(messages))
            // Both instances really competed for the messages.
            #expect(claimedBy.count == 2)
        }
    }

    @Test(arguments: StorageBackend.all)
    func stripePlanChange_ReachesTheTenantRegistryThroughTheOutbox(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Date(timeIntervalSince1970: 1_763_000_000))
            let service = BillingService.make(database, configuration: BillingConfiguration(stripeWebhookSecrets: ["whsec_x"]), clock: clock)
            let registry = RecordingPlanWriter()
            let worker = OutboxWorker(service: service, planWriter: registry)
            let tenant = uniqueTenant()
            let body = StripeFixtures.event(id: "evt_plan", type: "customer.subscription.updated", created: 1_762_999_999,
                                            object: StripeFixtures.subscription(id: "sub_1", customer: "cus_1", status: "active",
                                                                                lookupKey: "growth", tenant: tenant.rawValue))
            let header = WebhookSigner(secret: "whsec_x").header(payload: body, timestamp: 1_763_000_000)
            #expect(try await service.handleStripeWebhook(body: body, signature: header) == .applied)
            #expect(await worker.runOnce() == 1)
            #expect(registry.calls.count == 1)
            #expect(registry.calls.first?.0 == .growth && registry.calls.first?.1 == tenant && registry.calls.first?.2 == "stripe:evt_plan")
            #expect(await worker.runOnce() == 0)
            // The preview prorates from the Stripe event's time.
            let history = try await database.read { try SubscriptionStore.planHistory(tenant: tenant, period: BillingPeriod(containing: clock.now), on: $0) }
            #expect(history == [PlanChange(plan: .growth, effectiveAt: Date(timeIntervalSince1970: 1_762_999_999))])
        }
    }
}
