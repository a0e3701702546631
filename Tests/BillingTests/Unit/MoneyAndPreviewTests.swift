// Atlas — BillingTests
// SPDX-License-Identifier: Apache-2.0

@testable import Billing
import Core
import Foundation
import Testing

@Suite struct MoneyAndPreviewTests {
    static let tenant = TenantID("acme")!

    static func date(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    @Test func roundsHalfAwayFromZero_WhenConvertingMicrodollarsToCents() {
        #expect(Microdollars(500).times(1) == Cents(0))      // 0.05 ¢
        #expect(Microdollars(500).times(10) == Cents(1))     // 0.5 ¢ → 1 ¢
        #expect(Microdollars(500).times(9) == Cents(0))      // 0.45 ¢
        #expect(Microdollars(500).times(30) == Cents(2))     // 1.5 ¢ → 2 ¢
        #expect(Microdollars(500).times(1_000_000) == Cents(50_000))
        #expect(Cents.divideRoundingHalfAwayFromZero(-15, 10) == -2)
        #expect(Cents.divideRoundingHalfAwayFromZero(-14, 10) == -1)
        #expect(Cents(99_900).scaled(by: 1, over: 2) == Cents(49_950))
        #expect(Cents(1).scaled(by: 1, over: 2) == Cents(1))
        #expect(Cents(Int64.max / 2).scaled(by: 3, over: 3) == Cents(Int64.max / 2))
    }

    @Test func formatsAmountsWithTwoDecimals_AndPricesExactly() {
        #expect(Cents(100_950).description == "1009.50")
        #expect(Cents(-35_000).description == "-350.00")
        #expect(Cents(5).description == "0.05")
        #expect(Cents(0).description == "0.00")
        #expect(Microdollars(500).description == "0.0005")
        #expect(Microdollars(249_000_000).description == "249.00")
        #expect(Cents(100_950).dollars == Decimal(string: "1009.5")!)
    }

    @Test func previewChargesBaseFeeOnly_WhenUsageWithinIncludedTokens() {
        let period = BillingPeriod(containing: Self.date("2025-11-15T12:00:00Z"))
        let preview = InvoicePreview.compute(tenant: Self.tenant, currentPlan: .growth, history: [], tokens: 150_000, period: period)
        #expect(preview.lines.map(\.kind) == [.base])
        #expect(preview.total == Cents(24_900))
        #expect(preview.nextChargeDate == Self.date("2025-12-01T00:00:00Z"))
    }

    @Test func previewChargesOverageOnEveryPlan_IncludingTrial() {
        let period = BillingPeriod(containing: Self.date("2025-11-15T12:00:00Z"))
        // 171,234 tokens: 21,234 over × $0.0005 = $10.617 → $10.62.
        for (plan, fee) in [(TenantPlan.trial, Int64(0)), (.growth, 24_900), (.scale, 99_900)] {
            let preview = InvoicePreview.compute(tenant: Self.tenant, currentPlan: plan, history: [], tokens: 171_234, period: period)
            #expect(preview.lines.map(\.kind) == [.base, .overage])
            #expect(preview.lines[1].quantity == 21_234)
            #expect(preview.lines[1].amount == Cents(1_062))
            #expect(preview.total == Cents(fee + 1_062))
        }
    }

    @Test func previewProratesAnUpgrade_AsACreditForTheDaysOnTheCheaperPlan() {
        // November has 30 days; growth for the first 12, scale from the 13th.
        let period = BillingPeriod(containing: Self.date("2025-11-20T00:00:00Z"))
        let history = [PlanChange(plan: .growth, effectiveAt: Self.date("2025-01-01T00:00:00Z")),
                       PlanChange(plan: .scale, effectiveAt: Self.date("2025-11-13T00:00:00Z"))]
        let preview = InvoicePreview.compute(tenant: Self.tenant, currentPlan: .scale, history: history, tokens: 0, period: period)
        #expect(preview.lines.map(\.kind) == [.base, .proration])
        // (249 − 999) × 12/30 = −300.00
        #expect(preview.lines[1].amount == Cents(-30_000))
        #expect(preview.total == Cents(69_900))
        // Equal to each plan for the time it was in effect: 249 × 12/30 + 999 × 18/30.
        #expect(preview.total == Cents(24_900).scaled(by: 12, over: 30) + Cents(99_900).scaled(by: 18, over: 30))
    }

    @Test func previewProratesADowngrade_AndRoundsTheProrationOnce() {
        // Scale for 10 days and 7 hours of a 31-day December, then growth.
        let period = BillingPeriod(containing: Self.date("2025-12-20T00:00:00Z"))
        let change = Self.date("2025-12-11T07:00:00Z")
        let history = [PlanChange(plan: .scale, effectiveAt: Self.date("2025-06-01T00:00:00Z")),
                       PlanChange(plan: .growth, effectiveAt: change)]
        let preview = InvoicePreview.compute(tenant: Self.tenant, currentPlan: .growth, history: history, tokens: 150_001, period: period)
        #expect(preview.lines.map(\.kind) == [.base, .proration, .overage])
        // (999 − 249) × (10 d 7 h) / 31 d = 75000 ¢ × 247/744 = 24899.19… ¢ → 24899 ¢.
        #expect(preview.lines[1].amount == Cents(24_899))
        // 1 token over: 0.05 ¢ rounds to 0 ¢, and the line still shows the usage.
        #expect(preview.lines[2].amount == Cents(0))
        #expect(preview.total == Cents(24_900 + 24_899))
    }

    @Test func previewIgnoresChangesOutsideThePeriod_AndRepeatsOfTheSamePlan() {
        let period = BillingPeriod(containing: Self.date("2025-11-20T00:00:00Z"))
        let history = [PlanChange(plan: .trial, effectiveAt: Self.date("2025-09-01T00:00:00Z")),
                       PlanChange(plan: .scale, effectiveAt: Self.date("2025-10-15T00:00:00Z")),
                       PlanChange(plan: .scale, effectiveAt: Self.date("2025-11-05T00:00:00Z")),
                       PlanChange(plan: .growth, effectiveAt: Self.date("2025-12-02T00:00:00Z"))]
        let preview = InvoicePreview.compute(tenant: Self.tenant, currentPlan: .scale, history: history, tokens: 0, period: period)
        #expect(preview.lines.map(\.kind) == [.base])
        #expect(preview.total == Cents(99_900))
    }

    @Test func billingPeriodsAreUTCCalendarMonths() {
        let period = BillingPeriod(containing: Self.date("2024-02-29T23:59:59Z"))
        #expect(period.start == Self.date("2024-02-01T00:00:00Z"))
        #expect(period.end == Self.date("2024-03-01T00:00:00Z"))
        #expect(period.durationMillis == 29 * 86_400_000)
        #expect(period.label == "2024-02")
        #expect(BillingPeriod(containing: Self.date("2024-12-31T23:00:00Z")).next.label == "2025-01")
    }

    @Test func budgetThresholdsAreReachedOnlyOnceThePercentageIsMet() throws {
        let budget = try Budget(validating: 1_001, thresholds: [100, 80, 80], enforce: true)
        #expect(budget.thresholds == [80, 100])
        #expect(budget.reached(by: 800) == [])
        #expect(budget.reached(by: 801) == [80])
        #expect(budget.reached(by: 1_001) == [80, 100])
        #expect(throws: BillingError.self) { try Budget(validating: 0, thresholds: [80], enforce: true) }
        #expect(throws: BillingError.self) { try Budget(validating: 10, thresholds: [], enforce: true) }
        #expect(throws: BillingError.self) { try Budget(validating: 10, thresholds: [0], enforce: true) }
    }

    @Test func latencyPercentilesFallInsideTheRightBucket() {
        var histogram = LatencyHistogram()
        for latency in 1...100 { histogram.add(latencyMs: Double(latency)) }
        let p50 = histogram.percentile(0.5)!
        let p95 = histogram.percentile(0.95)!
        // Exact: 50 and 95; the estimate stays within the bucket (≤ 26% wide).
        #expect(abs(p50 - 50) / 50 < 0.26)
        #expect(abs(p95 - 95) / 95 < 0.26)
        #expect(LatencyHistogram.bucket(for: 0) == 0)
        #expect(LatencyHistogram.bucket(for: 0.999) == 0)
        #expect(LatencyHistogram.bucket(for: 1) == 1)
        #expect(LatencyHistogram.bucket(for: 5_000_000) == LatencyHistogram.bounds.count)
        #expect(LatencyHistogram().percentile(0.5) == nil)
    }

    @Test func eventIDsAreTimeOrderedAndWellFormed() {
        let early = UsageEventID.make(millis: 1_700_000_000_000, random: (0xFFFF, .max))
        let late = UsageEventID.make(millis: 1_700_000_000_001, random: (0, 0))
        #expect(early < late)
        #expect(early.count == 30 && early.hasPrefix("use_"))
        #expect(UsageEventID.make(millis: 0, random: (0, 0)) == "use_" + String(repeating: "0", count: 26))
        #expect(UsageEventID.make(millis: 1, random: (0, 0)) != UsageEventID.make(millis: 1, random: (0, 1)))
    }
}
