// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// Decides whether a tenant may consume metered AI usage right now. Implemented by the Billing
/// module; the AI module calls it before every run (SPEC §4 "Budgets").
///
/// ```swift
/// try await budgetGuard.check(context.tenantID)   // throws a 402 problem when refused
/// ```
public protocol BudgetGuard: Sendable {
    /// Returns when the tenant may proceed. Throws a ``ProblemError`` with status 402 and a `detail`
    /// saying why (the monthly token budget is exhausted, or the subscription has been `past_due`
    /// beyond its grace period) — never a 5xx for a refusal.
    func check(_ tenant: TenantID) async throws
}

/// Receives plan changes made outside the Billing module (`POST /tenants`, `PATCH
/// /tenants/{tenant}`), so the billing preview can prorate a mid-period change. Implemented by
/// Billing, called by Auth after the change commits. Recording the plan already in effect is a no-op.
public protocol PlanChangeRecorder: Sendable {
    func planChanged(tenant: TenantID, to plan: TenantPlan, at date: Date) async throws
}

/// Changes a tenant's plan in the tenant registry. Implemented by the Auth module (which owns the
/// tenants); called by Billing when a Stripe event changes a subscription's plan. Must be
/// idempotent: setting the plan a tenant already has changes nothing.
public protocol TenantPlanWriter: Sendable {
    func setPlan(_ plan: TenantPlan, for tenant: TenantID, actor: String) async throws
}
