// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import DataPlatform
import Foundation
import Storage
import Testing

/// The incremental parsers give the same records however the body is cut into chunks.
@Suite struct RecordParserTests {
    func parse(_ format: RecordFormat, _ text: String, cuts: [Int] = []) throws -> [ParsedRecord] {
        var parser = format.makeParser()
        var records: [ParsedRecord] = []
        let bytes = Array(text.utf8)
        var start = 0
        for cut in cuts.sorted() + [bytes.count] where cut >= start {
            try parser.feed(Array(bytes[start..<cut]), into: &records)
            start = cut
        }
        try parser.finish(into: &records)
        return records
    }

    func describe(_ records: [ParsedRecord]) -> [String] {
        records.map { record in
            if let error = record.error { return "\(record.line)!\(error)" }
            return "\(record.line):" + record.fields.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
        }
    }

    /// Every single cut point and a few random multi-cuts give the unchunked result.
    func expectChunkInvariant(_ format: RecordFormat, _ text: String) throws -> [ParsedRecord] {
        let whole = try parse(format, text)
        let count = text.utf8.count
        for cut in 0...count {
            #expect(describe(try parse(format, text, cuts: [cut])) == describe(whole), "cut at \(cut)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let cuts = (0..<5).map { _ in Int.random(in: 0...count, using: &generator) }
            #expect(describe(try parse(format, text, cuts: cuts)) == describe(whole))
        }
        return whole
    }

    @Test func ndjsonRecordsAndLineNumbers() throws {
        let text = "{\"a\":1,\"b\":\"x\\\"y\"}\r\n\n{\"a\": 2.5, \"c\": [1, {\"d\": null}], \"e\": true}\nnot json\n{\"a\":9007199254740993}"
        let records = try expectChunkInvariant(.ndjson, text)
        #expect(records.count == 4)
        #expect(records[0].line == 1 && records[0].fields[1].value == .string("x\"y"))
        #expect(records[1].line == 3 && records[1].fields[0].value == .float(2.5))
        #expect(records[1].fields[1].value == .json("[1, {\"d\": null}]"))
        #expect(records[1].fields[2].value == .bool(true))
        #expect(records[2].line == 4 && records[2].error != nil)
        // Exact beyond 2^53, unlike a Double.
        #expect(records[3].fields[0].value == .int(9_007_199_254_740_993))
    }

    @Test func jsonArrayElementsCarryTheirStartLine() throws {
        let text = "[\n {\"a\": \"],[\"},\n {\"a\": 2},\n 3,\n {\"a\": {\"b\": [\"}\"]}}\n]\n"
        let records = try expectChunkInvariant(.jsonArray, text)
        #expect(describe(records).count == 4)
        #expect(records[0].line == 2 && records[0].fields[0].value == .string("],["))
        #expect(records[1].line == 3)
        #expect(records[2].line == 4 && records[2].error == "a record must be a JSON object")
        #expect(records[3].line == 5 && records[3].fields[0].value == .json("{\"b\": [\"}\"]}"))
        #expect(try parse(.jsonArray, "[]").isEmpty)
    }

    @Test func jsonArrayThatIsNotAnArrayIsAFormatError() throws {
        for bad in ["{\"a\":1}", "", "[{\"a\":1}", "[{\"a\":1}] x", "[{\"a\":1},,{}]", "[{\"a\":1} {\"a\":2}]"] {
            #expect(throws: RecordFormatError.self, "\(bad)") { _ = try parse(.jsonArray, bad) }
        }
    }

    @Test func csvQuotingNewlinesAndLineNumbers() throws {
        let text = "Article_ID,title,body\r\n1,Hello,\"multi\nline, with \"\"quotes\"\"\"\r\n2,,\"\"\n\n3,bad \"quote,x\n4,only two\n5,last,row"
        let records = try expectChunkInvariant(.csv, text)
        #expect(records.count == 5)
        #expect(records[0].line == 2)
        #expect(records[0].fields.map(\.name) == ["article_id", "title", "body"])
        #expect(records[0].fields[2].value == .cell("multi\nline, with \"quotes\""))
        #expect(records[1].line == 4 && records[1].fields[1].value == .null && records[1].fields[2].value == .cell(""))
        #expect(records[2].line == 6 && records[2].error != nil)
        #expect(records[3].line == 7 && records[3].error == "expected 3 fields as in the header, found 2")
        #expect(records[4].line == 8 && records[4].fields[2].value == .cell("row"))
        #expect(throws: RecordFormatError.self) { _ = try parse(.csv, "") }
    }

