// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

public import Core
import Foundation
import Logging
import ServiceLifecycle
import Storage

/// The cost-anomaly detector's settings (`ATLAS_COST_ANOMALY_*`).
public struct CostAnomalyConfiguration: Sendable {
    /// Last hour's tokens at or above `ratio` × the tenant's own hourly baseline is an anomaly.
    public var ratio: Double
    /// Below this many tokens in the last hour nothing is an anomaly (a quiet tenant doubling from
    /// 10 to 20 tokens is not news).
    public var minTokens: Int64
    /// Hours before the last one that make the baseline (their hourly mean).
    public var baselineHours: Int
    /// How often the detector looks.
    public var interval: Duration
    /// A tenant with a budget also alerts when last hour's rate would use up what is left of its
    /// budget within this many hours.
    public var budgetHorizonHours: Double

    public init(ratio: Double = 3, minTokens: Int64 = 10_000, baselineHours: Int = 24, interval: Duration = .seconds(300),
                budgetHorizonHours: Double = 24) {
        self.ratio = ratio
        self.minTokens = minTokens
        self.baselineHours = baselineHours
        self.interval = interval
        self.budgetHorizonHours = budgetHorizonHours
    }

    init(environment: EnvironmentReader) throws {
        self.init(ratio: try environment.double("ATLAS_COST_ANOMALY_RATIO", default: 3, in: 1.1...1000),
                  minTokens: Int64(try environment.int("ATLAS_COST_ANOMALY_MIN_TOKENS", default: 10_000, in: 1...1_000_000_000)),
                  baselineHours: try environment.int("ATLAS_COST_ANOMALY_BASELINE_HOURS", default: 24, in: 1...720),
                  interval: try environment.seconds("ATLAS_COST_ANOMALY_INTERVAL", default: .seconds(300), in: 1...86_400),
                  budgetHorizonHours: try environment.double("ATLAS_COST_ANOMALY_BUDGET_HORIZON_HOURS", default: 24, in: 1...8760))
    }
}

/// Watches every tenant's token burn and raises one operator notice per anomaly episode
/// (`usage.cost_anomaly`, through ``Notifier``), with the runbook to follow.
///
/// An episode opens when the last hour's tokens reach `ratio` × the tenant's baseline (the mean
/// of the `baselineHours` before it, from the hourly rollups), or when a tenant with a budget
/// burns fast enough to exhaust it within `budgetHorizonHours`; it closes on the first check
/// that finds neither. Episodes are rows, so a restart or a second instance does not alert again.
final class CostAnomalyDetector: Service, Sendable {
    static let runbook = "automation/playbooks/cost-anomaly.md"

    struct Finding: Sendable, Equatable {
        var tenant: String
        var tokensLastHour: Int64
        var baselinePerHour: Double
        var reason: String
        var budgetTokens: Int64?
        var usedTokens: Int64?
        var hoursToExhaustion: Double?
    }

    private let service: BillingService
    private let notifier: any Notifier
    let configuration: CostAnomalyConfiguration

