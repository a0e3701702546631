// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

public import Foundation
import Core
import Storage

/// Checks parsed records against a source's schema and converts them into the raw table's values.
struct RecordValidator: Sendable {
    let source: SourceDefinition
    let tenant: String
    /// Declared columns stored in their own raw-table column (`tenant` maps onto the tenant column).
    let stored: [SourceColumn]
    private let positions: [String: Int]

    init(source: SourceDefinition, tenant: String) {
        self.source = source
        self.tenant = tenant
        stored = source.columns.filter { $0.name != "tenant" }
        var positions: [String: Int] = [:]
        for (index, column) in stored.enumerated() { positions[column.name] = index }
        self.positions = positions
    }

    /// The values for `stored`'s columns in order, or the reason the record is rejected.
    func validate(_ record: ParsedRecord) -> Result<[SQLValue], RejectedRecord> {
        if let error = record.error { return .failure(RejectedRecord(line: record.line, detail: error)) }
        var values = [SQLValue](repeating: .null, count: stored.count)
        var present = [Bool](repeating: false, count: stored.count)
        for (rawName, value) in record.fields {
            let name = rawName.lowercased()
            if name == "tenant" {
                switch value {
                case .null: continue
                case .string(let text), .cell(let text):
                    if text == tenant { continue }
                    return .failure(RejectedRecord(line: record.line, detail: "tenant: a record may only name the request's tenant (\(tenant))"))
                default:
                    return .failure(RejectedRecord(line: record.line, detail: "tenant: expected a string, got \(value.kind)"))
                }
            }
            guard let index = positions[name] else {
                if source.unknownColumns == .ignore { continue }
                return .failure(RejectedRecord(line: record.line, detail: "\(SourceNames.quoted(rawName)): not a column of source \(source.name)"))
            }
            if present[index] {
                return .failure(RejectedRecord(line: record.line, detail: "\(name): given twice"))
            }
            present[index] = true
            switch Self.convert(value, to: stored[index].type) {
            case .success(let converted): values[index] = converted
            case .failure(let reason): return .failure(RejectedRecord(line: record.line, detail: "\(name): \(reason.text)"))
            }
        }
        for (index, column) in stored.enumerated() where column.required && values[index] == .null {
            return .failure(RejectedRecord(line: record.line, detail: "\(column.name): required, but missing or null"))
        }
        return .success(values)
    }

    struct Reason: Error { var text: String }

    /// Converts one field to a column type: JSON values must already have the type (an integral
    /// number is accepted for `float`, any value for `json`); CSV cells are parsed from text.
    static func convert(_ value: FieldValue, to type: ColumnType) -> Result<SQLValue, Reason> {
        switch (value, type) {
        case (.null, _): return .success(.null)
        case (.string(let text), .string), (.cell(let text), .string): return .success(.text(text))
        case (.int(let number), .int): return .success(.integer(number))
        case (.float(let number), .int):
            guard number.rounded() == number, abs(number) < 9.2e18 else { return .failure(Reason(text: "expected an integer, got \(number)")) }
            return .success(.integer(Int64(number)))
        case (.cell(let text), .int):
            guard let number = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                return .failure(Reason(text: "expected an integer, got \(SourceNames.quoted(text))"))
            }
            return .success(.integer(number))
        case (.int(let number), .float): return .success(.double(Double(number)))
        case (.float(let number), .float): return .success(.double(number))
        case (.cell(let text), .float):
            guard let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite else {
                return .failure(Reason(text: "expected a number, got \(SourceNames.quoted(text))"))
            }
            return .success(.double(number))
        case (.bool(let flag), .bool): return .success(.bool(flag))
        case (.cell(let text), .bool):
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "t", "1", "yes", "y": return .success(.bool(true))
            case "false", "f", "0", "no", "n": return .success(.bool(false))
            default: return .failure(Reason(text: "expected a boolean (true/false), got \(SourceNames.quoted(text))"))
            }
        case (.string(let text), .timestamp), (.cell(let text), .timestamp):
            guard let millis = Timestamps.parse(text) else {
                return .failure(Reason(text: "expected an ISO-8601 timestamp (e.g. 2024-05-01T00:00:00Z), got \(SourceNames.quoted(text))"))
            }
            return .success(.text(Timestamps.format(millis)))
        case (.int(let millis), .timestamp):
            // Atlas's own tables keep times as BIGINT milliseconds (Storage README), so pulls from them work.
            return .success(.text(Timestamps.format(millis)))
        case (.json(let text), .json):
            guard (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil else {
                return .failure(Reason(text: "invalid JSON"))
            }
            return .success(.text(text))
        case (.cell(let text), .json):
            guard (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil else {
                return .failure(Reason(text: "expected JSON text, got \(SourceNames.quoted(text))"))
            }
            return .success(.text(text))
        case (.string(let text), .json): return .success(.text(JSONText.string(text)))
        case (.int(let number), .json): return .success(.text(String(number)))
        case (.float(let number), .json): return .success(.text(String(number)))
        case (.bool(let flag), .json): return .success(.text(flag ? "true" : "false"))
        default:
            return .failure(Reason(text: "expected \(type.article), got \(value.kind)"))
        }
    }
}

