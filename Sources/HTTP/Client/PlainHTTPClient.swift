// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CSystemShims
#if canImport(Glibc)
import Glibc
#endif
import Core
import Synchronization

/// Why an outbound request got no response.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The name did not resolve or nothing accepted the connection.
        case connect
        /// The deadline passed before the whole response arrived.
        case timeout
        /// The connection failed or closed mid-exchange.
        case connection
        /// The peer's bytes are not an HTTP/1.1 response.
        case malformedResponse
        /// The response head or body is larger than the client accepts.
        case responseTooLarge
    }

    public let kind: Kind
    public let detail: String
    /// True when the request may not have reached the peer at all and the connection had been
    /// used before: the peer closed an idle keep-alive connection, and one resend is safe.
    let staleConnection: Bool

    init(_ kind: Kind, _ detail: String, staleConnection: Bool = false) {
        self.kind = kind
        self.detail = detail
        self.staleConnection = staleConnection
    }

    public var description: String { "\(kind): \(detail)" }
}

/// A response read whole.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    /// Field names lower-cased, in the order they arrived.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first field of that (case-insensitive) name.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }
}

/// A blocking HTTP/1.1 client for one plain-`http` origin that keeps its connection alive
/// between requests: for exporters that post a batch to the same collector many times a minute.
/// URLSession on Linux drives each transfer through libcurl and dispatch sources, which cost a
/// fifth of this machine's CPU when spans of every request went out (`bench/RESULTS.md`); this
/// costs a `send` and a `recv` per batch.
///
/// Requests run one at a time (a second caller waits); every system call is bounded by the
/// request's deadline, and the calling thread blocks, so call it from a thread of its own, never
/// from an event loop or the cooperative pool. `https` is not supported: ``init(url:)`` answers
/// `nil` and the caller keeps URLSession for it.
public final class PlainHTTPClient: Sendable {
    public let host: String
    public let port: Int
    /// The URL's path without a trailing slash (empty for the root).
    public let basePath: String
    /// Response head and body limits.
    public let maxResponseBytes: Int
    private let hostHeader: String
    /// The kept-alive socket, -1 when there is none; the lock also serialises requests.
    private let connection = Mutex<Int32>(-1)

    /// A client for `http://host[:port][/path]`, or nil for any other scheme or a malformed URL.
    public init?(url: String, maxResponseBytes: Int = 1 << 20) {
        guard url.lowercased().hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var path = String(rest.dropFirst(authority.count).prefix { $0 != "?" && $0 != "#" })
        while path.hasSuffix("/") { path.removeLast() }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var host = Substring(authority)
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let tail = authority[authority.index(after: close)...]
            if !tail.isEmpty {
                guard tail.hasPrefix(":"), let number = Int(tail.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]) else { return nil }
            host = authority[..<colon]
            port = number
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
        self.basePath = path
        self.maxResponseBytes = max(1024, maxResponseBytes)
        let bracketed = host.contains(":") ? "[\(host)]" : String(host)
        self.hostHeader = port == 80 ? bracketed : "\(bracketed):\(port)"
    }

    deinit {
        connection.withLock { fd in
            if fd >= 0 { _ = Glibc.close(fd) }
        }
    }

    /// Sends `method target` with `body` and reads the whole response within `timeout`. An idle
    /// connection the peer closed meanwhile is replaced and the request sent once more.
    public func send(_ method: String, _ target: String, headers: [(name: String, value: String)] = [],
                     body: [UInt8] = [], timeout: Duration) throws(HTTPClientError) -> HTTPClientResponse {
        let deadline = SystemClock.monotonicNanos() &+ Self.nanoseconds(timeout)
        let request = head(method, target, headers: headers, bodyCount: body.count)
        return try connection.withLock { (fd: inout Int32) throws(HTTPClientError) -> HTTPClientResponse in
            var attempt = 0
            while true {
                attempt += 1
                let reused = fd >= 0
                if !reused { fd = try Self.connect(host, port, deadline: deadline) }
                do throws(HTTPClientError) {
                    let (response, keepAlive) = try exchange(fd, request, body, reused: reused, deadline: deadline)
                    if !keepAlive {
                        _ = Glibc.close(fd)
                        fd = -1
                    }
                    return response
                } catch {
                    _ = Glibc.close(fd)
                    fd = -1
                    if error.staleConnection, attempt == 1 { continue }
                    throw error
                }
            }
        }
    }

