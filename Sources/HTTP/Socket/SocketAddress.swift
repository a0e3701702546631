// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

/// The address of a connected peer: an IPv4 or IPv6 address and a port.
///
/// Stored inline (no allocation per connection). Auth uses it to throttle logins per client
/// address and `/metrics` to recognise loopback callers.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable { case ipv4, ipv6 }

    /// IPv4 or IPv6.
    public let family: Family
    /// The port in host byte order.
    public let port: UInt16
    // 16 address bytes in network order; IPv4 uses the first four.
    private let high: UInt64
    private let low: UInt64

    /// Parses a `sockaddr_in` / `sockaddr_in6` as returned by `accept`.
    init?(sockaddr bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 8 else { return nil }
        let family = bytes.loadUnaligned(fromByteOffset: 0, as: UInt16.self)
        let port = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        if family == UInt16(AF_INET) {
            self.family = .ipv4
            self.port = port
            var value: UInt64 = 0
            for index in 0..<4 { value = value << 8 | UInt64(bytes[4 + index]) }
            self.high = value << 32
            self.low = 0
        } else if family == UInt16(AF_INET6), bytes.count >= 24 {
            self.family = .ipv6
            self.port = port
            var high: UInt64 = 0
            var low: UInt64 = 0
            for index in 0..<8 { high = high << 8 | UInt64(bytes[8 + index]) }
            for index in 0..<8 { low = low << 8 | UInt64(bytes[16 + index]) }
            self.high = high
            self.low = low
        } else {
            return nil
        }
    }

    /// Creates an address from a numeric IPv4 or IPv6 string, e.g. `"127.0.0.1"`.
    public init?(_ text: String, port: UInt16 = 0) {
        var storage = [UInt8](repeating: 0, count: 16)
        if text.contains(":") {
            guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
            self.family = .ipv6
            self.high = storage[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
            self.low = storage[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
        } else {
            guard inet_pton(AF_INET, text, &storage) == 1 else { return nil }
            self.family = .ipv4
            self.high = storage[0..<4].reduce(0) { $0 << 8 | UInt64($1) } << 32
            self.low = 0
        }
        self.port = port
    }

    /// Whether the peer is on this host: `127.0.0.0/8`, `::1` or an IPv4-mapped loopback.
    public var isLoopback: Bool {
        switch family {
        case .ipv4:
            return high >> 56 == 127
        case .ipv6:
            if high == 0 && low == 1 { return true }
            // ::ffff:127.x.y.z (RFC 4291 §2.5.5.2)
            return high == 0 && low >> 32 == 0xFFFF && (low >> 24) & 0xFF == 127
        }
    }

    /// The address without the port, e.g. `127.0.0.1` or `::1`.
    public var host: String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index)))
            bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(index)))
        }
        var text = [CChar](repeating: 0, count: 64)
        let ok = inet_ntop(family == .ipv4 ? AF_INET : AF_INET6, bytes, &text, 64) != nil
        guard ok else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String {
        family == .ipv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }
}
