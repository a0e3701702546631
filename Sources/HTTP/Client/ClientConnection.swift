// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CSystemShims
internal import CTLSShims
#if canImport(Glibc)
import Glibc
#endif

/// One outbound connection: a non-blocking socket, with a TLS session over it for `https`.
/// Every call waits for readiness with `poll`, bounded by what is left of the request's deadline.
///
/// `@unchecked Sendable`: a connection is used by one request at a time; it passes between
/// requests only through ``HTTPClient``'s idle list, under that list's lock.
final class ClientConnection: @unchecked Sendable {
    let fd: Int32
    private var tls: OpaquePointer?
    private var closed = false
    private var scratch = [UInt8](repeating: 0, count: 16384)

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit { close() }

    static func connect(_ host: String, _ port: Int, deadline: UInt64) throws(HTTPClientError) -> ClientConnection {
        let timeout = HTTPClientClock.remainingMilliseconds(deadline)
        guard timeout > 0 else { throw HTTPClientError(.timeout, "no time left to connect to \(host):\(port)") }
        let fd = atlas_connect_host(host, Int32(port), timeout)
        guard fd >= 0 else {
            let code = errno
            if code == ETIMEDOUT { throw HTTPClientError(.timeout, "connecting to \(host):\(port) timed out") }
            throw HTTPClientError(.connect, "cannot connect to \(host):\(port): \(String(cString: strerror(code)))")
        }
        return ClientConnection(fd: fd)
    }

    /// Runs the TLS handshake, verifying the certificate against `context`'s trust and `host`.
    func startTLS(_ context: TLSContext, host: String, deadline: UInt64) throws(HTTPClientError) {
        var reason = [CChar](repeating: 0, count: 256)
        guard let session = atlas_tls_session_new(context.pointer, fd, host, &reason, reason.count) else {
            throw HTTPClientError(.tls, "TLS with \(host): \(nulTerminated(reason))")
        }
        tls = session
        while true {
            let result = Int(atlas_tls_handshake(session))
            if result == 1 { return }
            if result == Int(ATLAS_TLS_WANT_READ) || result == Int(ATLAS_TLS_WANT_WRITE) {
                try wait(forWrite: result == Int(ATLAS_TLS_WANT_WRITE), deadline: deadline, "the TLS handshake with \(host) timed out")
                continue
            }
            throw HTTPClientError(.tls, "TLS handshake with \(host) failed: \(String(cString: atlas_tls_session_error(session)))")
        }
    }

    /// Writes all of `bytes`. A reused connection that fails before any byte went out was closed
    /// by the peer while idle: the error says so, and the caller may resend on a new one.
    func write(_ bytes: [UInt8], reused: Bool, deadline: UInt64) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                if let tls { return atlas_tls_write(tls, raw.baseAddress! + offset, raw.count - offset) }
                return atlas_send(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if sent > 0 {
                offset += sent
                continue
            }
            guard let code = try failure(after: sent, writing: true, deadline: deadline, "sending the request timed out")
            else { continue }
            // EPIPE or ECONNRESET on a reused connection: the peer closed it while it sat idle.
            let stale = reused && offset == 0 && (code == EPIPE || code == ECONNRESET)
            throw HTTPClientError(.connection, "send failed: \(failureReason(code))", staleConnection: stale)
        }
    }

    /// After a send or receive that moved nothing (`result` ≤ 0, `errno` untouched since): waits
    /// when TLS or the socket asks for it and returns `nil` (try again), else returns the error.
    private func failure(after result: Int, writing: Bool, deadline: UInt64,
                         _ timeoutMessage: String) throws(HTTPClientError) -> Int32? {
        if let tls {
            if result == Int(ATLAS_TLS_WANT_READ) || result == Int(ATLAS_TLS_WANT_WRITE) {
                try wait(forWrite: result == Int(ATLAS_TLS_WANT_WRITE), deadline: deadline, timeoutMessage)
                return nil
            }
            return atlas_tls_session_errno(tls)
        }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR {
            try wait(forWrite: writing, deadline: deadline, timeoutMessage)
            return nil
        }
        return code
    }

    /// Appends what arrives next to `buffer`, waiting within the deadline: the byte count, 0 at
    /// the end of the stream. Bytes TLS has already decrypted are returned without waiting.
    func receive(into buffer: inout [UInt8], stale: Bool, deadline: UInt64) throws(HTTPClientError) -> Int {
        while true {
            let count = scratch.withUnsafeMutableBytes { raw in
                if let tls { return atlas_tls_read(tls, raw.baseAddress!, raw.count) }
                return atlas_recv(fd, raw.baseAddress!, raw.count)
            }
            if count > 0 {
                buffer.append(contentsOf: scratch[0..<count])
                return count
            }
            if count == 0 { return 0 }
            // SSL_read answers "want read" only once its buffered records are used up
            // (SSL_pending is 0), so waiting on the socket there cannot strand decrypted bytes.
            guard let code = try failure(after: count, writing: false, deadline: deadline, "no complete response before the deadline")
            else { continue }
            throw HTTPClientError(.connection, "receive failed: \(failureReason(code))",
                                  staleConnection: stale && code == ECONNRESET)
        }
    }

    /// Decrypted bytes waiting inside the TLS session.
    var pending: Int {
        guard let tls else { return 0 }
        return Int(atlas_tls_pending(tls))
    }

    /// Sends close_notify on a healthy TLS session and closes the socket; idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        if let tls { atlas_tls_session_free(tls) }
        tls = nil
        _ = Glibc.close(fd)
    }

    private func wait(forWrite: Bool, deadline: UInt64, _ message: @autoclosure () -> String) throws(HTTPClientError) {
        let wait = HTTPClientClock.remainingMilliseconds(deadline)
        guard wait > 0, atlas_poll_one(fd, forWrite ? 1 : 0, wait) > 0 else { throw HTTPClientError(.timeout, message()) }
    }

    private func failureReason(_ code: Int32) -> String {
        if let tls, code == 0 { return String(cString: atlas_tls_session_error(tls)) }
        return String(cString: strerror(code))
    }
}

/// The text of a NUL-terminated C buffer filled by a shim.
func nulTerminated(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
