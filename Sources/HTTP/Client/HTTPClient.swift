// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CSystemShims
import Core
import Dispatch
import Instrumentation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Why an outbound request got no response.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The name did not resolve, nothing accepted the connection, or the proxy refused the tunnel.
        case connect
        /// The deadline passed before the whole response arrived.
        case timeout
        /// The connection failed or closed mid-exchange.
        case connection
        /// The TLS handshake failed: most often a certificate that is not trusted or not for this host.
        case tls
        /// The peer's bytes are not an HTTP/1.1 response.
        case malformedResponse
        /// The response head or body is larger than the client accepts.
        case responseTooLarge
        /// The awaiting task was cancelled (``HTTPClient/perform(_:_:headers:body:timeout:)`` only).
        case cancelled
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

/// An HTTP/1.1 client for one `http` or `https` origin, keeping a few connections alive between
/// requests; every outbound request of Atlas goes through it (ADR-014). URLSession on Linux
/// drives each transfer through libcurl and dispatch sources: it cost a fifth of this machine's
/// CPU when spans of every request went out (`bench/RESULTS.md`), and libcurl's dependencies
/// alone kept some 3 MB resident in an idle server. This costs a `send` and a `recv` per
/// request, plus OpenSSL's record layer for `https`.
///
/// ```swift
/// let client = HTTPClient(url: "https://hooks.slack.com")!
/// let response = try await client.perform("POST", "/services/T000/B000", body: payload, timeout: .seconds(10))
/// ```
///
/// ``send(_:_:headers:body:timeout:)`` blocks the calling thread, every system call bounded by
/// the request's deadline: call it from a thread of its own, never from an event loop or the
/// cooperative pool. ``perform(_:_:headers:body:timeout:)`` runs it on a serial dispatch queue
/// of its own for callers that await. Concurrent requests each take a connection of their own (an
/// idle one or a new one), so a hanging request holds up nobody else; up to
/// ``maxIdleConnections`` stay open after use.
///
/// TLS is OpenSSL's: TLS 1.2 or newer, the peer's certificate verified against the system's
/// trust store (`SSL_CERT_FILE` / `SSL_CERT_DIR` override it) and the host name, SNI sent.
/// Proxies come from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` as with libcurl
/// (``ProxyConfiguration``). No redirects are followed, no cookies kept, no HTTP/2 spoken.
public final class HTTPClient: Sendable {
    public enum Scheme: String, Sendable {
        case http, https
    }

    public let scheme: Scheme
    public let host: String
    public let port: Int
    /// The URL's path without a trailing slash (empty for the root).
    public let basePath: String
    /// Response head and body limits.
    public let maxResponseBytes: Int
    /// Connections kept open after a request, for the next ones.
    public let maxIdleConnections: Int
    private let hostHeader: String
    private let trust: TLSTrust
    /// The proxy this origin is reached through, nil for a direct connection.
    private let proxy: ProxyEndpoint?
    /// Idle kept-alive connections, the most recently used last.
    private let idle = Mutex<[ClientConnection]>([])
    /// The label of the queue each ``perform(_:_:headers:body:timeout:)`` runs its exchange on.
    private let queueLabel: String

    /// A client for `http[s]://host[:port][/path]`, or nil for any other scheme or a malformed URL.
    /// `trust` adds a CA to the system's (for tests and private CAs); `proxy` defaults to the
    /// process environment.
    public init?(url: String, maxResponseBytes: Int = 1 << 20, maxIdleConnections: Int = 4,
                 trust: TLSTrust = .system, proxy: ProxyConfiguration = .environment()) {
        guard let origin = Origin(url: url) else { return nil }
        scheme = origin.scheme
        host = origin.host
        port = origin.port
        basePath = origin.path
        self.maxResponseBytes = max(1024, maxResponseBytes)
        self.maxIdleConnections = max(0, maxIdleConnections)
        self.trust = trust
        self.proxy = proxy.endpoint(scheme: origin.scheme, host: origin.host)
        let bracketed = origin.host.contains(":") ? "[\(origin.host)]" : origin.host
        hostHeader = port == origin.scheme.defaultPort ? bracketed : "\(bracketed):\(port)"
        queueLabel = "atlas.http-client.\(origin.host)"
    }

    deinit {
        for connection in idle.withLock({ $0 }) { connection.close() }
    }

