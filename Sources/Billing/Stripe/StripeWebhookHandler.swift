// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Logging
import Storage

/// What became of one webhook delivery.
enum StripeDeliveryOutcome: String, Sendable {
    /// Stored and acted on.
    case applied
    /// Stored; older than an event already applied to the subscription, so no effect.
    case stale
    /// Stored; a type Atlas does not act on, or one that changes nothing.
    case ignored
    /// Stored; no tenant could be resolved yet. Applied later if a checkout links its customer.
    case unresolved
    /// Seen before (same event id): nothing changed.
    case replayed
}

extension BillingService {
    /// Verifies, stores and processes one Stripe webhook delivery (SPEC §4).
    ///
    /// The signature is checked on the raw body before anything else; a failure throws
    /// ``BillingError/invalidSignature`` (400) and leaves only a log line and a counter. An event is
    /// stored by its id and processed in the same transaction, so a replay (the id exists) changes
    /// nothing, and a crash between storing and processing cannot happen.
    func handleStripeWebhook(body: [UInt8], signature: String?) async throws -> StripeDeliveryOutcome {
        let date = now()
        do {
            _ = try verifier.verify(payload: body, header: signature, now: date)
        } catch {
            metrics.increment("stripe_webhooks_rejected_total", label: error.rawValue)
            logger.notice("stripe.webhook_rejected", metadata: ["stripe.reason": "\(error.rawValue)"])
            throw BillingError.invalidSignature
        }
        let event = try StripeEvent.parse(body)
        let stamp = BillingPeriod.millis(date)
        let outcome = try await database.transaction { conn -> StripeDeliveryOutcome in
            guard try SubscriptionStore.insertEvent(event, payload: body, now: stamp, on: conn) else { return .replayed }
            return try Self.process(event, now: stamp, on: conn)
        }
        metrics.increment("stripe_webhooks_total", label: outcome.rawValue)
        logger.info("stripe.webhook", metadata: [
            "stripe.event_id": "\(event.id)", "stripe.type": "\(event.type)", "stripe.outcome": "\(outcome.rawValue)",
        ])
        if outcome == .applied { outboxSignal.signal() }
        return outcome
    }

    /// Applies one stored event and records its outcome.
    static func process(_ event: StripeEvent, now: Int64, on conn: any Connection) throws -> StripeDeliveryOutcome {
        guard let subscriptionEvent = event.subscriptionEvent else {
            try SubscriptionStore.settleEvent(id: event.id, tenant: nil, outcome: StripeDeliveryOutcome.ignored.rawValue, now: now, on: conn)
            return .ignored
        }
        guard let tenant = try resolveTenant(of: event, subscriptionEvent, on: conn) else {
            try SubscriptionStore.settleEvent(id: event.id, tenant: nil, outcome: StripeDeliveryOutcome.unresolved.rawValue, now: now, on: conn)
            return .unresolved
        }
        var state = try SubscriptionStore.subscription(tenant: tenant, on: conn) ?? SubscriptionState(tenant: tenant)
        let actions = state.apply(subscriptionEvent, customerID: event.customerID)
        var outcome = StripeDeliveryOutcome.applied
        var linked: [String] = []
        for action in actions {
            switch action {
            case .linkCustomer(let customer):
                try SubscriptionStore.link(customer: customer, to: tenant, eventID: event.id, now: now, on: conn)
                linked.append(customer)
            case .changePlan(let plan, let effectiveAt):
                try SubscriptionStore.recordPlan(plan, tenant: tenant, at: effectiveAt, source: "stripe", now: now, on: conn)
                let sync = PlanSync(tenant: tenant.rawValue, plan: plan.rawValue, eventID: event.id)
                try OutboxStore.enqueue(kind: .planSync, tenant: tenant.rawValue, payload: Array(try JSONEncoder().encode(sync)),
                                        now: now, on: conn)
            case .statusChanged:
                break
            case .ignoredStale:
                outcome = .stale
            case .ignoredOtherSubscription, .ignoredCanceled:
                outcome = .ignored
            }
        }
        if outcome == .applied { try SubscriptionStore.save(state, now: now, on: conn) }
        try SubscriptionStore.settleEvent(id: event.id, tenant: tenant, outcome: outcome.rawValue, now: now, on: conn)
        // Events that arrived before the checkout that links their customer are applied now, in
        // their `created` order.
        for customer in linked {
            for (pending, _) in try SubscriptionStore.unresolvedEvents(customer: customer, on: conn) {
                _ = try process(pending, now: now, on: conn)
            }
        }
        return outcome
    }

    /// SPEC §4: the tenant named by the event (`metadata.tenant`, a checkout's
    /// `client_reference_id`), else the tenant linked to its customer, else the tenant whose
    /// subscription it concerns.
    static func resolveTenant(of event: StripeEvent, _ subscriptionEvent: SubscriptionEvent, on conn: any Connection) throws -> TenantID? {
        if let named = event.namedTenant { return named }
        if let customer = event.customerID, let tenant = try SubscriptionStore.tenant(ofCustomer: customer, on: conn) {
            return tenant
        }
        let subscription: String?
        switch subscriptionEvent.kind {
        case .subscriptionChanged(let id, _, _, _), .subscriptionDeleted(let id): subscription = id
        case .invoicePaid(let id), .invoicePaymentFailed(let id), .checkoutCompleted(let id): subscription = id
        }
        if let subscription { return try SubscriptionStore.tenant(ofSubscription: subscription, on: conn) }
        return nil
    }
}
