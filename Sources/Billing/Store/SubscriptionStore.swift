// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// The SQL of Stripe events, customers, subscriptions and the plan history.
enum SubscriptionStore {
    // MARK: Events

    /// Stores a verified event; `false` when an event with this id was stored before (a replay).
    static func insertEvent(_ event: StripeEvent, payload: [UInt8], now: Int64, on conn: any Connection) throws -> Bool {
        let rows = try conn.query("""
            INSERT INTO billing_stripe_events (id, type, created, livemode, customer_id, outcome, payload, received_at)
            VALUES (\(event.id), \(event.type), \(event.created), \(event.livemode), \(event.customerID), 'received',
                    \(String(decoding: payload, as: UTF8.self)), \(now))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """)
        return !rows.isEmpty
    }

    static func settleEvent(id: String, tenant: TenantID?, outcome: String, now: Int64, on conn: any Connection) throws {
        try conn.execute("""
            UPDATE billing_stripe_events SET outcome = \(outcome), tenant_id = \(tenant?.rawValue), processed_at = \(now)
            WHERE id = \(id)
            """)
    }

    /// Stored events that named no resolvable tenant, for `customer`, oldest first.
    static func unresolvedEvents(customer: String, on conn: any Connection) throws -> [(event: StripeEvent, payload: [UInt8])] {
        try conn.query("""
            SELECT payload FROM billing_stripe_events WHERE outcome = 'unresolved' AND customer_id = \(customer)
            ORDER BY created, received_at
            """).map { row in
            let payload = Array(try row.decode("payload", as: String.self).utf8)
            return (try StripeEvent.parse(payload), payload)
        }
    }

    /// Outcome and tenant of a stored event, for tests and diagnostics.
    static func eventOutcome(id: String, on conn: any Connection) throws -> (outcome: String, tenant: String?)? {
        guard let row = try conn.queryFirst("SELECT outcome, tenant_id FROM billing_stripe_events WHERE id = \(id)") else { return nil }
        return (try row.decode("outcome"), try row.decode("tenant_id", as: String?.self))
    }

    // MARK: Customers

    static func tenant(ofCustomer customer: String, on conn: any Connection) throws -> TenantID? {
        try conn.queryScalar("SELECT tenant_id FROM billing_stripe_customers WHERE customer_id = \(customer)", as: String.self)
            .flatMap { TenantID($0) }
    }

    static func tenant(ofSubscription subscription: String, on conn: any Connection) throws -> TenantID? {
        try conn.queryScalar("SELECT tenant_id FROM billing_subscriptions WHERE subscription_id = \(subscription)", as: String.self)
            .flatMap { TenantID($0) }
    }

    /// Links a customer to a tenant. A customer already linked elsewhere keeps its first tenant:
    /// one Stripe customer never pays for two tenants.
    static func link(customer: String, to tenant: TenantID, eventID: String, now: Int64, on conn: any Connection) throws {
        try conn.execute("""
            INSERT INTO billing_stripe_customers (customer_id, tenant_id, linked_at, event_id)
            VALUES (\(customer), \(tenant.rawValue), \(now), \(eventID))
            ON CONFLICT (customer_id) DO NOTHING
            """)
    }

    // MARK: Subscriptions

    static func subscription(tenant: TenantID, on conn: any Connection) throws -> SubscriptionState? {
        guard let row = try conn.queryFirst("""
            SELECT subscription_id, customer_id, status, plan, current_period_end, past_due_since, last_event_created, last_event_id
            FROM billing_subscriptions WHERE tenant_id = \(tenant.rawValue)
            """) else { return nil }
        var state = SubscriptionState(tenant: tenant)
        state.subscriptionID = try row.decode("subscription_id", as: String?.self)
        state.customerID = try row.decode("customer_id", as: String?.self)
        state.status = SubscriptionStatus(rawValue: try row.decode("status")) ?? .none
        state.plan = try row.decode("plan", as: String?.self).flatMap { TenantPlan(name: $0) }
        state.currentPeriodEnd = try row.decode("current_period_end", as: Date?.self)
        state.pastDueSince = try row.decode("past_due_since", as: Date?.self)
        state.lastEventCreated = try row.decode("last_event_created")
        state.lastEventID = try row.decode("last_event_id", as: String?.self)
        return state
    }

    static func save(_ state: SubscriptionState, now: Int64, on conn: any Connection) throws {
        try conn.execute("""
            INSERT INTO billing_subscriptions (tenant_id, subscription_id, customer_id, status, plan, current_period_end,
                past_due_since, last_event_created, last_event_id, updated_at)
            VALUES (\(state.tenant.rawValue), \(state.subscriptionID), \(state.customerID), \(state.status.rawValue),
                \(state.plan?.rawValue), \(state.currentPeriodEnd), \(state.pastDueSince), \(state.lastEventCreated),
                \(state.lastEventID), \(now))
            ON CONFLICT (tenant_id) DO UPDATE SET subscription_id = excluded.subscription_id, customer_id = excluded.customer_id,
                status = excluded.status, plan = excluded.plan, current_period_end = excluded.current_period_end,
                past_due_since = excluded.past_due_since, last_event_created = excluded.last_event_created,
                last_event_id = excluded.last_event_id, updated_at = excluded.updated_at
            """)
    }

    // MARK: Plan history

    /// Appends a plan change unless `plan` is already the latest recorded plan at `date`.
    /// Returns whether a row was added.
    @discardableResult
    static func recordPlan(_ plan: TenantPlan, tenant: TenantID, at date: Date, source: String, now: Int64,
                           on conn: any Connection) throws -> Bool {
        let latest = try conn.queryScalar("""
            SELECT plan FROM billing_plan_changes WHERE tenant_id = \(tenant.rawValue) AND effective_at <= \(date)
            ORDER BY effective_at DESC, id DESC LIMIT 1
            """, as: String.self)
        guard latest != plan.rawValue else { return false }
        try conn.execute("""
            INSERT INTO billing_plan_changes (tenant_id, plan, effective_at, source, created_at)
            VALUES (\(tenant.rawValue), \(plan.rawValue), \(date), \(source), \(now))
            """)
        return true
    }

    /// The changes relevant to `period`: the last one at or before its start and all inside it.
    static func planHistory(tenant: TenantID, period: BillingPeriod, on conn: any Connection) throws -> [PlanChange] {
        let decode: (Row) throws -> PlanChange? = { row in
            guard let plan = TenantPlan(name: try row.decode("plan", as: String.self)) else { return nil }
            return PlanChange(plan: plan, effectiveAt: try row.decode("effective_at", as: Date.self))
        }
        var changes = try conn.query("""
            SELECT plan, effective_at FROM billing_plan_changes WHERE tenant_id = \(tenant.rawValue)
            AND effective_at <= \(period.start) ORDER BY effective_at DESC, id DESC LIMIT 1
            """).compactMap(decode)
        changes += try conn.query("""
            SELECT plan, effective_at FROM billing_plan_changes WHERE tenant_id = \(tenant.rawValue)
            AND effective_at > \(period.start) AND effective_at < \(period.end) ORDER BY effective_at, id
            """).compactMap(decode)
        return changes
    }
}
