// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Storage

/// The SQL of budgets and their alerts.
enum BudgetStore {
    static func budget(tenant: String, on conn: any Connection) throws -> Budget? {
        guard let row = try conn.queryFirst("""
            SELECT monthly_tokens, thresholds, enforce FROM billing_budgets WHERE tenant_id = \(tenant)
            """) else { return nil }
        return Budget.stored(
            monthlyTokens: try row.decode("monthly_tokens", as: Int64?.self),
            thresholds: try row.decodeJSON("thresholds", as: [Int].self),
            enforce: try row.decode("enforce", as: Bool.self))
    }

    static func save(_ budget: Budget, tenant: String, actor: String, now: Int64, on conn: any Connection) throws {
        try conn.execute("""
            INSERT INTO billing_budgets (tenant_id, monthly_tokens, thresholds, enforce, updated_at, updated_by)
            VALUES (\(tenant), \(budget.monthlyTokens), \(try SQLValue.json(budget.thresholds)), \(budget.enforce), \(now), \(actor))
            ON CONFLICT (tenant_id) DO UPDATE SET monthly_tokens = excluded.monthly_tokens, thresholds = excluded.thresholds,
            enforce = excluded.enforce, updated_at = excluded.updated_at, updated_by = excluded.updated_by
            """)
    }

    /// Alerts already raised for a tenant in a period, ascending by threshold.
    static func alerts(tenant: String, period: BillingPeriod, on conn: any Connection) throws -> [BudgetAlert] {
        try conn.query("""
            SELECT threshold, budget_tokens, used_tokens, created_at FROM billing_budget_alerts
            WHERE tenant_id = \(tenant) AND period_start = \(period.startMillis) ORDER BY threshold
            """).map { row in
            BudgetAlert(tenant: tenant, period: period, thresholdPercent: try row.decode("threshold"),
                        budgetTokens: try row.decode("budget_tokens"), usedTokens: try row.decode("used_tokens"),
                        occurredAt: try row.decode("created_at", as: Date.self))
        }
    }

    /// Raises every alert the tenants' current usage has reached and not yet raised this period.
    /// The alert table's primary key makes each (tenant, period, threshold) alert happen once, even
    /// when several writers see the crossing at the same time; a new alert is queued in the outbox
    /// in the same transaction when `enqueue` is set (an alert webhook is configured).
    static func evaluate(_ touched: some Sequence<UsageStore.TenantPeriod>, now: Int64, enqueue: Bool,
                         on conn: any Connection) throws -> [BudgetAlert] {
        var raised: [BudgetAlert] = []
        for key in touched.sorted() {
            guard let budget = try budget(tenant: key.tenant, on: conn), let limit = budget.monthlyTokens,
                  let tenant = TenantID(key.tenant) else { continue }
            let period = BillingPeriod(startMillis: key.periodStart)
            let used = try UsageStore.periodTotals(tenant: tenant, period: period, on: conn).tokens
            for threshold in budget.reached(by: used) {
                let rows = try conn.query("""
                    INSERT INTO billing_budget_alerts (tenant_id, period_start, threshold, budget_tokens, used_tokens, created_at)
                    VALUES (\(key.tenant), \(key.periodStart), \(threshold), \(limit), \(used), \(now))
                    ON CONFLICT (tenant_id, period_start, threshold) DO NOTHING RETURNING threshold
                    """)
                guard !rows.isEmpty else { continue }
                let alert = BudgetAlert(tenant: key.tenant, period: period, thresholdPercent: threshold, budgetTokens: limit,
                                        usedTokens: used, occurredAt: Date(timeIntervalSince1970: Double(now) / 1000))
                raised.append(alert)
                if enqueue {
                    try OutboxStore.enqueue(kind: .budgetAlert, tenant: key.tenant, payload: try alert.genericJSON(), now: now, on: conn)
                }
            }
        }
        return raised
    }
}
