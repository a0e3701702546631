// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// A five-field cron expression (minute, hour, day of month, month, day of week), evaluated in UTC.
///
/// Each field takes `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n`, and comma-separated
/// lists of these; months and weekdays also take English names (`jan`, `mon`); day of week 0 and 7
/// are Sunday. As in Vixie cron, when both day fields are restricted a day matching either runs.
/// The macros `@yearly`, `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly` are accepted.
///
/// ```swift
/// let schedule = try CronSchedule("*/15 9-17 * * mon-fri")
/// let next = schedule.next(after: Date())
/// ```
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    public let expression: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public var description: String { expression }

    public init(_ expression: String) throws {
        let macros = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                      "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        let text = macros[trimmed.lowercased()] ?? trimmed
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError("cron expression \(SourceNames.quoted(expression)) must have 5 fields (minute hour day month weekday), found \(fields.count)")
        }
        self.expression = trimmed
        minutes = try Self.field(fields[0], name: "minute", range: 0...59, names: [:])
        hours = try Self.field(fields[1], name: "hour", range: 0...23, names: [:])
        days = try Self.field(fields[2], name: "day of month", range: 1...31, names: [:])
        let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        months = try Self.field(fields[3], name: "month", range: 1...12,
                                names: Dictionary(uniqueKeysWithValues: monthNames.enumerated().map { ($1, $0 + 1) }))
        let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        let weekdays = try Self.field(fields[4], name: "day of week", range: 0...7,
                                      names: Dictionary(uniqueKeysWithValues: dayNames.enumerated().map { ($1, $0) }))
        self.weekdays = Set(weekdays.map { $0 % 7 })
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
    }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String: Int]) throws -> Set<Int> {
        func value(_ token: Substring) throws -> Int {
            if let number = Int(token), range.contains(number) { return number }
            if let named = names[token.lowercased()] { return named }
            throw CronError("cron \(name) field: \(SourceNames.quoted(String(token))) is not in \(range.lowerBound)-\(range.upperBound)")
        }
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw CronError("cron \(name) field: empty list item in \(SourceNames.quoted(text))") }
            let pieces = part.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0, parsed <= range.upperBound + 1 else {
                    throw CronError("cron \(name) field: step \(SourceNames.quoted(String(pieces[1]))) must be a positive integer")
                }
                step = parsed
            }
            let base = pieces[0]
            let lower: Int
            var upper: Int
            if base == "*" {
                lower = range.lowerBound
                upper = range.upperBound
            } else if let dash = base.firstIndex(of: "-") {
                lower = try value(base[..<dash])
                upper = try value(base[base.index(after: dash)...])
                guard lower <= upper else { throw CronError("cron \(name) field: range \(base) runs backwards") }
            } else {
                lower = try value(base)
                upper = pieces.count == 2 ? range.upperBound : lower
            }
            if name == "day of week", base == "*" { upper = 6 }
            result.formUnion(stride(from: lower, through: upper, by: step))
        }
        return result
    }

    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Whether the schedule fires in the minute containing `date`.
    public func matches(_ date: Date) -> Bool {
        let parts = Self.calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
        return minutes.contains(parts.minute!) && hours.contains(parts.hour!) && months.contains(parts.month!)
            && dayMatches(day: parts.day!, weekday: parts.weekday! - 1)
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): days.contains(day) || weekdays.contains(weekday)
        case (true, false): days.contains(day)
        case (false, true): weekdays.contains(weekday)
        case (false, false): true
        }
    }

    /// The first whole minute strictly after `date` at which the schedule fires; `nil` when none
    /// comes within eight years (e.g. `0 0 30 2 *`).
    public func next(after date: Date) -> Date? {
        let calendar = Self.calendar
        var candidate = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = date.addingTimeInterval(8 * 366 * 86_400)
        while candidate < limit {
            let parts = calendar.dateComponents([.year, .minute, .hour, .day, .month, .weekday], from: candidate)
            if !months.contains(parts.month!) {
                candidate = calendar.date(from: DateComponents(year: parts.year!, month: parts.month!, day: 1))!
                candidate = calendar.date(byAdding: .month, value: 1, to: candidate)!
                continue
            }
            if !dayMatches(day: parts.day!, weekday: parts.weekday! - 1) {
                candidate = calendar.date(from: DateComponents(year: parts.year!, month: parts.month!, day: parts.day!))!
                candidate = calendar.date(byAdding: .day, value: 1, to: candidate)!
                continue
            }
            if !hours.contains(parts.hour!) {
                candidate = candidate.addingTimeInterval(Double(60 - parts.minute!) * 60)
                continue
            }
            if !minutes.contains(parts.minute!) {
                candidate = candidate.addingTimeInterval(60)
                continue
            }
            return candidate
        }
        return nil
    }
}

/// A malformed cron expression.
public struct CronError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