    /// The request target (path and query, `/` when empty) of an absolute URL, for callers that
    /// hold whole URLs: `https://api.example.com/v1/x?y=1` → `/v1/x?y=1`.
    public static func requestTarget(of url: String) -> String {
        var rest = Substring(url)
        if let schemeEnd = rest.firstRange(of: "://") { rest = rest[schemeEnd.upperBound...] }
        rest = rest.drop { $0 != "/" && $0 != "?" && $0 != "#" }
        rest = rest.prefix { $0 != "#" }
        if rest.isEmpty { return "/" }
        return rest.hasPrefix("?") ? "/" + rest : String(rest)
    }

    /// Sends `method target` with `body` and reads the whole response within `timeout`, blocking
    /// the calling thread. An idle connection the peer closed meanwhile is replaced and the
    /// request sent once more.
    public func send(_ method: String, _ target: String, headers: [(name: String, value: String)] = [],
                     body: [UInt8] = [], timeout: Duration) throws(HTTPClientError) -> HTTPClientResponse {
        let deadline = SystemClock.monotonicNanos() &+ Self.nanoseconds(timeout)
        let request = head(method, target, headers: headers, bodyCount: body.count)
        var attempt = 0
        while true {
            attempt += 1
            let pooled = attempt == 1 ? idle.withLock { $0.popLast() } : nil
            let connection: ClientConnection
            if let pooled { connection = pooled } else { connection = try open(deadline: deadline) }
            let reused = pooled != nil
            do throws(HTTPClientError) {
                try connection.write(request, reused: reused, deadline: deadline)
                if !body.isEmpty { try connection.write(body, reused: reused, deadline: deadline) }
                var reader = ResponseReader(connection: connection, deadline: deadline, limit: maxResponseBytes, reused: reused)
                let (response, keepAlive) = try reader.read()
                if keepAlive, reader.buffer.isEmpty, connection.pending == 0 { release(connection) } else { connection.close() }
                return response
            } catch {
                connection.close()
                if error.staleConnection, attempt == 1 { continue }
                throw error
            }
        }
    }

    /// ``send(_:_:headers:body:timeout:)`` for callers that await: the blocking exchange runs on
    /// a serial dispatch queue made for it, never on the cooperative pool. Serial queues are
    /// "overcommit" in libdispatch — each gets a thread when it needs one — whereas blocks on a
    /// concurrent queue share the process-wide pool of one thread per core, where two slow model
    /// calls on two cores would hold up every other outbound request. When the
    /// awaiting task is cancelled this returns at once with ``HTTPClientError/Kind/cancelled``;
    /// the exchange itself still ends within its timeout and its connection is then kept or
    /// closed as usual, so nothing leaks.
    public func perform(_ method: String, _ target: String, headers: [(name: String, value: String)] = [],
                        body: [UInt8] = [], timeout: Duration) async throws(HTTPClientError) -> HTTPClientResponse {
        // The awaiting task's trace context travels with the request (W3C `traceparent` and
        // `tracestate`), unless the caller set it: a model call or webhook made under a request
        // continues that request's trace at the provider.
        var fields = headers
        if !fields.contains(where: { $0.name.lowercased() == "traceparent" }) {
            // `.topLevel` too: the instrument may know the request's trace without a context
            // bound (Telemetry's tracer keeps the request span in a task-local of its own).
            InstrumentationSystem.instrument.inject(InstrumentationContext.current ?? .topLevel, into: &fields,
                                                    using: HeaderListInjector())
        }
        let headers = fields
        let handoff = Handoff()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) in
                guard handoff.install(continuation) else { return }
                DispatchQueue(label: queueLabel).async {
                    do throws(HTTPClientError) {
                        handoff.finish(.success(try self.send(method, target, headers: headers, body: body, timeout: timeout)))
                    } catch {
                        handoff.finish(.failure(error))
                    }
                }
            }
        } onCancel: {
            handoff.finish(.failure(HTTPClientError(.cancelled, "the request was cancelled")))
        }
        return try result.get()
    }

    /// Closes the idle connections; the next request opens a new one.
    public func close() {
        for connection in idle.withLock({ connections in
            defer { connections = [] }
            return connections
        }) {
            connection.close()
        }
    }

    private func release(_ connection: ClientConnection) {
        let surplus = idle.withLock { connections -> ClientConnection? in
            guard connections.count < maxIdleConnections else { return connection }
            connections.append(connection)
            return nil
        }
        surplus?.close()
    }

    /// A new connection to the origin: directly, through the proxy, or through a tunnel the
    /// proxy opened (RFC 9110 §9.3.6), with TLS on top for `https`.
    private func open(deadline: UInt64) throws(HTTPClientError) -> ClientConnection {
        if let failure = proxy?.unsupported { throw HTTPClientError(.connect, failure) }
        let connection = try ClientConnection.connect(proxy?.host ?? host, proxy?.port ?? port, deadline: deadline)
        do throws(HTTPClientError) {
            guard scheme == .https else { return connection }
            if let proxy { try tunnel(connection, through: proxy, deadline: deadline) }
            try connection.startTLS(try TLSContext.shared(trust), host: host, deadline: deadline)
            return connection
        } catch {
            connection.close()
            throw error
        }
    }

    private func tunnel(_ connection: ClientConnection, through proxy: ProxyEndpoint, deadline: UInt64) throws(HTTPClientError) {
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var text = "CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\nUser-Agent: atlas\r\n"
        if let authorization = proxy.authorization { text += "Proxy-Authorization: \(authorization)\r\n" }
        text += "\r\n"
        try connection.write(Array(text.utf8), reused: false, deadline: deadline)
        var reader = ResponseReader(connection: connection, deadline: deadline, limit: 65536, reused: false)
        let (status, _, _, end) = try reader.readHead()
        guard (200..<300).contains(status) else {
            throw HTTPClientError(.connect, "the proxy \(proxy.host):\(proxy.port) refused a tunnel to \(authority) (HTTP \(status))")
        }
        // The proxy speaks no more until the client does; anything else would be read as TLS.
        guard reader.buffer.count == end else { throw HTTPClientError(.malformedResponse, "the proxy sent bytes after its answer to CONNECT") }
    }

    private func head(_ method: String, _ target: String, headers: [(name: String, value: String)], bodyCount: Int) -> [UInt8] {
        // A plain request through a proxy names the whole URL (absolute-form, RFC 9112 §3.2.2).
        let requestTarget = proxy != nil && scheme == .http ? "http://\(hostHeader)\(target)" : target
        var text = "\(method) \(requestTarget) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: atlas\r\n"
        if scheme == .http, let authorization = proxy?.authorization { text += "Proxy-Authorization: \(authorization)\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if bodyCount > 0 || method == "POST" || method == "PUT" || method == "PATCH" { text += "Content-Length: \(bodyCount)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }
}

