// Atlas — Data
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The body formats a source accepts, chosen by `Content-Type` (or a file's extension).
public enum RecordFormat: String, Sendable, Hashable, CaseIterable {
    /// `application/json`: one JSON array of objects.
    case jsonArray = "json"
    /// `application/x-ndjson`: one JSON object per line.
    case ndjson
    /// `text/csv`: RFC 4180, a header row naming the columns.
    case csv

    /// The format for a media type (parameters ignored), or `nil`.
    public init?(mediaType: String) {
        let type = String(mediaType.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        switch type {
        case "application/json": self = .jsonArray
        case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines":
            self = .ndjson
        case "text/csv", "application/csv": self = .csv
        default: return nil
        }
    }

    /// The format for a file name's extension (`.json`, `.ndjson`/`.jsonl`, `.csv`), or `nil`.
    public init?(fileName: String) {
        switch (fileName as NSString).pathExtension.lowercased() {
        case "json": self = .jsonArray
        case "ndjson", "jsonl": self = .ndjson
        case "csv": self = .csv
        default: return nil
        }
    }

    func makeParser() -> any IncrementalRecordParser {
        switch self {
        case .jsonArray: JSONArrayRecordParser()
        case .ndjson: NDJSONRecordParser()
        case .csv: CSVRecordParser()
        }
    }
}

/// A body that is not in its declared format at all (as opposed to one bad record in it): the
/// whole request is refused with 400.
struct RecordFormatError: Error, Sendable {
    var line: Int
    var detail: String
}

/// A parser fed byte chunks in order, as they arrive; it keeps only the unfinished record between
/// chunks, never the whole body.
protocol IncrementalRecordParser {
    /// Parses the records completed by `chunk` and appends them to `records`.
    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, into records: inout [ParsedRecord]) throws(RecordFormatError)
    /// Ends the input: flushes a last record without a trailing newline, or reports a truncated body.
    mutating func finish(into records: inout [ParsedRecord]) throws(RecordFormatError)
}

extension IncrementalRecordParser {
    mutating func feed(_ chunk: [UInt8], into records: inout [ParsedRecord]) throws(RecordFormatError) {
        let result: Result<Void, RecordFormatError> = chunk.withUnsafeBufferPointer { buffer in
            do throws(RecordFormatError) {
                try feed(buffer, into: &records)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }
}

/// NDJSON (jsonlines.org): one object per line, blank lines skipped, a trailing `\r` dropped.
struct NDJSONRecordParser: IncrementalRecordParser {
    private var pending: [UInt8] = []
    private var line = 0

    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, into records: inout [ParsedRecord]) throws(RecordFormatError) {
        var start = 0
        var index = 0
        let newline = UInt8(ascii: "\n")
        while index < chunk.count {
            if chunk[index] == newline {
                if pending.isEmpty {
                    emit(UnsafeBufferPointer(rebasing: chunk[start..<index]), into: &records)
                } else {
                    pending.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start..<index]))
                    let whole = pending
                    pending.removeAll(keepingCapacity: true)
                    whole.withUnsafeBufferPointer { emit($0, into: &records) }
                }
                start = index + 1
            }
            index += 1
        }
        if start < chunk.count { pending.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start...])) }
    }

    mutating func finish(into records: inout [ParsedRecord]) throws(RecordFormatError) {
        guard !pending.isEmpty else { return }
        let whole = pending
        pending.removeAll()
        whole.withUnsafeBufferPointer { emit($0, into: &records) }
    }

    private mutating func emit(_ bytes: UnsafeBufferPointer<UInt8>, into records: inout [ParsedRecord]) {
        line += 1
        var end = bytes.count
        if end > 0, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let content = UnsafeBufferPointer(rebasing: bytes[0..<end])
        guard content.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
        do {
            records.append(ParsedRecord(line: line, fields: try JSONRecordReader.readObject(content)))
        } catch {
            records.append(ParsedRecord(line: line, error: error.detail))
        }
    }
}