/// A record refused by validation: its line in the body and why.
public struct RejectedRecord: Error, Sendable, Hashable, Codable {
    public var line: Int
    public var detail: String
}

extension ColumnType {
    var article: String {
        switch self {
        case .string: "a string"
        case .int: "an integer"
        case .float: "a number"
        case .bool: "a boolean"
        case .timestamp: "an ISO-8601 timestamp string"
        case .json: "JSON"
        }
    }
}

enum JSONText {
    /// A JSON string literal for `text`.
    static func string(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// ISO-8601 timestamps as raw tables store them: UTC text, `2024-05-01T00:00:00Z`, with `.sss`
/// only when the milliseconds are not zero.
public enum Timestamps {
    /// Milliseconds since the Unix epoch for `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff…]]` (or a space
    /// for `T`) with `Z`, `±HH:MM`, `±HHMM` or no zone (UTC); `nil` otherwise.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<count {
                let byte = bytes[index + offset]
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), take(UInt8(ascii: "-")), let month = digits(2), take(UInt8(ascii: "-")), let day = digits(2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0, millis = 0, offsetMinutes = 0
        if index < bytes.count {
            guard take(UInt8(ascii: "T")) || take(UInt8(ascii: "t")) || take(UInt8(ascii: " ")) else { return nil }
            guard let h = digits(2), take(UInt8(ascii: ":")), let m = digits(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if take(UInt8(ascii: ":")) {
                guard let s = digits(2), s < 61 else { return nil }
                second = min(s, 59)
                if take(UInt8(ascii: ".")) || take(UInt8(ascii: ",")) {
                    var scale = 100
                    var count = 0
                    while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                        millis += Int(bytes[index] - UInt8(ascii: "0")) * scale
                        scale /= 10
                        index += 1
                        count += 1
                    }
                    guard count > 0 else { return nil }
                }
            }
            if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) {
            } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
                index += 1
                guard let oh = digits(2) else { return nil }
                _ = take(UInt8(ascii: ":"))
                guard let om = digits(2), oh < 24, om < 60 else { return nil }
                offsetMinutes = sign * (oh * 60 + om)
            }
            guard index == bytes.count else { return nil }
        }
        let days = UTCCalendar.days(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }

    /// The stored text for `millis` since the epoch.
    public static func format(_ millis: Int64) -> String {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let fraction = Int(millis - seconds * 1000)
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = Int(seconds - days * 86_400)
        let civil = UTCCalendar.civil(days: Int(days))
        let (year, month, day) = (civil.year, civil.month, civil.day)
        days = 0
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(inDay / 3600, 2)):\(pad(inDay / 60 % 60, 2)):\(pad(inDay % 60, 2))"
        if fraction != 0 { text += "." + pad(fraction, 3) }
        return text + "Z"
    }

    /// The stored text for a date.
    public static func format(_ date: Date) -> String { format(Int64((date.timeIntervalSince1970 * 1000).rounded(.down))) }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
