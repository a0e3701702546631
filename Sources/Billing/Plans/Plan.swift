// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core

/// One subscription plan's prices: the only place they are written down (SPEC §3).
struct Plan: Hashable, Sendable {
    /// The plan's name, shared with the tenant registry.
    var id: TenantPlan
    /// Human-readable name for invoice lines.
    var displayName: String
    /// The monthly fee, charged in advance for the whole period.
    var monthlyFee: Cents
    /// Tokens included in each period before overage applies.
    var includedTokens: Int64
    /// Price of each token beyond ``includedTokens``.
    var overagePerToken: Microdollars
}

/// The plans Atlas sells, as data. Code asks the catalog; nothing else switches over plan names.
struct PlanCatalog: Sendable {
    private let plans: [TenantPlan: Plan]

    init(_ plans: [Plan]) {
        var table: [TenantPlan: Plan] = [:]
        for plan in plans { table[plan.id] = plan }
        precondition(TenantPlan.allCases.allSatisfy { table[$0] != nil }, "every plan needs a price")
        self.plans = table
    }

    subscript(_ id: TenantPlan) -> Plan { plans[id]! }

    /// SPEC §3: `trial` $0, `growth` $249, `scale` $999 a month; tokens over 150,000 in the
    /// period cost $0.0005 each, on every plan.
    static let standard = PlanCatalog([
        Plan(id: .trial, displayName: "Trial", monthlyFee: Cents(0), includedTokens: 150_000,
             overagePerToken: Microdollars(500)),
        Plan(id: .growth, displayName: "Growth", monthlyFee: Cents(24_900), includedTokens: 150_000,
             overagePerToken: Microdollars(500)),
        Plan(id: .scale, displayName: "Scale", monthlyFee: Cents(99_900), includedTokens: 150_000,
             overagePerToken: Microdollars(500)),
    ])
}