/// A JSON array of objects, split into its elements as the bytes arrive; each element is then read
/// on its own, so one bad element is one rejected record. A body that is not an array is a
/// ``RecordFormatError``. `line` is the line on which the element starts.
struct JSONArrayRecordParser: IncrementalRecordParser {
    private enum State {
        case start, firstElementOrEnd, elementOrEnd, element, commaOrEnd, done
    }

    private var state = State.start
    private var element: [UInt8] = []
    private var elementLine = 0
    private var line = 1
    private var depth = 0
    private var inString = false
    private var escaped = false

    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, into records: inout [ParsedRecord]) throws(RecordFormatError) {
        for byte in chunk {
            if byte == UInt8(ascii: "\n") { line += 1 }
            switch state {
            case .start:
                if isSpace(byte) { continue }
                if byte == 0xEF || byte == 0xBB || byte == 0xBF { continue }
                guard byte == UInt8(ascii: "[") else {
                    throw RecordFormatError(line: line, detail: "an application/json body must be a JSON array of records")
                }
                state = .firstElementOrEnd
            case .firstElementOrEnd, .elementOrEnd:
                if isSpace(byte) { continue }
                if byte == UInt8(ascii: "]") {
                    guard state == .firstElementOrEnd else { throw RecordFormatError(line: line, detail: "invalid JSON: a value is missing before ']'") }
                    state = .done
                    continue
                }
                if byte == UInt8(ascii: ",") { throw RecordFormatError(line: line, detail: "invalid JSON: a value is missing before ','") }
                state = .element
                elementLine = line
                element.removeAll(keepingCapacity: true)
                try take(byte, into: &records)
            case .element:
                try take(byte, into: &records)
            case .commaOrEnd:
                if isSpace(byte) { continue }
                if byte == UInt8(ascii: ",") { state = .elementOrEnd } else if byte == UInt8(ascii: "]") { state = .done } else {
                    throw RecordFormatError(line: line, detail: "invalid JSON: expected ',' or ']' between records")
                }
            case .done:
                guard isSpace(byte) else { throw RecordFormatError(line: line, detail: "unexpected text after the JSON array") }
            }
        }
    }

    mutating func finish(into records: inout [ParsedRecord]) throws(RecordFormatError) {
        switch state {
        case .done: return
        case .start: throw RecordFormatError(line: line, detail: "the body is empty; a JSON array of records is required")
        default: throw RecordFormatError(line: line, detail: "invalid JSON: the array is not closed (truncated body?)")
        }
    }

    private mutating func take(_ byte: UInt8, into records: inout [ParsedRecord]) throws(RecordFormatError) {
        if inString {
            element.append(byte)
            if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            return
        }
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            guard depth <= 64 else { throw RecordFormatError(line: line, detail: "invalid JSON: nested deeper than 64 levels") }
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            if depth == 0 {
                guard byte == UInt8(ascii: "]") else { throw RecordFormatError(line: line, detail: "invalid JSON: unbalanced '}'") }
                completeElement(into: &records)
                state = .done
                return
            }
            depth -= 1
        case UInt8(ascii: ","):
            if depth == 0 {
                completeElement(into: &records)
                state = .elementOrEnd
                return
            }
        default:
            break
        }
        element.append(byte)
        if depth == 0, byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
            completeElement(into: &records)
            state = .commaOrEnd
        }
    }

    private mutating func completeElement(into records: inout [ParsedRecord]) {
        do {
            records.append(ParsedRecord(line: elementLine, fields: try JSONRecordReader.readObject(element)))
        } catch {
            records.append(ParsedRecord(line: elementLine, error: error.detail))
        }
        element.removeAll(keepingCapacity: true)
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
}

