// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTPTypes

/// How the server frames one response on the wire.
struct ResponseMeta {
    /// `HEAD`: headers as for `GET`, no body (RFC 9110 §9.3.2).
    var isHead: Bool
    /// HTTP/1.0 client: no chunked coding; keep-alive only when asked for.
    var http10: Bool
    /// Close the connection after this response.
    var close: Bool
}

/// Serialises responses into a connection's output buffer: status line, server-owned fields,
/// handler fields, body. Common status lines are constants, `Date` comes preformatted from the
/// event loop (rebuilt once a second), and numbers are formatted in place.
enum ResponseWriter {
    /// Writes the head and, for a byte body, the body. Returns true when the body is a stream
    /// whose chunks follow.
    static func write(_ response: Response, requestID: String?, meta: ResponseMeta, date: UnsafeRawPointer,
                      into output: inout ByteBuffer) -> Bool {
        let code = response.status.code
        writeStatusLine(response.status, into: &output)
        output.append(date, count: EventLoopDate.lineLength)

        for field in response.headers {
            if isServerOwned(field.name) { continue }
            var name = field.name.rawName
            name.withUTF8 { output.append(UnsafeRawBufferPointer($0)) }
            output.append(": ")
            field.withUnsafeBytesOfValue { output.append(UnsafeRawBufferPointer($0)) }
            output.append("\r\n")
        }
        if let requestID {
            output.append("X-Request-ID: ")
            output.append(requestID)
            output.append("\r\n")
        }

        // RFC 9110 §6.4.1: 1xx, 204 and 304 responses never have content.
        let mayHaveBody = code >= 200 && code != 204 && code != 304
        var streaming = false
        switch response.body.storage {
        case .bytes(let bytes):
            if mayHaveBody {
                output.append("Content-Length: ")
                output.appendDecimal(bytes.count)
                output.append("\r\n")
            }
        case .stream:
            streaming = mayHaveBody
            if streaming, !meta.http10 { output.append("Transfer-Encoding: chunked\r\n") }
        }
        // An HTTP/1.0 stream is delimited by closing (RFC 9112 §6.3 item 8).
        if meta.close || (streaming && meta.http10) {
            output.append("Connection: close\r\n")
        } else if meta.http10 {
            output.append("Connection: keep-alive\r\n")
        }
        output.append("\r\n")

        if case .bytes(let bytes) = response.body.storage, mayHaveBody, !meta.isHead, !bytes.isEmpty {
            output.append(bytes)
        }
        return streaming && !meta.isHead
    }

    /// Frames one chunk (RFC 9112 §7.1), or passes it through for HTTP/1.0.
    static func writeChunk(_ bytes: [UInt8], http10: Bool, into output: inout ByteBuffer) {
        if http10 {
            output.append(bytes)
            return
        }
        output.appendHex(bytes.count)
        output.append("\r\n")
        output.append(bytes)
        output.append("\r\n")
    }

    /// The last chunk with an empty trailer section.
    static func writeLastChunk(http10: Bool, into output: inout ByteBuffer) {
        if !http10 { output.append("0\r\n\r\n") }
    }

    static func writeContinue(into output: inout ByteBuffer) {
        output.append("HTTP/1.1 100 Continue\r\n\r\n")
    }

    @inline(__always)
    private static func writeStatusLine(_ status: HTTPResponse.Status, into output: inout ByteBuffer) {
        switch status.code {
        case 200 where status.reasonPhrase == "OK": output.append("HTTP/1.1 200 OK\r\n")
        case 201 where status.reasonPhrase == "Created": output.append("HTTP/1.1 201 Created\r\n")
        case 202 where status.reasonPhrase == "Accepted": output.append("HTTP/1.1 202 Accepted\r\n")
        case 204 where status.reasonPhrase == "No Content": output.append("HTTP/1.1 204 No Content\r\n")
        case 404 where status.reasonPhrase == "Not Found": output.append("HTTP/1.1 404 Not Found\r\n")
        default:
            output.append("HTTP/1.1 ")
            output.appendDecimal(status.code)
            output.append(" ")
            output.append(status.reasonPhrase.isEmpty ? StatusPhrase.phrase(for: status.code) : status.reasonPhrase)
            output.append("\r\n")
        }
    }

    /// Fields the server writes itself; a handler's value for them is ignored.
    @inline(__always)
    private static func isServerOwned(_ name: HTTPField.Name) -> Bool {
        let canonical = name.canonicalName
        switch canonical.utf8.count {
        case 4: return canonical == "date"
        case 10: return canonical == "connection" || canonical == "keep-alive"
        case 12: return canonical == "x-request-id"
        case 14: return canonical == "content-length"
        case 17: return canonical == "transfer-encoding"
        default: return false
        }
    }
}

/// The `Date` field line (RFC 9110 §6.6.1), refreshed by each event loop when the second changes.
struct EventLoopDate: ~Copyable {
    static let lineLength = 37  // "Date: " + IMF-fixdate (29) + CRLF

    let line: UnsafeMutablePointer<UInt8>
    private var second: Int64 = -1

    init() {
        line = .allocate(capacity: Self.lineLength)
        let prefix: StaticString = "Date: "
        line.update(from: prefix.utf8Start, count: 6)
        line[35] = 0x0D
        line[36] = 0x0A
        refresh()
    }

    deinit {
        line.deallocate()
    }

    mutating func refresh() {
        let now = SystemClock.realtimeSeconds()
        guard now != second else { return }
        second = now
        SystemClock.httpDate(now, into: line + 6)
    }
}
