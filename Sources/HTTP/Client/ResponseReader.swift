// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core

/// Reads one HTTP/1.1 response (RFC 9112) from a connection: interim 1xx answers are
/// skipped, the body framed by Content-Length, chunked coding or the end of the connection.
struct ResponseReader {
    let connection: ClientConnection
    let deadline: UInt64
    let limit: Int
    let reused: Bool
    var buffer: [UInt8] = []
    var received = 0

    init(connection: ClientConnection, deadline: UInt64, limit: Int, reused: Bool) {
        self.connection = connection
        self.deadline = deadline
        self.limit = limit
        self.reused = reused
        buffer.reserveCapacity(4096)
    }

    mutating func read() throws(HTTPClientError) -> (HTTPClientResponse, keepAlive: Bool) {
        while true {
            let (status, minor, headers, headEnd) = try readHead()
            buffer.removeFirst(headEnd)
            if (100..<200).contains(status) && status != 101 { continue }
            let fields = headers.map { (name: $0.name, value: $0.value) }
            func values(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }
            let connectionTokens = values("connection").flatMap { $0.lowercased().split(separator: ",").map { String($0).trimmingBlanks } }
            var keepAlive = minor >= 1 ? !connectionTokens.contains("close") : connectionTokens.contains("keep-alive")
            var body: [UInt8] = []
            let codings = values("transfer-encoding").flatMap { $0.lowercased().split(separator: ",").map { String($0).trimmingBlanks } }
            if status == 204 || status == 304 {
                // No body, whatever the fields say (RFC 9112 §6.3).
            } else if let last = codings.last {
                guard last == "chunked" else { throw HTTPClientError(.malformedResponse, "unsupported transfer coding \(last)") }
                body = try readChunked()
            } else if let lengthText = values("content-length").first {
                guard Set(values("content-length")).count == 1, let length = Int(lengthText), length >= 0 else {
                    throw HTTPClientError(.malformedResponse, "invalid Content-Length")
                }
                guard length <= limit else { throw HTTPClientError(.responseTooLarge, "a \(length)-byte body") }
                while buffer.count < length { try fill() }
                body = Array(buffer.prefix(length))
                buffer.removeFirst(length)
            } else {
                // Delimited by the end of the connection.
                while (try? fill()) != nil {}
                body = buffer
                keepAlive = false
            }
            return (HTTPClientResponse(status: status, headers: fields, body: body), keepAlive)
        }
    }

    /// Receives more bytes, waiting within the deadline; throws at the end of the stream.
    mutating func fill() throws(HTTPClientError) {
        guard buffer.count < limit + 65536 else { throw HTTPClientError(.responseTooLarge, "more than \(limit) bytes") }
        let count = try connection.receive(into: &buffer, stale: reused && received == 0, deadline: deadline)
        guard count > 0 else {
            throw HTTPClientError(.connection, "the connection closed before the response ended",
                                  staleConnection: reused && received == 0)
        }
        received += count
    }

    /// The status line and fields, and where the head ends in ``buffer``.
    mutating func readHead() throws(HTTPClientError) -> (status: Int, minor: Int, headers: [(name: String, value: String)], end: Int) {
        var scanned = 0
        while true {
            if let end = Self.headEnd(buffer, from: max(0, scanned - 3)) {
                return try Self.parseHead(buffer[0..<end], end: end)
            }
            scanned = buffer.count
            guard buffer.count <= 65536 else { throw HTTPClientError(.responseTooLarge, "a response head over 64 KiB") }
            try fill()
        }
    }

    static func headEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = start
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index + 4 }
            index += 1
        }
        return nil
    }

    static func parseHead(_ head: ArraySlice<UInt8>, end: Int) throws(HTTPClientError) -> (status: Int, minor: Int, headers: [(name: String, value: String)], end: Int) {
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)[...]
        guard let statusLine = lines.popFirst() else { throw HTTPClientError(.malformedResponse, "an empty response head") }
        // status-line = HTTP-version SP status-code SP [ reason-phrase ]
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[0].count == 8,
              let minor = Int(parts[0].suffix(1)), parts[1].count == 3, let status = Int(parts[1]), status >= 100 else {
            throw HTTPClientError(.malformedResponse, "not an HTTP/1.x status line: \(statusLine.prefix(64))")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[..<colon].contains(where: { $0 == " " || $0 == "\t" }) else {
                throw HTTPClientError(.malformedResponse, "a malformed field line: \(line.prefix(64))")
            }
            headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmingBlanks))
        }
        return (status, minor, headers, end)
    }

    /// Decodes a chunked body (RFC 9112 §7.1) with the server's own decoder.
    mutating func readChunked() throws(HTTPClientError) -> [UInt8] {
        var decoder = ChunkedDecoder()
        var body: [UInt8] = []
        let limits = RequestLimits(maxHeaderBytes: 65536, maxHeaderCount: 100, maxBodyBytes: limit)
        while true {
            let (consumed, result) = buffer.withUnsafeBytes { decoder.decode($0, into: &body, limits: limits, maxBody: limit) }
            buffer.removeFirst(consumed)
            switch result {
            case .done: return body
            case .failure(let failure):
                throw failure == .bodyTooLarge
                    ? HTTPClientError(.responseTooLarge, "a chunked body over \(limit) bytes")
                    : HTTPClientError(.malformedResponse, "bad chunked framing (\(failure))")
            case .needMore: try fill()
            }
        }
    }
}

