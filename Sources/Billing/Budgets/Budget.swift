// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation

/// A tenant's monthly token budget.
struct Budget: Sendable, Hashable {
    /// Tokens per billing period; `nil` means no budget (no alerts, nothing refused).
    var monthlyTokens: Int64?
    /// Alert thresholds in percent of ``monthlyTokens``, ascending, e.g. `[80, 100]`.
    var thresholds: [Int]
    /// Refuse AI usage once the period's tokens reach the budget.
    var enforce: Bool

    static let defaultThresholds = [80, 100]
    static let maxThresholds = 10
    static let thresholdRange = 1...1000

    /// No budget: the state of a tenant that never set one.
    static let unset = Budget(trusted: nil, thresholds: defaultThresholds, enforce: true)

    /// Validates and normalises (sorted, duplicates removed); throws a 422 naming the field.
    init(validating monthlyTokens: Int64?, thresholds: [Int], enforce: Bool) throws(BillingError) {
        if let monthlyTokens, !(1...1_000_000_000_000).contains(monthlyTokens) {
            throw BillingError.unprocessable("monthly_tokens must be a positive integer of at most 10^12, or null for no budget")
        }
        let normalised = Array(Set(thresholds)).sorted()
        guard !normalised.isEmpty, normalised.count <= Self.maxThresholds,
              normalised.allSatisfy(Self.thresholdRange.contains) else {
            throw BillingError.unprocessable(
                "alert_thresholds must hold 1-\(Self.maxThresholds) percentages between \(Self.thresholdRange.lowerBound) and \(Self.thresholdRange.upperBound)")
        }
        self.monthlyTokens = monthlyTokens
        self.thresholds = normalised
        self.enforce = enforce
    }

    private init(trusted monthlyTokens: Int64?, thresholds: [Int], enforce: Bool) {
        self.monthlyTokens = monthlyTokens
        self.thresholds = thresholds
        self.enforce = enforce
    }

    /// A budget read back from storage, validated when it was saved.
    static func stored(monthlyTokens: Int64?, thresholds: [Int], enforce: Bool) -> Budget {
        Budget(trusted: monthlyTokens, thresholds: thresholds.sorted(), enforce: enforce)
    }

    /// The token count at which `threshold` percent is reached: rounded up, so 80% of 1,001 tokens
    /// is reached at 801, never before the percentage is actually met.
    static func tokens(at threshold: Int, of budget: Int64) -> Int64 {
        let product = budget.multipliedReportingOverflow(by: Int64(threshold))
        guard !product.overflow else { return Int64.max }
        return (product.partialValue + 99) / 100
    }

    /// The thresholds `used` tokens have reached.
    func reached(by used: Int64) -> [Int] {
        guard let monthlyTokens else { return [] }
        return thresholds.filter { used >= Self.tokens(at: $0, of: monthlyTokens) }
    }
}

/// One threshold crossing, as delivered to the alert webhook.
struct BudgetAlert: Sendable, Hashable, Codable {
    var type = "budget.threshold_crossed"
    /// Stable across retries, so a receiver can discard a repeated delivery: `<tenant>:<YYYY-MM>:<threshold>`.
    var id: String
    var tenant: String
    var period: String
    var periodStart: Date
    var periodEnd: Date
    var thresholdPercent: Int
    var budgetTokens: Int64
    var usedTokens: Int64
    var occurredAt: Date

    init(tenant: String, period: BillingPeriod, thresholdPercent: Int, budgetTokens: Int64, usedTokens: Int64, occurredAt: Date) {
        self.id = "\(tenant):\(period.label):\(thresholdPercent)"
        self.tenant = tenant
        self.period = period.label
        self.periodStart = period.start
        self.periodEnd = period.end
        self.thresholdPercent = thresholdPercent
        self.budgetTokens = budgetTokens
        self.usedTokens = usedTokens
        self.occurredAt = occurredAt
    }

    /// The alert in the `json` format (for n8n and other generic receivers): snake_case, ISO 8601 dates.
    func genericJSON() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// The alert as a Slack incoming-webhook message (api.slack.com/messaging/webhooks): `text`
    /// is required; the fields are repeated so Slack workflows can use them.
    func slackJSON() throws -> [UInt8] {
        let percent = budgetTokens > 0 ? usedTokens * 100 / budgetTokens : 0
        let text = ":warning: Atlas budget alert: tenant *\(tenant)* has used \(usedTokens) of its \(budgetTokens)-token budget for \(period) (\(percent)%), crossing its \(thresholdPercent)% threshold."
        struct Message: Encodable {
            var text: String
            var alert: BudgetAlert
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(Message(text: text, alert: self)))
    }
}