/// RFC 4180 CSV with a header row: `,` separated, `"` quoted (doubled inside), CRLF or LF, line
/// breaks inside quotes. Cells are untyped text (``FieldValue/cell``); an empty unquoted cell is
/// NULL. `line` is the physical line a record starts on (the header is line 1).
struct CSVRecordParser: IncrementalRecordParser {
    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }

    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fieldQuoted = false
    private var cells: [(text: String, quoted: Bool)] = []
    private var header: [String]?
    private var line = 1
    private var recordLine = 1
    private var bad: String?
    private var previousWasCR = false

    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, into records: inout [ParsedRecord]) throws(RecordFormatError) {
        for byte in chunk {
            if previousWasCR {
                previousWasCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch state {
            case .quoted:
                if byte == UInt8(ascii: "\"") { state = .quoteInQuoted } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                continue
            case .quoteInQuoted:
                if byte == UInt8(ascii: "\"") {
                    field.append(byte)
                    state = .quoted
                    continue
                }
                state = .unquoted
                if byte != UInt8(ascii: ","), byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") {
                    bad = bad ?? "a quoted field must be followed by ',' or the end of the line"
                }
            case .fieldStart:
                if byte == UInt8(ascii: "\"") {
                    state = .quoted
                    fieldQuoted = true
                    continue
                }
                state = .unquoted
            case .unquoted:
                break
            }
            switch byte {
            case UInt8(ascii: ","):
                endField()
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                previousWasCR = byte == UInt8(ascii: "\r")
                endField()
                try endRecord(into: &records)
                line += 1
                recordLine = line
            default:
                if byte == UInt8(ascii: "\"") { bad = bad ?? "a '\"' inside an unquoted field" }
                field.append(byte)
            }
        }
    }

    mutating func finish(into records: inout [ParsedRecord]) throws(RecordFormatError) {
        if state == .quoted {
            records.append(ParsedRecord(line: recordLine, error: "a quoted field is not closed before the end of the body"))
            return
        }
        if state != .fieldStart || !cells.isEmpty {
            endField()
            try endRecord(into: &records)
        }
        if header == nil { throw RecordFormatError(line: 1, detail: "the CSV body is empty; a header row naming the columns is required") }
    }

    private mutating func endField() {
        let text = String(decoding: field, as: UTF8.self)
        if String(validating: field, as: UTF8.self) == nil { bad = bad ?? "a field is not valid UTF-8" }
        cells.append((text, fieldQuoted))
        field.removeAll(keepingCapacity: true)
        fieldQuoted = false
        state = .fieldStart
    }

    private mutating func endRecord(into records: inout [ParsedRecord]) throws(RecordFormatError) {
        defer {
            cells.removeAll(keepingCapacity: true)
            bad = nil
        }
        // A blank line: one empty unquoted cell.
        if cells.count == 1, cells[0].text.isEmpty, !cells[0].quoted { return }
        guard let header else {
            var names: [String] = []
            for (index, cell) in cells.enumerated() {
                var name = cell.text.trimmingCharacters(in: .whitespaces).lowercased()
                if index == 0, name.hasPrefix("\u{FEFF}") { name.removeFirst() }
                guard !name.isEmpty else { throw RecordFormatError(line: recordLine, detail: "header column \(index + 1) has no name") }
                guard !names.contains(name) else { throw RecordFormatError(line: recordLine, detail: "header names column \(name) twice") }
                names.append(name)
            }
            if let bad { throw RecordFormatError(line: recordLine, detail: "header row: \(bad)") }
            self.header = names
            return
        }
        if let bad {
            records.append(ParsedRecord(line: recordLine, error: bad))
            return
        }
        guard cells.count == header.count else {
            records.append(ParsedRecord(line: recordLine, error: "expected \(header.count) fields as in the header, found \(cells.count)"))
            return
        }
        var fields: [(name: String, value: FieldValue)] = []
        fields.reserveCapacity(cells.count)
        for (name, cell) in zip(header, cells) {
            fields.append((name, cell.text.isEmpty && !cell.quoted ? .null : .cell(cell.text)))
        }
        records.append(ParsedRecord(line: recordLine, fields: fields))
    }
}
