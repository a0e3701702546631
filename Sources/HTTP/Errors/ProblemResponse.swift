// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
public import HTTPTypes

extension Response {
    /// An RFC 9457 `application/problem+json` response:
    /// `{type, title, status, detail, code, request_id}`.
    ///
    /// ```swift
    /// return .problem(status: .conflict, code: "tenant_exists", detail: "tenant acme exists",
    ///                 requestID: context.requestID)
    /// ```
    public static func problem(status: HTTPResponse.Status, code: String, detail: String, requestID: String?,
                               headers: [(name: String, value: String)] = []) -> Response {
        var json = JSONText()
        json.raw("{\"type\":")
        json.string("urn:atlas:problem:\(code)")
        json.raw(",\"title\":")
        let phrase = StatusPhrase.phrase(for: status.code)
        json.string(phrase.isEmpty ? (status.code < 500 ? "Client Error" : "Server Error") : phrase)
        json.raw(",\"status\":\(status.code),\"detail\":")
        json.string(detail)
        json.raw(",\"code\":")
        json.string(code)
        json.raw(",\"request_id\":")
        if let requestID { json.string(requestID) } else { json.raw("null") }
        json.raw("}")
        var fields: HTTPFields = [.contentType: "application/problem+json"]
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Response(status: status, headers: fields, body: .bytes(json.bytes))
    }

    /// The problem response for `error`:
    /// - a Core ``Core/ProblemError`` keeps its status, code, detail and headers;
    /// - a parse error keeps its status (400, 408, 413, 431, ...);
    /// - a `DecodingError` becomes 400 (malformed JSON) or 422 (wrong type, missing field);
    /// - anything else becomes a 500 whose body carries only the request id.
    public static func problem(for error: any Error, requestID: String?) -> Response {
        switch error {
        case let problem as any ProblemError:
            let status = (100...599).contains(problem.status) ? problem.status : 500
            return .problem(status: HTTPResponse.Status(code: status), code: problem.code, detail: problem.detail,
                            requestID: requestID, headers: problem.headers)
        case let parse as HTTPParseError:
            return .problem(status: HTTPResponse.Status(code: parse.status), code: parse.code, detail: parse.reason,
                            requestID: requestID)
        case let decoding as DecodingError:
            let mapped = JSONErrors.problem(for: decoding)
            return .problem(status: HTTPResponse.Status(code: mapped.status), code: mapped.code, detail: mapped.detail,
                            requestID: requestID)
        default:
            return .problem(status: .internalServerError, code: "internal_error",
                            detail: "The server failed to handle the request; quote the request id when reporting it.",
                            requestID: requestID)
        }
    }

    /// Whether ``problem(for:requestID:)`` maps `error` to a 500 that should be logged.
    static func isUnexpected(_ error: any Error) -> Bool {
        // A cancelled handler means its client went away or the server is stopping.
        !(error is any ProblemError || error is HTTPParseError || error is DecodingError || error is CancellationError)
    }
}

/// Reason phrases (RFC 9110 §15) for status lines and problem titles.
enum StatusPhrase {
    static func phrase(for code: Int) -> String {
        switch code {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}

/// A minimal JSON text builder for the server's own small documents (problems, log lines).
struct JSONText {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 192) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends `text` as a JSON string (RFC 8259 §7).
    mutating func string(_ text: String) {
        JSONEscaping.appendString(text, to: &bytes)
    }
}

enum JSONEscaping {
    /// Appends `text` as a quoted, escaped JSON string (RFC 8259 §7).
    static func appendString(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: &output) }
    }

    /// Appends UTF-8 `bytes` as a quoted, escaped JSON string; bytes that need no escape
    /// (the common case) are copied in one piece.
    static func appendString(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        output.append(0x22)
        var clean = 0
        for byte in bytes {
            if byte < 0x20 || byte == 0x22 || byte == 0x5C { break }
            clean += 1
        }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<clean]))
        if clean < bytes.count {
            for byte in bytes[clean...] {
                switch byte {
                case 0x22: output.append(0x5C); output.append(0x22)
                case 0x5C: output.append(0x5C); output.append(0x5C)
                case 0x0A: output.append(0x5C); output.append(0x6E)
                case 0x0D: output.append(0x5C); output.append(0x72)
                case 0x09: output.append(0x5C); output.append(0x74)
                case 0x08: output.append(0x5C); output.append(0x62)
                case 0x0C: output.append(0x5C); output.append(0x66)
                case 0x00..<0x20:
                    let hex: StaticString = "0123456789abcdef"
                    output.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)]])
                default: output.append(byte)
                }
            }
        }
        output.append(0x22)
    }

    /// Appends the decimal digits of `value`.
    static func appendDecimal(_ value: UInt64, to output: inout [UInt8]) {
        withDecimalDigits(value) { output.append(contentsOf: $0) }
    }

    /// A signed integer as JSON writes it.
    static func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude, to: &output)
    }

    /// A date as a quoted whole-second ISO 8601 string, the API's date format.
    static func appendDate(_ date: Date, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        UTCCalendar.appendISO8601(date, to: &output)
        output.append(UInt8(ascii: "\""))
    }

    /// Hands the decimal digits of `value` to `body`, written into a stack buffer (no allocation).
    @inline(__always)
    static func withDecimalDigits(_ value: UInt64, _ body: (UnsafeRawBufferPointer) -> Void) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var remaining = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                scratch[23 - count] = UInt8(truncatingIfNeeded: 0x30 + remaining % 10)
                remaining /= 10
                count += 1
            } while remaining > 0
            body(UnsafeRawBufferPointer(rebasing: scratch[(24 - count)...]))
        }
    }
}
