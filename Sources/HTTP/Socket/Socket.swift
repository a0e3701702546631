// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CSystemShims
#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor for a TCP socket; the socket layer knows nothing about HTTP.
///
/// A value type over the descriptor: whoever owns it calls ``close()`` exactly once.
struct Socket {
    let fd: Int32

    /// A non-blocking listening socket bound to a numeric `host` and `port` (0 = ephemeral).
    ///
    /// `SO_REUSEADDR` lets a restarted server bind while old connections sit in TIME_WAIT;
    /// `SO_REUSEPORT` lets one listener per event loop share the port, and the kernel spreads
    /// new connections over them.
    static func listen(host: String, port: Int, backlog: Int, reusePort: Bool) throws(SocketError) -> Socket {
        let family: Int32 = host.contains(":") ? 6 : 4
        let fd = atlas_socket_stream(family, 1)
        guard fd >= 0 else { throw .current("socket") }
        let socket = Socket(fd: fd)
        do throws(SocketError) {
            try socket.setOption(1, 1, "setsockopt(SO_REUSEADDR)")
            if reusePort { try socket.setOption(2, 1, "setsockopt(SO_REUSEPORT)") }
            let result = atlas_bind_listen(fd, family, host, Int32(port), Int32(clamping: backlog))
            if result == -2 { throw SocketError(operation: "bind(\(host)): not a numeric address", errno: EINVAL) }
            if result != 0 { throw SocketError.current("bind(\(host):\(port))") }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// A blocking client socket connected to a numeric `host` and `port`.
    static func connect(host: String, port: Int) throws(SocketError) -> Socket {
        let family: Int32 = host.contains(":") ? 6 : 4
        let fd = atlas_socket_stream(family, 0)
        guard fd >= 0 else { throw .current("socket") }
        let result = atlas_connect(fd, family, host, Int32(port))
        guard result == 0 else {
            let error = result == -2
                ? SocketError(operation: "connect(\(host)): not a numeric address", errno: EINVAL)
                : SocketError.current("connect(\(host):\(port))")
            Glibc.close(fd)
            throw error
        }
        return Socket(fd: fd)
    }

    /// The port the socket is bound to.
    func localPort() throws(SocketError) -> Int {
        let port = atlas_local_port(fd)
        guard port >= 0 else { throw .current("getsockname") }
        return Int(port)
    }

    func setOption(_ option: Int32, _ value: Int32, _ name: String) throws(SocketError) {
        guard atlas_setsockopt_int(fd, option, value) == 0 else { throw .current(name) }
    }

    /// Disables Nagle's algorithm: responses are written whole, and a 100 Continue or an SSE
    /// chunk must not wait for the peer's delayed ACK.
    func setNoDelay() {
        _ = atlas_setsockopt_int(fd, 10, 1)
    }

    func close() {
        _ = Glibc.close(fd)
    }
}

/// Process-wide socket settings applied once before serving.
enum SocketProcess {
    /// Ignores SIGPIPE. Sends use MSG_NOSIGNAL already; this also covers `write(2)` on stdout
    /// when the log reader has gone.
    static func prepare() {
        atlas_ignore_sigpipe()
    }

    /// Raises the soft descriptor limit so that `connections` sockets fit, bounded by the hard limit.
    @discardableResult
    static func raiseDescriptorLimit(toAtLeast wanted: Int) -> Int {
        Int(atlas_raise_nofile_limit(wanted))
    }

    static var processorCount: Int { Int(atlas_cpu_count()) }
}
