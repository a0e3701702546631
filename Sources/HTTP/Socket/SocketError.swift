// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

/// A system call on a socket, an epoll set or an eventfd failed.
///
/// It records the call and the `errno` captured right where it failed, so the message says which
/// step broke (`bind: Address already in use (errno 98)`) instead of a bare code.
public struct SocketError: Error, CustomStringConvertible, Equatable {
    /// The failing call, e.g. `bind` or `epoll_ctl`.
    public var operation: String
    /// The `errno` value at the time of failure.
    public var errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// Captures the current thread's `errno`; call it immediately after the failing call.
    static func current(_ operation: String) -> SocketError {
        SocketError(operation: operation, errno: Glibc.errno)
    }

    public var description: String {
        let message = strerror(errno).map { String(cString: $0) } ?? "unknown error"
        return "\(operation): \(message) (errno \(errno))"
    }
}