    @Test func timestampsNormaliseToUTC() {
        #expect(Timestamps.parse("2024-05-01T00:00:00Z").map(Timestamps.format) == "2024-05-01T00:00:00Z")
        #expect(Timestamps.parse("2024-05-01").map(Timestamps.format) == "2024-05-01T00:00:00Z")
        #expect(Timestamps.parse("2024-05-01 02:30:00+02:00").map(Timestamps.format) == "2024-05-01T00:30:00Z")
        #expect(Timestamps.parse("2024-02-29T23:59:59.5-0100").map(Timestamps.format) == "2024-03-01T00:59:59.500Z")
        #expect(Timestamps.parse("1969-12-31T23:59:59.999Z") == -1)
        #expect(Timestamps.format(-1) == "1969-12-31T23:59:59.999Z")
        for bad in ["2023-02-29", "2024-13-01", "2024-05-01T25:00", "yesterday", "2024-05-01T00:00:00Zjunk", ""] {
            #expect(Timestamps.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func fieldsConvertByColumnType() throws {
        #expect(try RecordValidator.convert(.cell(" 42 "), to: .int).get() == .integer(42))
        #expect(throws: RecordValidator.Reason.self) { try RecordValidator.convert(.cell("4x"), to: .int).get() }
        #expect(throws: RecordValidator.Reason.self) { try RecordValidator.convert(.string("42"), to: .int).get() }
        #expect(try RecordValidator.convert(.int(3), to: .float).get() == .double(3))
        #expect(try RecordValidator.convert(.cell("yes"), to: .bool).get() == .bool(true))
        #expect(try RecordValidator.convert(.cell("{\"a\":1}"), to: .json).get() == .text("{\"a\":1}"))
        #expect(throws: RecordValidator.Reason.self) { try RecordValidator.convert(.cell("{oops"), to: .json).get() }
        #expect(try RecordValidator.convert(.int(1_714_521_600_000), to: .timestamp).get() == .text("2024-05-01T00:00:00Z"))
        #expect(throws: RecordValidator.Reason.self) { try RecordValidator.convert(.bool(true), to: .string).get() }
    }
}

@Suite struct CronScheduleTests {
    func date(_ text: String) -> Date { Date(timeIntervalSince1970: Double(Timestamps.parse(text)!) / 1000) }

    @Test func nextFireTimes() throws {
        let start = date("2026-11-26T22:49:30Z")  // a Thursday
        #expect(try CronSchedule("0 * * * *").next(after: start) == date("2026-11-26T23:00:00Z"))
        #expect(try CronSchedule("*/15 * * * *").next(after: start) == date("2026-11-26T23:00:00Z"))
        #expect(try CronSchedule("*/15 * * * *").next(after: date("2026-11-26T23:00:00Z")) == date("2026-11-26T23:15:00Z"))
        #expect(try CronSchedule("* * * * *").next(after: start) == date("2026-11-26T22:50:00Z"))
        #expect(try CronSchedule("30 9-17/4 * * mon-fri").next(after: start) == date("2026-11-27T09:30:00Z"))
        #expect(try CronSchedule("0 0 1,15 * *").next(after: start) == date("2026-12-01T00:00:00Z"))
        #expect(try CronSchedule("0 12 * feb sun").next(after: start) == date("2027-02-07T12:00:00Z"))
        #expect(try CronSchedule("0 0 29 2 *").next(after: start) == date("2028-02-29T00:00:00Z"))
        // Both day fields restricted: either matches (Vixie cron).
        #expect(try CronSchedule("0 0 13 * 5").next(after: start) == date("2026-11-27T00:00:00Z"))
        #expect(try CronSchedule("0 6 * * 7").next(after: start) == date("2026-11-29T06:00:00Z"))
        #expect(try CronSchedule("@daily").next(after: start) == date("2026-11-27T00:00:00Z"))
        #expect(try CronSchedule("0 0 30 2 *").next(after: start) == nil)
        #expect(try CronSchedule("5 4 * * *").matches(date("2026-01-01T04:05:59Z")))
    }

    @Test func malformedExpressionsAreRefused() {
        for bad in ["* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *", "* * * * 8"] {
            #expect(throws: CronError.self, "\(bad)") { _ = try CronSchedule(bad) }
        }
    }
}