    /// Closes the kept-alive connection, if any; the next request opens a new one.
    public func close() {
        connection.withLock { fd in
            if fd >= 0 { _ = Glibc.close(fd) }
            fd = -1
        }
    }

    private func head(_ method: String, _ target: String, headers: [(name: String, value: String)], bodyCount: Int) -> [UInt8] {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: atlas\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if bodyCount > 0 || method == "POST" || method == "PUT" { text += "Content-Length: \(bodyCount)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    private static func connect(_ host: String, _ port: Int, deadline: UInt64) throws(HTTPClientError) -> Int32 {
        let timeout = PlainHTTPClientClock.remainingMilliseconds(deadline)
        guard timeout > 0 else { throw HTTPClientError(.timeout, "no time left to connect to \(host):\(port)") }
        let fd = atlas_connect_host(host, Int32(port), timeout)
        guard fd >= 0 else {
            let code = errno
            if code == ETIMEDOUT { throw HTTPClientError(.timeout, "connecting to \(host):\(port) timed out") }
            throw HTTPClientError(.connect, "cannot connect to \(host):\(port): \(String(cString: strerror(code)))")
        }
        return fd
    }

    /// Writes the request and reads one response; `keepAlive` says whether the connection may
    /// carry the next request.
    private func exchange(_ fd: Int32, _ head: [UInt8], _ body: [UInt8], reused: Bool,
                          deadline: UInt64) throws(HTTPClientError) -> (HTTPClientResponse, keepAlive: Bool) {
        try Self.write(fd, head, reused: reused, deadline: deadline)
        if !body.isEmpty { try Self.write(fd, body, reused: reused, deadline: deadline) }
        var reader = ResponseReader(fd: fd, deadline: deadline, limit: maxResponseBytes, reused: reused)
        return try reader.read()
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8], reused: Bool, deadline: UInt64) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { atlas_send(fd, $0.baseAddress! + offset, $0.count - offset) }
            if sent > 0 {
                offset += sent
                continue
            }
            let code = errno
            if sent < 0, code == EAGAIN || code == EWOULDBLOCK || code == EINTR {
                let wait = PlainHTTPClientClock.remainingMilliseconds(deadline)
                guard wait > 0, atlas_poll_one(fd, 1, wait) > 0 else { throw HTTPClientError(.timeout, "sending the request timed out") }
                continue
            }
            // EPIPE or ECONNRESET on a reused connection: the peer closed it while it sat idle.
            let stale = reused && offset == 0 && (code == EPIPE || code == ECONNRESET)
            throw HTTPClientError(.connection, "send failed: \(String(cString: strerror(code)))", staleConnection: stale)
        }
    }
}

/// Reads one HTTP/1.1 response (RFC 9112) from a non-blocking socket: interim 1xx answers are
/// skipped, the body framed by Content-Length, chunked coding or the end of the connection.
private struct ResponseReader {
    let fd: Int32
    let deadline: UInt64
    let limit: Int
    let reused: Bool
    var buffer: [UInt8] = []
    var received = 0

    init(fd: Int32, deadline: UInt64, limit: Int, reused: Bool) {
        self.fd = fd
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
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { atlas_recv(fd, $0.baseAddress!, $0.count) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                received += count
                return
            }
            let code = errno
            if count == 0 {
                throw HTTPClientError(.connection, "the connection closed before the response ended",
                                      staleConnection: reused && received == 0)
            }
            if code == EAGAIN || code == EWOULDBLOCK {
                let wait = PlainHTTPClientClock.remainingMilliseconds(deadline)
                guard wait > 0, atlas_poll_one(fd, 0, wait) > 0 else {
                    throw HTTPClientError(.timeout, "no complete response before the deadline")
                }
                continue
            }
            throw HTTPClientError(.connection, "receive failed: \(String(cString: strerror(code)))",
                                  staleConnection: reused && received == 0 && code == ECONNRESET)
        }
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

enum PlainHTTPClientClock {
    /// Milliseconds left before `deadline`, at least 1 while any time is left, 0 after it.
    static func remainingMilliseconds(_ deadline: UInt64) -> Int32 {
        let now = SystemClock.monotonicNanos()
        guard deadline > now else { return 0 }
        return Int32(clamping: max(1, (deadline - now) / 1_000_000))
    }
}
