// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation

/// The fields of a Stripe event (docs.stripe.com/api/events/object) that Atlas acts on.
struct StripeEvent: Sendable, Hashable {
    var id: String
    var type: String
    /// When Stripe created the event: the order in which events take effect, whatever order they
    /// arrive in (Stripe does not guarantee delivery order).
    var created: Int64
    var livemode: Bool
    var object: JSONValue

    /// Event ids are `evt_…`; anything else (or an over-long id) is refused as malformed.
    static func parse(_ body: [UInt8]) throws -> StripeEvent {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: Foundation.Data(body))
        } catch {
            throw BillingError.badRequest("the webhook body is not valid JSON", code: "invalid_json")
        }
        guard let id = document["id"]?.string, id.utf8.count <= 255 else {
            throw BillingError.badRequest("the event has no id", code: "invalid_event")
        }
        guard let type = document["type"]?.string, type.utf8.count <= 255 else {
            throw BillingError.badRequest("the event has no type", code: "invalid_event")
        }
        guard let created = document["created"]?.int64 else {
            throw BillingError.badRequest("the event has no created time", code: "invalid_event")
        }
        var livemode = false
        if case .bool(let value) = document["livemode"] { livemode = value }
        return StripeEvent(id: id, type: type, created: created, livemode: livemode,
                           object: document["data"]?["object"] ?? .null)
    }

    /// The event as the subscription state machine sees it; `nil` for types Atlas does not act on.
    var subscriptionEvent: SubscriptionEvent? {
        let kind: SubscriptionEvent.Kind
        switch type {
        case "customer.subscription.created", "customer.subscription.updated":
            guard let subscription = object["id"]?.string else { return nil }
            kind = .subscriptionChanged(
                subscriptionID: subscription, status: SubscriptionStatus(stripe: object["status"]?.string),
                plan: Self.plan(ofSubscription: object), currentPeriodEnd: Self.currentPeriodEnd(ofSubscription: object))
        case "customer.subscription.deleted":
            guard let subscription = object["id"]?.string else { return nil }
            kind = .subscriptionDeleted(subscriptionID: subscription)
        case "invoice.paid":
            kind = .invoicePaid(subscriptionID: Self.subscription(ofInvoice: object))
        case "invoice.payment_failed":
            kind = .invoicePaymentFailed(subscriptionID: Self.subscription(ofInvoice: object))
        case "checkout.session.completed":
            kind = .checkoutCompleted(subscriptionID: object["subscription"]?.idReference)
        default:
            return nil
        }
        return SubscriptionEvent(id: id, created: created, kind: kind)
    }

    /// The Stripe customer the event concerns.
    var customerID: String? { object["customer"]?.idReference }

    /// The tenant the event names itself, in order: `metadata.tenant` of the object;
    /// for an invoice, of its subscription (`subscription_details`, or `parent.subscription_details`
    /// in API versions from 2025); for a checkout session, `client_reference_id`.
    var namedTenant: TenantID? {
        let candidates: [JSONValue?] = [
            object["metadata"]?["tenant"],
            object["subscription_details"]?["metadata"]?["tenant"],
            object["parent"]?["subscription_details"]?["metadata"]?["tenant"],
            type == "checkout.session.completed" ? object["client_reference_id"] : nil,
        ]
        for candidate in candidates {
            if let text = candidate?.string, let tenant = TenantID(text) { return tenant }
        }
        return nil
    }

    /// SPEC §4: the first item's `price.lookup_key`, else `metadata.plan`.
    static func plan(ofSubscription object: JSONValue) -> TenantPlan? {
        if let key = object["items"]?["data"]?[0]?["price"]?["lookup_key"]?.string, let plan = TenantPlan(name: key) {
            return plan
        }
        if let name = object["metadata"]?["plan"]?.string { return TenantPlan(name: name) }
        return nil
    }

    /// `current_period_end` on the subscription (API versions before 2025-03) or on its first item.
    static func currentPeriodEnd(ofSubscription object: JSONValue) -> Date? {
        let seconds = object["current_period_end"]?.int64 ?? object["items"]?["data"]?[0]?["current_period_end"]?.int64
        return seconds.map { Date(timeIntervalSince1970: Double($0)) }
    }

    static func subscription(ofInvoice object: JSONValue) -> String? {
        object["subscription"]?.idReference
            ?? object["parent"]?["subscription_details"]?["subscription"]?.idReference
    }
}