extension HTTPClient.Scheme {
    var defaultPort: Int { self == .https ? 443 : 80 }
}

/// Scheme, host, port and path of an `http`/`https` URL.
struct Origin {
    var scheme: HTTPClient.Scheme
    var host: String
    var port: Int
    var path: String

    init?(url: String) {
        let lowered = url.lowercased()
        let scheme: HTTPClient.Scheme
        if lowered.hasPrefix("http://") { scheme = .http } else if lowered.hasPrefix("https://") { scheme = .https } else { return nil }
        let rest = url.dropFirst(scheme.rawValue.count + 3)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var path = String(rest.dropFirst(authority.count).prefix { $0 != "?" && $0 != "#" })
        while path.hasSuffix("/") { path.removeLast() }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var host = Substring(authority)
        var port = scheme.defaultPort
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
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.path = path
    }
}

/// Hands one result to an awaiting task exactly once: the exchange's own, or a cancellation
/// that came first (in which case the exchange's later result is dropped).
private final class Handoff: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>?
        var result: Result<HTTPClientResponse, HTTPClientError>?
    }

    private let state = Mutex(State())

    /// Keeps `continuation`; false (and the continuation resumed) when a result is already in.
    func install(_ continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) -> Bool {
        let early = state.withLock { state -> Result<HTTPClientResponse, HTTPClientError>? in
            if let result = state.result { return result }
            state.continuation = continuation
            return nil
        }
        guard let early else { return true }
        continuation.resume(returning: early)
        return false
    }

    func finish(_ result: Result<HTTPClientResponse, HTTPClientError>) {
        let continuation = state.withLock { state -> CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: result)
    }
}

enum HTTPClientClock {
    /// Milliseconds left before `deadline`, at least 1 while any time is left, 0 after it.
    static func remainingMilliseconds(_ deadline: UInt64) -> Int32 {
        let now = SystemClock.monotonicNanos()
        guard deadline > now else { return 0 }
        return Int32(clamping: max(1, (deadline - now) / 1_000_000))
    }
}

/// Writes propagated trace fields into an outgoing request's header list.
struct HeaderListInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [(name: String, value: String)]) {
        carrier.append((key, value))
    }
}
