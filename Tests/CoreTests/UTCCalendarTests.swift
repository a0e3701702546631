// Atlas — Core
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import Testing

@Suite("UTC calendar")
struct UTCCalendarTests {
    static let gregorian: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Every day from 1600 to 2500 round-trips and agrees with Foundation's calendar.
    @Test func daysAndCivilDatesAgreeWithFoundation() {
        let first = UTCCalendar.days(year: 1600, month: 1, day: 1)
        let last = UTCCalendar.days(year: 2500, month: 12, day: 31)
        var mismatches = 0
        for day in stride(from: first, through: last, by: 1) {
            let civil = UTCCalendar.civil(days: day)
            if UTCCalendar.days(year: civil.year, month: civil.month, day: civil.day) != day { mismatches += 1 }
            if day % 97 == 0 {
                let parts = Self.gregorian.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(day) * 86_400))
                if parts.year != civil.year || parts.month != civil.month || parts.day != civil.day { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
        #expect(UTCCalendar.days(year: 1970, month: 1, day: 1) == 0)
        #expect(UTCCalendar.civil(days: -1) == UTCCalendar.Civil(year: 1969, month: 12, day: 31))
        #expect(UTCCalendar.civil(days: UTCCalendar.days(year: 2024, month: 2, day: 29)) == UTCCalendar.Civil(year: 2024, month: 2, day: 29))
    }

    @Test(arguments: [0, 1_795_742_844, -1, 951_868_800, 1_709_251_199, 4_102_444_799, -2_208_988_800])
    func monthStartsAgreeWithFoundation(seconds: Int) {
        let date = Date(timeIntervalSince1970: Double(seconds))
        let parts = Self.gregorian.dateComponents([.year, .month], from: date)
        let start = Self.gregorian.date(from: DateComponents(year: parts.year, month: parts.month, day: 1))!
        let next = Self.gregorian.date(byAdding: .month, value: 1, to: start)!
        let previous = Self.gregorian.date(byAdding: .month, value: -13, to: start)!
        #expect(UTCCalendar.monthStart(containing: seconds) == Int(start.timeIntervalSince1970))
        #expect(UTCCalendar.monthStart(containing: seconds, offset: 1) == Int(next.timeIntervalSince1970))
        #expect(UTCCalendar.monthStart(containing: seconds, offset: -13) == Int(previous.timeIntervalSince1970))
    }

    @Test func iso8601MatchesFoundationsFormatter() {
        let formatter = ISO8601DateFormatter()
        for seconds in [0, 1_795_742_844.75, -1.5, 253_402_300_799, 951_782_400] as [Double] {
            let date = Date(timeIntervalSince1970: seconds)
            let whole = Date(timeIntervalSince1970: seconds.rounded(.down))
            #expect(UTCCalendar.iso8601(date) == formatter.string(from: whole), "\(seconds)")
        }
    }

    @Test func snakeCaseMatchesTheTable() {
        let table: [(String, String)] = [
            ("createdAt", "created_at"), ("userID", "user_id"), ("httpURLValue", "http_url_value"), ("ID", "i_d"),
            ("URL", "u_rl"), ("v2Name", "v2_name"), ("already_snake", "already_snake"), ("aBCd", "a_b_cd"),
            ("myHTTPServer2Go", "my_http_server2_go"), ("ÉtéVal", "été_val"), ("", ""), ("a", "a"),
        ]
        for (key, expected) in table { #expect(snakeCased(key) == expected, "\(key)") }
    }
}
