// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Storage
import Testing

@Suite(.serialized) struct OperatorNoticeTests {
    static func notice(_ tenant: TenantID, id: String = "run_1:review:2") -> OperatorNotice {
        OperatorNotice(type: "ai.review_requested", id: id, tenant: tenant, summary: "Run run_1 waits for review",
                       fields: ["run_id": .string("run_1"), "question": .string("How do refunds work?"),
                                "type": .string("must not override")],
                       occurredAt: Date(timeIntervalSince1970: 1_780_000_000))
    }

    @Test(arguments: StorageBackend.all)
    func noticeIsStoredOncePerID_AndDeliveredAsOneFlatSignedObject(backend: StorageBackend) async throws {
        let receiver = try WebhookReceiver { _, _ in 200 }
        defer { receiver.stop() }
        try await withBillingDatabase(backend) { database, _ in
            let service = BillingService.make(database, configuration: OutboxTests.configuration(receiver))
            let notifier = OutboxNotifier(service: service)
            let worker = OutboxWorker(service: service, planWriter: nil)
            let tenant = uniqueTenant()
            #expect(try await notifier.notify(Self.notice(tenant)))
            #expect(try await !notifier.notify(Self.notice(tenant)))
            try await OutboxTests.until {
                await worker.runOnce()
                return receiver.requests.count >= 1
            }
            await worker.runOnce()
            #expect(receiver.requests.count == 1)
            let body = try #require(receiver.requests.first?.json)
            #expect(body["type"] as? String == "ai.review_requested")
            #expect(body["id"] as? String == "run_1:review:2")
            #expect(body["tenant"] as? String == tenant.rawValue)
            #expect(body["run_id"] as? String == "run_1")
            #expect(body["question"] as? String == "How do refunds work?")
            #expect((body["occurred_at"] as? String)?.hasPrefix("2026-") == true)
            #expect(receiver.requests[0].headers["x-atlas-signature"] != nil)
            // A new episode is a new id and is delivered too.
            #expect(try await notifier.notify(Self.notice(tenant, id: "run_1:review:5")))
        }
    }

    @Test(arguments: StorageBackend.all)
    func slackFormatCarriesTheSummaryAsText(backend: StorageBackend) async throws {
        let receiver = try WebhookReceiver { _, _ in 200 }
        defer { receiver.stop() }
        try await withBillingDatabase(backend) { database, _ in
            let service = BillingService.make(database, configuration: OutboxTests.configuration(receiver, format: .slack))
            let worker = OutboxWorker(service: service, planWriter: nil)
            let tenant = uniqueTenant()
            try await OutboxNotifier(service: service).notify(Self.notice(tenant))
            try await OutboxTests.until {
                await worker.runOnce()
                return receiver.requests.count >= 1
            }
            let body = try #require(receiver.requests.first?.json)
            #expect((body["text"] as? String)?.contains("Run run_1 waits for review") == true)
            #expect((body["notice"] as? [String: Any])?["run_id"] as? String == "run_1")
        }
    }
}
