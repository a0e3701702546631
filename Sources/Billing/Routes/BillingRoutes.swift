// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP

/// `GET /billing/{tenant}/preview`, `GET /billing/{tenant}/subscription`,
/// `GET|PUT /tenants/{tenant}/budget`, `POST /webhooks/stripe`.
struct BillingRoutes {
    let service: BillingService

    /// Stripe's own events stay well below this (docs.stripe.com/webhooks: payloads are small JSON).
    static let stripeMaxBodyBytes = 512 * 1024

    func register(_ routes: SecuredRoutes) {
        let service = self.service

        routes.get("/billing/{tenant}/preview", requires: .billingRead) { _, context in
            let preview = try await service.preview(for: context.tenantID, currentPlan: context.tenant.plan)
            return try .json(PreviewDocument(preview, catalog: service.catalog))
        }

        routes.get("/billing/{tenant}/subscription", requires: .billingRead) { _, context in
            let state = try await service.subscription(for: context.tenantID)
            let grace = service.configuration.pastDueGrace
            return try .json(SubscriptionDocument(
                tenant: context.tenantID.rawValue, status: state.status.rawValue, plan: context.tenant.plan.rawValue,
                subscriptionPlan: state.plan?.rawValue, subscriptionID: state.subscriptionID, customerID: state.customerID,
                currentPeriodEnd: state.currentPeriodEnd, pastDueSince: state.pastDueSince,
                aiUsageRefusedFrom: state.refusalDate(grace: grace),
                aiUsageAllowed: !state.refusesUsage(now: service.now(), grace: grace),
                lastEventID: state.lastEventID,
                lastEventCreated: state.lastEventCreated > 0 ? Date(timeIntervalSince1970: Double(state.lastEventCreated)) : nil))
        }

        routes.get("/tenants/{tenant}/budget", requires: .billingRead) { _, context in
            let (budget, totals, alerts) = try await service.budget(for: context.tenantID)
            return try .json(BudgetDocument(tenant: context.tenantID, budget: budget, totals: totals, alerts: alerts))
        }

        routes.put("/tenants/{tenant}/budget", requires: .billingManage, maxBodyBytes: 16 * 1024) { request, context in
            let body = try request.decode(BudgetBody.self)
            let current = try await service.budget(for: context.tenantID).budget
            let budget = try Budget(validating: body.monthlyTokens, thresholds: body.alertThresholds ?? current.thresholds,
                                    enforce: body.enforce ?? current.enforce)
            try await service.setBudget(budget, for: context.tenantID, actor: context.principal.actor)
            try? await service.auditLog?.record(AuditEvent(
                tenant: context.tenantID, actor: context.principal.actor, action: "billing.budget_changed",
                requestID: context.requestID, clientAddress: context.clientAddress,
                details: ["monthly_tokens": budget.monthlyTokens.map(String.init) ?? "none",
                          "alert_thresholds": budget.thresholds.map(String.init).joined(separator: ","),
                          "enforce": String(budget.enforce)]))
            let (saved, totals, alerts) = try await service.budget(for: context.tenantID)
            return try .json(BudgetDocument(tenant: context.tenantID, budget: saved, totals: totals, alerts: alerts))
        }

        routes.post("/webhooks/stripe", access: .open, maxBodyBytes: Self.stripeMaxBodyBytes) { request, _ in
            _ = try await service.handleStripeWebhook(body: request.body, signature: request.headers["Stripe-Signature"])
            return Self.accepted
        }
    }

