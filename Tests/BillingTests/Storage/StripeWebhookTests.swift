// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Storage
import Testing

@Suite struct StripeWebhookTests {
    static let secret = "whsec_test_rotation_b"

    static func service(_ database: any Database, clock: TestClock) -> BillingService {
        BillingService.make(database, configuration: BillingConfiguration(stripeWebhookSecrets: ["whsec_test_rotation_a", secret], pastDueGrace: 3_600),
                            clock: clock)
    }

    static func deliver(_ service: BillingService, _ body: [UInt8], at clock: TestClock, secret: String = secret) async throws -> StripeDeliveryOutcome {
        let header = WebhookSigner(secret: secret).header(payload: body, timestamp: Int64(clock.now.timeIntervalSince1970))
        return try await service.handleStripeWebhook(body: body, signature: header)
    }

    /// Every row of the tables a webhook may touch, as text, to prove that nothing changed.
    static func snapshot(_ database: any Database) async throws -> [String] {
        try await database.read { conn in
            var lines: [String] = []
            for table in ["billing_stripe_events", "billing_stripe_customers", "billing_subscriptions", "billing_plan_changes", "billing_outbox"] {
                for row in try conn.query(SQLQuery(unsafeSQL: "SELECT * FROM \(table) ORDER BY 1")) {
                    lines.append(table + ": " + row.values.map { "\($0)" }.joined(separator: "|"))
                }
            }
            return lines
        }
    }

    @Test(arguments: StorageBackend.all)
    func appliesSubscriptionEvent_AndAReplayChangesNothing(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Date(timeIntervalSince1970: 1_763_000_000))
            let service = Self.service(database, clock: clock)
            let tenant = uniqueTenant()
            let body = StripeFixtures.event(id: "evt_created_1", type: "customer.subscription.created", created: 1_762_999_990,
                                            object: StripeFixtures.subscription(id: "sub_1", customer: "cus_1", status: "active",
                                                                                lookupKey: "scale", tenant: tenant.rawValue))
            #expect(try await Self.deliver(service, body, at: clock) == .applied)
            let state = try await service.subscription(for: tenant)
            #expect(state.status == .active && state.plan == .scale && state.subscriptionID == "sub_1" && state.customerID == "cus_1")
            #expect(state.currentPeriodEnd == Date(timeIntervalSince1970: 1_767_225_600))
            let before = try await Self.snapshot(database)
            #expect(before.contains { $0.hasPrefix("billing_outbox: ") && $0.contains("tenant.plan") })

