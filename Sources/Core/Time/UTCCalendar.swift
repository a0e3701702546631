// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// Proleptic Gregorian calendar arithmetic in UTC on epoch seconds, without `Calendar`.
///
/// Billing periods and response timestamps are computed on every request; Foundation's calendar
/// costs microseconds per call there, these functions tens of nanoseconds. The day count uses the
/// civil-from-days construction over 400-year eras (146,097 days each), exact for every date.
public enum UTCCalendar {
    public struct Civil: Sendable, Hashable {
        public var year: Int
        public var month: Int
        public var day: Int

        public init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }
    }

    /// Days since 1970-01-01 of a civil date (month 1–12, day 1–31).
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    public static func civil(days: Int) -> Civil {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return Civil(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day)
    }

    /// Whole seconds since the epoch, rounded toward the past (so 1969-12-31T23:59:58.5 is …:58).
    public static func epochSeconds(_ date: Date) -> Int {
        Int(date.timeIntervalSince1970.rounded(.down))
    }

    /// The first instant (epoch seconds) of the month containing `seconds`, and of the month
    /// `offset` months later.
    public static func monthStart(containing seconds: Int, offset: Int = 0) -> Int {
        let days = floorDivide(seconds, 86_400)
        let date = civil(days: days)
        let months = date.year * 12 + (date.month - 1) + offset
        return UTCCalendar.days(year: floorDivide(months, 12), month: months - floorDivide(months, 12) * 12 + 1, day: 1) * 86_400
    }

    /// `2026-11-27T01:40:44Z`: what `JSONEncoder`'s `.iso8601` strategy writes (whole seconds, UTC),
    /// appended as ASCII bytes. Years outside 1583…9999 use Foundation's formatter, which counts
    /// earlier dates in the Julian calendar.
    public static func appendISO8601(_ date: Date, to bytes: inout [UInt8]) {
        let seconds = epochSeconds(date)
        let days = floorDivide(seconds, 86_400)
        let civil = civil(days: days)
        guard (1583...9999).contains(civil.year) else {
            bytes.append(contentsOf: Array(date.formatted(.iso8601).utf8))
            return
        }
        let time = seconds - days * 86_400
        append(civil.year, digits: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(civil.month, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        append(civil.day, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        append(time / 3600, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(time / 60 % 60, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        append(time % 60, digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// The ISO 8601 text of ``appendISO8601(_:to:)``.
    public static func iso8601(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        appendISO8601(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func append(_ value: Int, digits: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<digits { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    private static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
