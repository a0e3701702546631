// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation

/// A subscription's status, with Stripe's names (docs.stripe.com/api/subscriptions/object#subscription_object-status)
/// plus `none` for a tenant that never had one.
enum SubscriptionStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case none
    case incomplete
    case incompleteExpired = "incomplete_expired"
    case trialing
    case active
    case pastDue = "past_due"
    case unpaid
    case canceled
    case paused

    /// `nil` for a status this version does not know, which then leaves the status unchanged.
    init?(stripe: String?) {
        guard let stripe, let status = SubscriptionStatus(rawValue: stripe), status != .none else { return nil }
        self = status
    }

    /// Statuses whose payment is overdue: AI usage is refused once the grace period has passed.
    var isDelinquent: Bool { self == .pastDue || self == .unpaid }
}

/// One Stripe event, reduced to what changes a subscription.
struct SubscriptionEvent: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// `customer.subscription.created` / `.updated`.
        case subscriptionChanged(subscriptionID: String, status: SubscriptionStatus?, plan: TenantPlan?, currentPeriodEnd: Date?)
        /// `customer.subscription.deleted`.
        case subscriptionDeleted(subscriptionID: String)
        /// `invoice.paid`.
        case invoicePaid(subscriptionID: String?)
        /// `invoice.payment_failed`.
        case invoicePaymentFailed(subscriptionID: String?)
        /// `checkout.session.completed`.
        case checkoutCompleted(subscriptionID: String?)
    }

    var id: String
    /// Stripe's `created`, in Unix seconds.
    var created: Int64
    var kind: Kind

    var createdDate: Date { Date(timeIntervalSince1970: Double(created)) }
}

/// What the caller must carry out after ``SubscriptionState/apply(_:customerID:)``. The new state
/// itself is always persisted by the caller.
enum SubscriptionAction: Sendable, Hashable {
    /// Link the Stripe customer to this tenant, so later events that name only the customer resolve.
    case linkCustomer(String)
    /// Change the tenant's plan, effective at the event's time (for proration).
    case changePlan(TenantPlan, effectiveAt: Date)
    case statusChanged(from: SubscriptionStatus, to: SubscriptionStatus)
    /// The event is older than one already applied: stored, acknowledged, no effect.
    case ignoredStale
    /// The event concerns a subscription other than the tenant's current one.
    case ignoredOtherSubscription
    /// The event concerns a subscription that was already canceled, which Stripe never revives.
    case ignoredCanceled
}

/// One tenant's subscription as driven by Stripe events: a state machine with no I/O, so every
/// ordering of events can be tested directly.
///
/// Ordering: Stripe does not deliver events in order, so each event takes effect only if its
/// `created` is not older than the last applied event's (`lastEventCreated`); equal times apply in
/// arrival order. A late older event is stored and acknowledged but changes nothing. Linking a
/// customer is the exception: it carries no state that a newer event could contradict, so it
/// always applies.
struct SubscriptionState: Sendable, Hashable {
    var tenant: TenantID
    var customerID: String?
    var subscriptionID: String?
    var status: SubscriptionStatus = .none
    /// The plan the subscription's price names, when it names one.
    var plan: TenantPlan?
    var currentPeriodEnd: Date?
    /// When payment first failed, for the grace period; `nil` unless delinquent.
    var pastDueSince: Date?
    /// `created` of the newest applied event, in Unix seconds.
    var lastEventCreated: Int64 = 0
    var lastEventID: String?

    init(tenant: TenantID) {
        self.tenant = tenant
    }

    /// Whether AI usage is refused at `now`: payment is overdue and has been for longer than `grace`.
    func refusesUsage(now: Date, grace: TimeInterval) -> Bool {
        guard status.isDelinquent, let since = pastDueSince else { return false }
        return now.timeIntervalSince(since) >= grace
    }

    /// The moment AI usage will be (or was) refused, when payment is overdue.
    func refusalDate(grace: TimeInterval) -> Date? {
        guard status.isDelinquent, let since = pastDueSince else { return nil }
        return since.addingTimeInterval(grace)
    }

    /// Applies one event. `customerID` is the Stripe customer the event names, if any.
    mutating func apply(_ event: SubscriptionEvent, customerID eventCustomer: String?) -> [SubscriptionAction] {
        var actions: [SubscriptionAction] = []
        if case .checkoutCompleted(let subscription) = event.kind {
            if let eventCustomer, eventCustomer != customerID {
                customerID = eventCustomer
                actions.append(.linkCustomer(eventCustomer))
            }
            if let subscription, subscriptionID == nil {
                subscriptionID = subscription
            }
            advance(to: event)
            return actions
        }
        guard event.created >= lastEventCreated else { return [.ignoredStale] }

        let before = status
        switch event.kind {
        case .checkoutCompleted:
            break

        case .subscriptionChanged(let subscription, let newStatus, let newPlan, let periodEnd):
            if subscription == subscriptionID, status == .canceled { return [.ignoredCanceled] }
            subscriptionID = subscription
            if let eventCustomer, customerID == nil {
                customerID = eventCustomer
                actions.append(.linkCustomer(eventCustomer))
            }
            if let newStatus { setStatus(newStatus, at: event.createdDate) }
            if let periodEnd { currentPeriodEnd = periodEnd }
            if let newPlan, newPlan != plan, status != .canceled {
                plan = newPlan
                actions.append(.changePlan(newPlan, effectiveAt: event.createdDate))
            }

        case .subscriptionDeleted(let subscription):
            if let subscriptionID, subscriptionID != subscription { return [.ignoredOtherSubscription] }
            if subscription == subscriptionID, status == .canceled { return [.ignoredCanceled] }
            subscriptionID = subscription
            setStatus(.canceled, at: event.createdDate)
            // Without a subscription the tenant is back on the free plan.
            if plan != .trial {
                plan = .trial
                actions.append(.changePlan(.trial, effectiveAt: event.createdDate))
            }

        case .invoicePaid(let subscription):
            if let subscription, let subscriptionID, subscription != subscriptionID { return [.ignoredOtherSubscription] }
            if status == .canceled { return [.ignoredCanceled] }
            if subscriptionID == nil { subscriptionID = subscription }
            if status != .trialing { setStatus(.active, at: event.createdDate) }

        case .invoicePaymentFailed(let subscription):
            if let subscription, let subscriptionID, subscription != subscriptionID { return [.ignoredOtherSubscription] }
            if status == .canceled { return [.ignoredCanceled] }
            if subscriptionID == nil { subscriptionID = subscription }
            if status != .unpaid { setStatus(.pastDue, at: event.createdDate) }
        }
        if status != before { actions.append(.statusChanged(from: before, to: status)) }
        advance(to: event)
        return actions
    }

    private mutating func setStatus(_ newStatus: SubscriptionStatus, at date: Date) {
        if newStatus.isDelinquent {
            if pastDueSince == nil { pastDueSince = date }
        } else {
            pastDueSince = nil
        }
        status = newStatus
    }

    private mutating func advance(to event: SubscriptionEvent) {
        if event.created >= lastEventCreated {
            lastEventCreated = event.created
            lastEventID = event.id
        }
    }
}
