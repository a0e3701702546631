// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

public import Logging
internal import Foundation

/// A swift-log handler that writes one JSON object per line to standard output:
/// `{"ts":"2026-11-26T19:51:05.123Z","level":"info","logger":"atlas","message":"…", …metadata}`.
///
/// Bootstrap it once, in `main`:
/// ```swift
/// LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .info) }
/// ```
/// Metadata keys are written as given (dotted keys such as `request.id` stay flat), so log shippers
/// such as Loki or Vector can index them without a parser of their own.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: LineWriter

    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.init(label: label, level: level, metadataProvider: metadataProvider, output: .standardOutput)
    }

    init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider?, output: LineWriter) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }

        var line = "{\"ts\":\""
        line += Self.timestamp()
        line += "\",\"level\":\"\(event.level.rawValue)\",\"logger\":"
        JSONText.appendString(label, to: &line)
        line += ",\"message\":"
        JSONText.appendString(event.message.description, to: &line)
        for key in merged.keys.sorted() where !Self.reserved.contains(key) {
            line += ","
            JSONText.appendString(key, to: &line)
            line += ":"
            if Self.isSecret(key) {
                line += "\"[redacted]\""
            } else {
                Self.append(merged[key]!, to: &line)
            }
        }
        if event.level >= .error {
            line += ",\"source\":"
            JSONText.appendString("\(event.file):\(event.line)", to: &line)
        }
        line += "}\n"
        output.write(line)
    }

    private static let reserved: Set<String> = ["ts", "level", "logger", "message"]

    /// Metadata keys whose values are never written: credentials and signatures, however a
    /// caller spells the key (`Authorization`, `stripe_signature`, `db.password`, `api-key`…).
    static func isSecret(_ key: String) -> Bool {
        let folded = String(key.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) })
        let markers = ["authorization", "password", "passwd", "secret", "apikey", "cookie", "signature",
                       "credential", "privatekey"]
        // `…token` but not `tokens`, which AI usage logs as a count.
        return folded.hasSuffix("token") || markers.contains { folded.contains($0) }
    }

    private static func append(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let text): JSONText.appendString(text, to: &line)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as any BinaryInteger: line += "\(number)"
            case let number as Double where number.isFinite: line += "\(number)"
            case let flag as Bool: line += flag ? "true" : "false"
            default: JSONText.appendString(convertible.description, to: &line)
            }
        case .array(let values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                append(element, to: &line)
            }
            line += "]"
        case .dictionary(let values):
            line += "{"
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { line += "," }
                JSONText.appendString(key, to: &line)
                line += ":"
                append(values[key]!, to: &line)
            }
            line += "}"
        }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = time_t(now.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(now.tv_nsec) / 1_000_000
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}

/// JSON string escaping (RFC 8259 §7) without going through `JSONSerialization`.
public enum JSONText {
    public static func appendString(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

/// Whole lines written to a file descriptor with one `write` each, so concurrent writers never
/// interleave inside a line (POSIX guarantees no interleaving for pipe writes up to PIPE_BUF, and
/// regular files opened with O_APPEND append atomically).
struct LineWriter: Sendable {
    let fd: Int32
    static let standardOutput = LineWriter(fd: 1)

    func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
