// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CSystemShims
#if canImport(Glibc)
import Glibc
#endif

/// One epoll set, owned by one event loop thread.
///
/// Events come back unpacked into two plain arrays (tokens and flags) because
/// `struct epoll_event` is packed on x86_64 and not visible from Swift.
final class EventQueue {
    struct Interest: OptionSet {
        let rawValue: UInt32
        static let read = Interest(rawValue: ATLAS_EPOLL_IN)
        static let write = Interest(rawValue: ATLAS_EPOLL_OUT)
        static let edgeTriggered = Interest(rawValue: ATLAS_EPOLL_ET)
        /// Report the peer's FIN as its own flag: with edge triggering, data and FIN that arrive
        /// together raise one event, and a short read would otherwise hide the pending EOF.
        static let readHangup = Interest(rawValue: ATLAS_EPOLL_RDHUP)
    }

    let fd: Int32
    let capacity: Int
    private let tokens: UnsafeMutablePointer<UInt64>
    private let flags: UnsafeMutablePointer<UInt32>

    init(capacity: Int = 256) throws(SocketError) {
        let fd = atlas_epoll_create()
        guard fd >= 0 else { throw .current("epoll_create1") }
        self.fd = fd
        self.capacity = capacity
        self.tokens = .allocate(capacity: capacity)
        self.flags = .allocate(capacity: capacity)
    }

    deinit {
        tokens.deallocate()
        flags.deallocate()
        Glibc.close(fd)
    }

    func add(_ descriptor: Int32, interest: Interest, token: UInt64) throws(SocketError) {
        guard atlas_epoll_ctl(fd, 1, descriptor, interest.rawValue, token) == 0 else {
            throw .current("epoll_ctl(ADD)")
        }
    }

    func remove(_ descriptor: Int32) {
        _ = atlas_epoll_ctl(fd, 2, descriptor, 0, 0)
    }

    /// Waits up to `timeoutMilliseconds` (-1 = forever) and returns the number of ready events,
    /// readable through ``token(at:)`` and ``events(at:)``. EINTR counts as zero events.
    func wait(timeoutMilliseconds: Int32) -> Int {
        let count = atlas_epoll_wait(fd, tokens, flags, Int32(capacity), timeoutMilliseconds)
        return count < 0 ? 0 : Int(count)
    }

    @inline(__always) func token(at index: Int) -> UInt64 { tokens[index] }

    @inline(__always) func isReadable(at index: Int) -> Bool {
        flags[index] & (ATLAS_EPOLL_IN | ATLAS_EPOLL_HUP | ATLAS_EPOLL_ERR | ATLAS_EPOLL_RDHUP) != 0
    }

    @inline(__always) func isHangup(at index: Int) -> Bool {
        flags[index] & (ATLAS_EPOLL_RDHUP | ATLAS_EPOLL_HUP | ATLAS_EPOLL_ERR) != 0
    }

    @inline(__always) func isWritable(at index: Int) -> Bool {
        flags[index] & (ATLAS_EPOLL_OUT | ATLAS_EPOLL_ERR) != 0
    }
}

/// An eventfd that other threads signal to wake an event loop.
///
/// It is registered edge-triggered and never read: every write is a new edge, and the 64-bit
/// counter cannot saturate in practice, so a wake-up costs the writer one syscall and the loop none.
struct WakeupSignal: @unchecked Sendable {
    // @unchecked: only the descriptor number is shared; eventfd writes are thread-safe.
    let fd: Int32

    init() throws(SocketError) {
        let fd = atlas_eventfd()
        guard fd >= 0 else { throw .current("eventfd") }
        self.fd = fd
    }

    func signal() {
        _ = atlas_eventfd_signal(fd)
    }

    func close() {
        _ = Glibc.close(fd)
    }
}

/// Monotonic and wall clocks read through the C shim (vDSO, no syscall).
enum SystemClock {
    @inline(__always) static func monotonicNanos() -> UInt64 { atlas_monotonic_nanos() }
    @inline(__always) static func realtimeSeconds() -> Int64 { atlas_realtime_seconds() }

    /// The IMF-fixdate for `seconds` (RFC 9110 §5.6.7), 29 ASCII bytes.
    static func httpDate(_ seconds: Int64, into pointer: UnsafeMutablePointer<UInt8>) {
        pointer.withMemoryRebound(to: CChar.self, capacity: 29) { atlas_format_http_date(seconds, $0) }
    }
}