    init(service: BillingService, notifier: any Notifier, configuration: CostAnomalyConfiguration) {
        self.service = service
        self.notifier = notifier
        self.configuration = configuration
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await self.check()
                } catch {
                    self.service.logger.warning("cost_anomaly.check_failed", metadata: ["error": "\(String(describing: error).prefix(200))"])
                }
                try? await Task.sleep(for: self.configuration.interval)
            }
        }
    }

    /// One pass: finds anomalies, opens and closes episodes, notifies for each episode opened.
    /// Returns the notices sent.
    @discardableResult
    func check() async throws -> [OperatorNotice] {
        let now = service.now()
        let stamp = BillingPeriod.millis(now)
        let period = BillingPeriod(containing: now)
        let configuration = self.configuration
        let opened: [(Finding, Int64)] = try await service.database.transaction { conn in
            let findings = try Self.findings(now: stamp, period: period, configuration: configuration, on: conn)
            let anomalous = Set(findings.map(\.tenant))
            // Close the episodes of tenants back to normal.
            let open = try conn.query("SELECT tenant_id FROM billing_cost_episodes WHERE closed_at IS NULL")
            for row in open {
                let tenant: String = try row.decode("tenant_id")
                if !anomalous.contains(tenant) {
                    try conn.execute("UPDATE billing_cost_episodes SET closed_at = \(stamp) WHERE tenant_id = \(tenant) AND closed_at IS NULL")
                }
            }
            var opened: [(Finding, Int64)] = []
            for finding in findings {
                let updated = try conn.query("""
                    UPDATE billing_cost_episodes SET last_seen_at = \(stamp),
                        peak_tokens_per_hour = CASE WHEN peak_tokens_per_hour < \(finding.tokensLastHour) THEN \(finding.tokensLastHour) ELSE peak_tokens_per_hour END
                    WHERE tenant_id = \(finding.tenant) AND closed_at IS NULL RETURNING started_at
                    """)
                if !updated.isEmpty { continue }
                let inserted = try conn.query("""
                    INSERT INTO billing_cost_episodes (tenant_id, started_at, last_seen_at, reason, peak_tokens_per_hour)
                    VALUES (\(finding.tenant), \(stamp), \(stamp), \(finding.reason), \(finding.tokensLastHour))
                    ON CONFLICT (tenant_id) WHERE closed_at IS NULL DO NOTHING RETURNING started_at
                    """)
                if !inserted.isEmpty { opened.append((finding, stamp)) }
            }
            return opened
        }
        var notices: [OperatorNotice] = []
        for (finding, startedAt) in opened {
            guard let tenant = TenantID(finding.tenant) else { continue }
            let notice = Self.notice(for: finding, tenant: tenant, startedAt: startedAt, at: now)
            try await notifier.notify(notice)
            service.metrics.increment("cost_anomalies_total", label: finding.reason)
            service.logger.warning("cost_anomaly.detected", metadata: [
                "tenant": "\(finding.tenant)", "tokens_last_hour": "\(finding.tokensLastHour)", "reason": "\(finding.reason)",
            ])
            notices.append(notice)
        }
        return notices
    }

    static func notice(for finding: Finding, tenant: TenantID, startedAt: Int64, at now: Date) -> OperatorNotice {
        let ratio = finding.baselinePerHour > 0 ? Double(finding.tokensLastHour) / finding.baselinePerHour : nil
        var fields: [String: JSONValue] = [
            "tokens_last_hour": .number(Double(finding.tokensLastHour)),
            "baseline_tokens_per_hour": .number((finding.baselinePerHour * 10).rounded() / 10),
            "ratio": ratio.map { .number(($0 * 10).rounded() / 10) } ?? .null,
            "reason": .string(finding.reason),
            "runbook": .string(runbook),
            "episode_started_at": .string(Date(timeIntervalSince1970: Double(startedAt) / 1000).formatted(.iso8601)),
        ]
        if let budget = finding.budgetTokens { fields["budget_tokens"] = .number(Double(budget)) }
        if let used = finding.usedTokens { fields["used_tokens"] = .number(Double(used)) }
        if let hours = finding.hoursToExhaustion { fields["hours_to_budget_exhaustion"] = .number((hours * 10).rounded() / 10) }
        let summary = finding.reason == "budget_burn"
            ? "Tenant \(tenant) burned \(finding.tokensLastHour) tokens in the last hour and will exhaust its budget in about \(Int((finding.hoursToExhaustion ?? 0).rounded())) h."
            : "Tenant \(tenant) used \(finding.tokensLastHour) tokens in the last hour, \(ratio.map { String(format: "%.1f", $0) } ?? "many")× its usual \(Int(finding.baselinePerHour.rounded())) per hour."
        return OperatorNotice(type: "usage.cost_anomaly", id: "\(tenant):\(startedAt)", tenant: tenant, summary: summary,
                              fields: fields, occurredAt: now)
    }

    /// The tenants anomalous now. Last hour: the raw events (an index range scan); baseline: the
    /// hourly rollups of the hours before it.
    static func findings(now: Int64, period: BillingPeriod, configuration: CostAnomalyConfiguration,
                         on conn: any Connection) throws -> [Finding] {
        let hourMillis: Int64 = 3_600_000
        let recent = try conn.query("""
            SELECT tenant_id, SUM(tokens) AS tokens FROM billing_usage_events
            WHERE occurred_at > \(now - hourMillis) AND occurred_at <= \(now) GROUP BY tenant_id
            """)
        guard !recent.isEmpty else { return [] }
        // Whole hours that end before the last hour began: `baselineHours` rollup rows.
        let baselineFirst = now - hourMillis * Int64(configuration.baselineHours + 2)
        let baselineLast = now - 2 * hourMillis
        var baseline: [String: Int64] = [:]
        for row in try conn.query("""
            SELECT tenant_id, SUM(tokens) AS tokens FROM billing_usage_hourly
            WHERE hour_start > \(baselineFirst) AND hour_start <= \(baselineLast) GROUP BY tenant_id
            """) {
            baseline[try row.decode("tenant_id")] = try row.decode("tokens", as: Int64?.self) ?? 0
        }
        var findings: [Finding] = []
        for row in recent {
            let tenant: String = try row.decode("tenant_id")
            let tokens = try row.decode("tokens", as: Int64?.self) ?? 0
            guard tokens >= configuration.minTokens else { continue }
            let perHour = Double(baseline[tenant] ?? 0) / Double(configuration.baselineHours)
            if Double(tokens) >= configuration.ratio * perHour {
                findings.append(Finding(tenant: tenant, tokensLastHour: tokens, baselinePerHour: perHour, reason: "spike"))
                continue
            }
            guard let id = TenantID(tenant), let budget = try BudgetStore.budget(tenant: tenant, on: conn),
                  let monthly = budget.monthlyTokens else { continue }
            let used = try UsageStore.periodTotals(tenant: id, period: period, on: conn).tokens
            let remaining = max(0, monthly - used)
            let hours = Double(remaining) / Double(tokens)
            let hoursLeftInPeriod = period.end.timeIntervalSince(Date(timeIntervalSince1970: Double(now) / 1000)) / 3600
            if hours < configuration.budgetHorizonHours, hours < hoursLeftInPeriod {
                findings.append(Finding(tenant: tenant, tokensLastHour: tokens, baselinePerHour: perHour, reason: "budget_burn",
                                        budgetTokens: monthly, usedTokens: used, hoursToExhaustion: hours))
            }
        }
        return findings
    }
}
