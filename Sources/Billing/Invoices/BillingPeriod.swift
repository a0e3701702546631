// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation

/// A billing period: one calendar month in UTC, `[start, end)`. Every tenant's period is the
/// calendar month, whatever day it subscribed, so periods, usage totals and budget alerts line up
/// across tenants and need no per-tenant anchor; the next charge date is the period's end.
struct BillingPeriod: Hashable, Sendable, Comparable {
    /// The first instant of the month (inclusive).
    let start: Date
    /// The first instant of the next month (exclusive).
    let end: Date

    /// The period containing `date`.
    init(containing date: Date) {
        let seconds = UTCCalendar.epochSeconds(date)
        start = Date(timeIntervalSince1970: Double(UTCCalendar.monthStart(containing: seconds)))
        end = Date(timeIntervalSince1970: Double(UTCCalendar.monthStart(containing: seconds, offset: 1)))
    }

    /// The period starting at `startMillis` (as stored in `period_start` columns).
    init(startMillis: Int64) {
        self.init(containing: Date(timeIntervalSince1970: Double(startMillis) / 1000))
    }

    static func < (lhs: BillingPeriod, rhs: BillingPeriod) -> Bool { lhs.start < rhs.start }

    /// The start as epoch milliseconds, the key of per-period rows.
    var startMillis: Int64 { Self.millis(start) }
    var endMillis: Int64 { Self.millis(end) }
    var durationMillis: Int64 { endMillis - startMillis }

    /// The following period.
    var next: BillingPeriod { BillingPeriod(containing: end) }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    /// `YYYY-MM`, for descriptions and alert payloads.
    var label: String {
        let civil = UTCCalendar.civil(days: UTCCalendar.epochSeconds(start) / 86_400)
        return String(format: "%04d-%02d", civil.year, civil.month)
    }
}
