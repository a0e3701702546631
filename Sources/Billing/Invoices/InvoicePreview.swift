// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation

/// A plan in effect from `effectiveAt` until the next change.
struct PlanChange: Hashable, Sendable {
    var plan: TenantPlan
    var effectiveAt: Date
}

/// One line of an invoice preview.
struct InvoiceLine: Hashable, Sendable {
    enum Kind: String, Sendable { case base, proration, overage }
    var kind: Kind
    var description: String
    /// Units charged: 1 for a fee, tokens for overage, milliseconds of the period for proration.
    var quantity: Int64
    /// Price of one unit, when the line has one (fees and overage).
    var unitPrice: Microdollars?
    var amount: Cents
    var periodStart: Date
    var periodEnd: Date
}

/// What the tenant would be charged at the end of the current period, computed from the period's
/// real usage and plan history.
///
/// Rules (ADR-004):
/// - **Base fee**: the plan in effect now, for the whole period.
/// - **Proration**: for each stretch of the period during which another plan was in effect, one
///   line of `(that plan's fee − current fee) × stretch ÷ period`, measured in milliseconds — a
///   credit after an upgrade, a charge after a downgrade — so base plus prorations equals each plan
///   charged for the time it was in effect. A plan change is effective from the instant it was
///   recorded; a tenant with no recorded change before the period had its first recorded plan from
///   the period's start.
/// - **Overage**: tokens of the period (metered events plus adjustments, the same number as
///   `usage.tokens`) above the current plan's included tokens, at its per-token price.
/// - **Rounding**: each line is rounded to the cent, half away from zero, once; the total is the
///   sum of the rounded lines, so the lines always add up to the total.
struct InvoicePreview: Sendable, Hashable {
    var tenant: TenantID
    var plan: TenantPlan
    var period: BillingPeriod
    var tokens: Int64
    var lines: [InvoiceLine]

    var total: Cents { lines.reduce(Cents.zero) { $0 + $1.amount } }
    /// The next charge is at the period's end.
    var nextChargeDate: Date { period.end }

    static func compute(
        tenant: TenantID, currentPlan: TenantPlan, history: [PlanChange], tokens: Int64,
        period: BillingPeriod, catalog: PlanCatalog = .standard
    ) -> InvoicePreview {
        let current = catalog[currentPlan]
        var lines = [InvoiceLine(
            kind: .base, description: "\(current.displayName) plan, monthly fee (\(period.label))",
            quantity: 1, unitPrice: Microdollars(current.monthlyFee.value * Microdollars.perCent),
            amount: current.monthlyFee, periodStart: period.start, periodEnd: period.end)]

        for segment in segments(history: history, currentPlan: currentPlan, period: period) where segment.plan != currentPlan {
            let other = catalog[segment.plan]
            let duration = BillingPeriod.millis(segment.end) - BillingPeriod.millis(segment.start)
            guard duration > 0 else { continue }
            let difference = other.monthlyFee - current.monthlyFee
            // Rounding the magnitude keeps credits and charges symmetric (half away from zero).
            let prorated = Cents(abs(difference.value)).scaled(by: duration, over: period.durationMillis)
            let amount = difference.value < 0 ? -prorated : prorated
            let days = Decimal(duration) / 86_400_000
            lines.append(InvoiceLine(
                kind: .proration,
                description: "Proration: \(other.displayName) instead of \(current.displayName) for \(Self.format(days)) of \(period.durationMillis / 86_400_000) days",
                quantity: duration, unitPrice: nil, amount: amount, periodStart: segment.start, periodEnd: segment.end))
        }

        let over = max(0, tokens - current.includedTokens)
        if over > 0 {
            lines.append(InvoiceLine(
                kind: .overage,
                description: "Token overage: \(over) tokens above the \(current.includedTokens) included, at $\(current.overagePerToken) each",
                quantity: over, unitPrice: current.overagePerToken, amount: current.overagePerToken.times(over),
                periodStart: period.start, periodEnd: period.end))
        }
        return InvoicePreview(tenant: tenant, plan: currentPlan, period: period, tokens: tokens, lines: lines)
    }

    /// The stretches of `period` and the plan in effect during each, from the history (ordered or
    /// not). The last stretch runs to the period's end and has the current plan, whatever the
    /// history says: the tenant registry is the authority on the plan now.
    static func segments(history: [PlanChange], currentPlan: TenantPlan, period: BillingPeriod)
        -> [(plan: TenantPlan, start: Date, end: Date)] {
        let ordered = history.sorted { $0.effectiveAt < $1.effectiveAt }
        let before = ordered.last { $0.effectiveAt <= period.start }
        let inside = ordered.filter { $0.effectiveAt > period.start && $0.effectiveAt < period.end }
        var result: [(plan: TenantPlan, start: Date, end: Date)] = []
        var plan = before?.plan ?? inside.first?.plan ?? currentPlan
        var start = period.start
        for change in inside {
            if change.plan != plan {
                result.append((plan, start, change.effectiveAt))
                start = change.effectiveAt
                plan = change.plan
            }
        }
        result.append((currentPlan, start, period.end))
        return result
    }

    private static func format(_ days: Decimal) -> String {
        var rounded = Decimal()
        var value = days
        NSDecimalRound(&rounded, &value, 2, .plain)
        return "\(rounded) days"
    }
}
