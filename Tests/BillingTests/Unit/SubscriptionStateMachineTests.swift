// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Testing

@Suite struct SubscriptionStateMachineTests {
    static let tenant = TenantID("acme")!

    static func event(_ id: String, _ created: Int64, _ kind: SubscriptionEvent.Kind) -> SubscriptionEvent {
        SubscriptionEvent(id: id, created: created, kind: kind)
    }

    @Test func createdThenPaymentFailedThenPaid_MovesActivePastDueActive() {
        var state = SubscriptionState(tenant: Self.tenant)
        #expect(state.apply(Self.event("evt_1", 100, .subscriptionChanged(subscriptionID: "sub_1", status: .active, plan: .growth, currentPeriodEnd: nil)), customerID: "cus_1")
                == [.linkCustomer("cus_1"), .changePlan(.growth, effectiveAt: Date(timeIntervalSince1970: 100)), .statusChanged(from: .none, to: .active)])
        #expect(state.apply(Self.event("evt_2", 200, .invoicePaymentFailed(subscriptionID: "sub_1")), customerID: "cus_1")
                == [.statusChanged(from: .active, to: .pastDue)])
        #expect(state.pastDueSince == Date(timeIntervalSince1970: 200))
        // A second failure keeps the first failure's date: the grace period does not restart.
        #expect(state.apply(Self.event("evt_3", 300, .invoicePaymentFailed(subscriptionID: "sub_1")), customerID: "cus_1") == [])
        #expect(state.pastDueSince == Date(timeIntervalSince1970: 200))
        #expect(state.refusesUsage(now: Date(timeIntervalSince1970: 200 + 3_599), grace: 3_600) == false)
        #expect(state.refusesUsage(now: Date(timeIntervalSince1970: 200 + 3_600), grace: 3_600))
        #expect(state.apply(Self.event("evt_4", 400, .invoicePaid(subscriptionID: "sub_1")), customerID: "cus_1")
                == [.statusChanged(from: .pastDue, to: .active)])
        #expect(state.pastDueSince == nil)
        #expect(state.refusesUsage(now: Date(timeIntervalSince1970: 100_000), grace: 0) == false)
    }

    @Test func olderEventArrivingLate_ChangesNothing() {
        var state = SubscriptionState(tenant: Self.tenant)
        _ = state.apply(Self.event("evt_new", 500, .subscriptionChanged(subscriptionID: "sub_1", status: .active, plan: .scale, currentPeriodEnd: nil)), customerID: "cus_1")
        let before = state
        #expect(state.apply(Self.event("evt_old", 400, .subscriptionChanged(subscriptionID: "sub_1", status: .active, plan: .growth, currentPeriodEnd: nil)), customerID: "cus_1") == [.ignoredStale])
        #expect(state.apply(Self.event("evt_old2", 499, .invoicePaymentFailed(subscriptionID: "sub_1")), customerID: "cus_1") == [.ignoredStale])
        #expect(state == before)
        #expect(state.plan == .scale)
    }

    @Test func deletionThenLateUpdate_StaysCanceledOnTrial() {
        var state = SubscriptionState(tenant: Self.tenant)
        _ = state.apply(Self.event("evt_1", 100, .subscriptionChanged(subscriptionID: "sub_1", status: .active, plan: .growth, currentPeriodEnd: nil)), customerID: "cus_1")
        #expect(state.apply(Self.event("evt_2", 300, .subscriptionDeleted(subscriptionID: "sub_1")), customerID: "cus_1")
                == [.changePlan(.trial, effectiveAt: Date(timeIntervalSince1970: 300)), .statusChanged(from: .active, to: .canceled)])
        // Same second, arriving after the deletion: Stripe never revives a canceled subscription.
        #expect(state.apply(Self.event("evt_3", 300, .subscriptionChanged(subscriptionID: "sub_1", status: .active, plan: .scale, currentPeriodEnd: nil)), customerID: "cus_1") == [.ignoredCanceled])
        #expect(state.status == .canceled && state.plan == .trial)
        // A new subscription starts over.
        #expect(state.apply(Self.event("evt_4", 400, .subscriptionChanged(subscriptionID: "sub_2", status: .active, plan: .scale, currentPeriodEnd: nil)), customerID: "cus_1")
                == [.changePlan(.scale, effectiveAt: Date(timeIntervalSince1970: 400)), .statusChanged(from: .canceled, to: .active)])
    }

    @Test func invoiceOfAnotherSubscription_IsIgnored() {
        var state = SubscriptionState(tenant: Self.tenant)
        _ = state.apply(Self.event("evt_1", 100, .subscriptionChanged(subscriptionID: "sub_2", status: .active, plan: .growth, currentPeriodEnd: nil)), customerID: "cus_1")
        #expect(state.apply(Self.event("evt_2", 200, .invoicePaymentFailed(subscriptionID: "sub_1")), customerID: "cus_1") == [.ignoredOtherSubscription])
        #expect(state.apply(Self.event("evt_3", 200, .subscriptionDeleted(subscriptionID: "sub_1")), customerID: "cus_1") == [.ignoredOtherSubscription])
        #expect(state.status == .active)
    }

    @Test func checkoutLinksTheCustomer_WhateverItsTime() {
        var state = SubscriptionState(tenant: Self.tenant)
        _ = state.apply(Self.event("evt_1", 500, .invoicePaid(subscriptionID: "sub_1")), customerID: nil)
        #expect(state.apply(Self.event("evt_0", 100, .checkoutCompleted(subscriptionID: "sub_1")), customerID: "cus_9") == [.linkCustomer("cus_9")])
        #expect(state.customerID == "cus_9")
        #expect(state.lastEventCreated == 500)
    }

    @Test func everyOrderingOfOneHistory_EndsInTheSameState() {
        // created(active, growth) → updated(scale) → payment failed → paid, delivered in every order.
        let events = [
            Self.event("evt_a", 100, .subscriptionChanged(subscriptionID: "sub_1", status: .active, plan: .growth, currentPeriodEnd: nil)),
            Self.event("evt_b", 200, .subscriptionChanged(subscriptionID: "sub_1", status: .active, plan: .scale, currentPeriodEnd: nil)),
            Self.event("evt_c", 300, .invoicePaymentFailed(subscriptionID: "sub_1")),
            Self.event("evt_d", 400, .invoicePaid(subscriptionID: "sub_1")),
        ]
        var outcomes = Set<SubscriptionState>()
        for permutation in permutations(events) {
            var state = SubscriptionState(tenant: Self.tenant)
            for event in permutation { _ = state.apply(event, customerID: "cus_1") }
            outcomes.insert(state)
        }
        // The newest event wins; the plan is whatever the newest applied subscription event said
        // before it, which in every order where evt_d comes first is not yet known. What must hold:
        // the status is the newest event's, and nothing older than an applied event takes effect.
        #expect(outcomes.allSatisfy { $0.status == .active && $0.lastEventID == "evt_d" && $0.pastDueSince == nil })
    }

    private func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        var result: [[T]] = []
        for (index, item) in items.enumerated() {
            var rest = items
            rest.remove(at: index)
            for tail in permutations(rest) { result.append([item] + tail) }
        }
        return result
    }
}