    static let accepted = Response.json(rawJSON: #"{"status":"accepted"}"#)

    // MARK: Documents

    struct BudgetBody: Decodable {
        /// `null` removes the budget.
        var monthlyTokens: Int64?
        var alertThresholds: [Int]?
        var enforce: Bool?
    }

    struct BudgetDocument: Encodable {
        struct Alert: Encodable {
            var thresholdPercent: Int
            var budgetTokens: Int64
            var usedTokens: Int64
            var createdAt: Date
        }

        var tenant: String
        var monthlyTokens: Int64?
        var alertThresholds: [Int]
        var enforce: Bool
        var periodStart: Date
        var periodEnd: Date
        var usedTokens: Int64
        var remainingTokens: Int64?
        var alerts: [Alert]

        init(tenant: TenantID, budget: Budget, totals: UsagePeriodTotals, alerts: [BudgetAlert]) {
            self.tenant = tenant.rawValue
            monthlyTokens = budget.monthlyTokens
            alertThresholds = budget.thresholds
            enforce = budget.enforce
            periodStart = totals.periodStart
            periodEnd = totals.periodEnd
            usedTokens = totals.tokens
            remainingTokens = budget.monthlyTokens.map { max(0, $0 - totals.tokens) }
            self.alerts = alerts.map {
                Alert(thresholdPercent: $0.thresholdPercent, budgetTokens: $0.budgetTokens, usedTokens: $0.usedTokens, createdAt: $0.occurredAt)
            }
        }

        enum CodingKeys: String, CodingKey {
            case tenant, monthlyTokens, alertThresholds, enforce, periodStart, periodEnd, usedTokens, remainingTokens, alerts
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tenant, forKey: .tenant)
            try container.encode(monthlyTokens, forKey: .monthlyTokens)
            try container.encode(alertThresholds, forKey: .alertThresholds)
            try container.encode(enforce, forKey: .enforce)
            try container.encode(periodStart, forKey: .periodStart)
            try container.encode(periodEnd, forKey: .periodEnd)
            try container.encode(usedTokens, forKey: .usedTokens)
            try container.encode(remainingTokens, forKey: .remainingTokens)
            try container.encode(alerts, forKey: .alerts)
        }
    }

    struct PreviewDocument: Encodable {
        struct Line: Encodable {
            var kind: String
            var description: String
            var quantity: Int64
            var unitAmountUsd: Decimal?
            var amountUsd: Decimal
            var amountCents: Int64
            var periodStart: Date
            var periodEnd: Date
        }

        var tenant: String
        var plan: String
        var estimatedAmountUsd: Decimal
        var estimatedAmountCents: Int64
        var currency = "usd"
        var nextChargeDate: Date
        var periodStart: Date
        var periodEnd: Date
        var usageTokens: Int64
        var includedTokens: Int64
        var lineItems: [Line]

        init(_ preview: InvoicePreview, catalog: PlanCatalog) {
            tenant = preview.tenant.rawValue
            plan = preview.plan.rawValue
            estimatedAmountUsd = preview.total.dollars
            estimatedAmountCents = preview.total.value
            nextChargeDate = preview.nextChargeDate
            periodStart = preview.period.start
            periodEnd = preview.period.end
            usageTokens = preview.tokens
            includedTokens = catalog[preview.plan].includedTokens
            lineItems = preview.lines.map {
                Line(kind: $0.kind.rawValue, description: $0.description, quantity: $0.quantity, unitAmountUsd: $0.unitPrice?.dollars,
                     amountUsd: $0.amount.dollars, amountCents: $0.amount.value, periodStart: $0.periodStart, periodEnd: $0.periodEnd)
            }
        }
    }

    struct SubscriptionDocument: Encodable {
        var tenant: String
        /// `none` when the tenant never had a Stripe subscription.
        var status: String
        /// The tenant's plan now (the tenant registry's).
        var plan: String
        /// The plan the subscription's price names, if any.
        var subscriptionPlan: String?
        var subscriptionID: String?
        var customerID: String?
        var currentPeriodEnd: Date?
        var pastDueSince: Date?
        /// When a past-due subscription's grace period ends (AI usage is refused from then).
        var aiUsageRefusedFrom: Date?
        var aiUsageAllowed: Bool
        var lastEventID: String?
        var lastEventCreated: Date?

        enum CodingKeys: String, CodingKey {
            case tenant, status, plan, subscriptionPlan, subscriptionID = "subscriptionId", customerID = "customerId", currentPeriodEnd
            case pastDueSince, aiUsageRefusedFrom, aiUsageAllowed, lastEventID = "lastEventId", lastEventCreated
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tenant, forKey: .tenant)
            try container.encode(status, forKey: .status)
            try container.encode(plan, forKey: .plan)
            try container.encode(subscriptionPlan, forKey: .subscriptionPlan)
            try container.encode(subscriptionID, forKey: .subscriptionID)
            try container.encode(customerID, forKey: .customerID)
            try container.encode(currentPeriodEnd, forKey: .currentPeriodEnd)
            try container.encode(pastDueSince, forKey: .pastDueSince)
            try container.encode(aiUsageRefusedFrom, forKey: .aiUsageRefusedFrom)
            try container.encode(aiUsageAllowed, forKey: .aiUsageAllowed)
            try container.encode(lastEventID, forKey: .lastEventID)
            try container.encode(lastEventCreated, forKey: .lastEventCreated)
        }
    }
}