            // Stripe retries the same event later, freshly signed: 200, and not one row differs.
            clock.advance(by: 60)
            #expect(try await Self.deliver(service, body, at: clock) == .replayed)
            #expect(try await Self.snapshot(database) == before)
            #expect(service.metrics.value("stripe_webhooks_total", label: "replayed") == 1)
        }
    }

    @Test(arguments: StorageBackend.all)
    func staleOrForgedSignature_IsRejectedWithoutATrace(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Date(timeIntervalSince1970: 1_763_000_000))
            let service = Self.service(database, clock: clock)
            let body = StripeFixtures.event(id: "evt_forged", type: "customer.subscription.created", created: 1_762_999_990,
                                            object: StripeFixtures.subscription(id: "sub_9", customer: "cus_9", status: "active",
                                                                                lookupKey: "scale", tenant: "victim"))
            let before = try await Self.snapshot(database)
            let stale = WebhookSigner(secret: Self.secret).header(payload: body, timestamp: 1_763_000_000 - 301)
            let forged = WebhookSigner(secret: "whsec_guess").header(payload: body, timestamp: 1_763_000_000)
            for header in [stale, forged, "t=1763000000,v1=" + String(repeating: "0", count: 64), ""] {
                await #expect(throws: BillingError.self) { try await service.handleStripeWebhook(body: body, signature: header) }
                do {
                    _ = try await service.handleStripeWebhook(body: body, signature: header)
                } catch let error as BillingError {
                    #expect(error.status == 400 && error.code == "invalid_signature")
                }
            }
            #expect(try await Self.snapshot(database) == before)
            #expect(service.metrics.value("stripe_webhooks_rejected_total", label: "timestamp_outside_tolerance") == 2)
            #expect(service.metrics.value("stripe_webhooks_rejected_total", label: "no_matching_signature") == 4)
        }
    }

    @Test(arguments: StorageBackend.all)
    func eventsArrivingOutOfOrder_ResolveByCreatedTime(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Date(timeIntervalSince1970: 1_763_000_000))
            let service = Self.service(database, clock: clock)
            let tenant = uniqueTenant()
            let updated = StripeFixtures.event(id: "evt_upd", type: "customer.subscription.updated", created: 1_762_999_900,
                                               object: StripeFixtures.subscription(id: "sub_1", customer: "cus_2", status: "active",
                                                                                   lookupKey: nil, tenant: tenant.rawValue, planMetadata: "scale"))
            let created = StripeFixtures.event(id: "evt_new", type: "customer.subscription.created", created: 1_762_999_800,
                                               object: StripeFixtures.subscription(id: "sub_1", customer: "cus_2", status: "incomplete",
                                                                                   lookupKey: "growth", tenant: tenant.rawValue))
            #expect(try await Self.deliver(service, updated, at: clock) == .applied)
            #expect(try await Self.deliver(service, created, at: clock) == .stale)
            let state = try await service.subscription(for: tenant)
            #expect(state.plan == .scale && state.status == .active && state.lastEventID == "evt_upd")
            let outcome = try await database.read { try SubscriptionStore.eventOutcome(id: "evt_new", on: $0) }
            #expect(outcome?.outcome == "stale" && outcome?.tenant == tenant.rawValue)
        }
    }

    @Test(arguments: StorageBackend.all)
    func eventForAnUnknownCustomer_IsAppliedOnceCheckoutLinksIt(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Date(timeIntervalSince1970: 1_763_000_000))
            let service = Self.service(database, clock: clock)
            let tenant = uniqueTenant()
            let failed = StripeFixtures.event(id: "evt_fail", type: "invoice.payment_failed", created: 1_762_999_950,
                                              object: StripeFixtures.invoice(id: "in_1", customer: "cus_late", subscription: "sub_7"))
            #expect(try await Self.deliver(service, failed, at: clock) == .unresolved)
            #expect(try await service.subscription(for: tenant).status == SubscriptionStatus.none)

            let checkout = StripeFixtures.event(id: "evt_checkout", type: "checkout.session.completed", created: 1_762_999_900,
                                                object: StripeFixtures.checkout(id: "cs_1", customer: "cus_late", subscription: "sub_7",
                                                                                tenant: tenant.rawValue))
            #expect(try await Self.deliver(service, checkout, at: clock) == .applied)
            let state = try await service.subscription(for: tenant)
            #expect(state.customerID == "cus_late" && state.subscriptionID == "sub_7")
            #expect(state.status == .pastDue && state.pastDueSince == Date(timeIntervalSince1970: 1_762_999_950))
            let outcome = try await database.read { try SubscriptionStore.eventOutcome(id: "evt_fail", on: $0) }
            #expect(outcome?.outcome == "applied" && outcome?.tenant == tenant.rawValue)

            // Later invoices name only the customer and now resolve through the link.
            let paid = StripeFixtures.event(id: "evt_paid", type: "invoice.paid", created: 1_763_000_000,
                                            object: StripeFixtures.invoice(id: "in_2", customer: "cus_late", subscription: "sub_7"))
            #expect(try await Self.deliver(service, paid, at: clock) == .applied)
            #expect(try await service.subscription(for: tenant).status == .active)
        }
    }

    @Test(arguments: StorageBackend.all)
    func unknownEventType_IsStoredAndAcknowledged(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Date(timeIntervalSince1970: 1_763_000_000))
            let service = Self.service(database, clock: clock)
            let body = StripeFixtures.event(id: "evt_other", type: "payment_intent.created", created: 1_763_000_000,
                                            object: ["id": "pi_1", "object": "payment_intent", "customer": "cus_x"])
            #expect(try await Self.deliver(service, body, at: clock) == .ignored)
            let outcome = try await database.read { try SubscriptionStore.eventOutcome(id: "evt_other", on: $0) }
            #expect(outcome?.outcome == "ignored")
            await #expect(throws: BillingError.self) {
                _ = try await Self.deliver(service, Array("not json".utf8), at: clock)
            }
        }
    }

    @Test(arguments: StorageBackend.all)
    func pastDueBeyondGrace_RefusesAIUsageWith402_UntilPaid(backend: StorageBackend) async throws {
        try await withBillingDatabase(backend) { database, _ in
            let clock = TestClock(Date(timeIntervalSince1970: 1_763_000_000))
            let service = Self.service(database, clock: clock)
            let tenant = uniqueTenant()
            let created = StripeFixtures.event(id: "evt_c", type: "customer.subscription.created", created: 1_762_999_000,
                                               object: StripeFixtures.subscription(id: "sub_1", customer: "cus_3", status: "active",
                                                                                   lookupKey: "growth", tenant: tenant.rawValue))
            let failed = StripeFixtures.event(id: "evt_f", type: "invoice.payment_failed", created: 1_763_000_000,
                                              object: StripeFixtures.invoice(id: "in_1", customer: "cus_3", subscription: "sub_1"))
            _ = try await Self.deliver(service, created, at: clock)
            _ = try await Self.deliver(service, failed, at: clock)
            try await service.check(tenant)               // within the one-hour grace period
            clock.advance(by: 3_600)
            do {
                try await service.check(tenant)
                Issue.record("a past_due tenant beyond grace was not refused")
            } catch let error as BillingError {
                #expect(error.status == 402 && error.code == "payment_required" && error.detail.contains("past_due"))
            }
            let paid = StripeFixtures.event(id: "evt_p", type: "invoice.paid", created: 1_763_003_700,
                                            object: StripeFixtures.invoice(id: "in_1", customer: "cus_3", subscription: "sub_1"))
            _ = try await Self.deliver(service, paid, at: clock)
            try await service.check(tenant)
        }
    }
}
