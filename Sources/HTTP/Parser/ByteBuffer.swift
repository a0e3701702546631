// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer with a read and a write index over manually managed memory.
///
/// Connections own one for input and one for output; it is non-copyable so that its memory has
/// exactly one owner and is freed exactly once. Compaction and growth keep the hot path free of
/// allocation once a connection's buffers have reached their working size.
struct ByteBuffer: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity: Int
    private(set) var readerIndex = 0
    private(set) var writerIndex = 0

    init(capacity: Int) {
        self.capacity = capacity
        self.base = capacity > 0 ? .allocate(byteCount: capacity, alignment: 16) : nil
    }

    deinit {
        base?.deallocate()
    }

    @inline(__always) var readableCount: Int { writerIndex - readerIndex }
    @inline(__always) var isEmpty: Bool { writerIndex == readerIndex }
    @inline(__always) var writableCount: Int { capacity - writerIndex }

    /// The unread bytes. Valid until the next mutation.
    @inline(__always) var readable: UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + readerIndex, count: writerIndex - readerIndex)
    }

    @inline(__always) var writePointer: UnsafeMutableRawPointer { base! + writerIndex }

    @inline(__always) mutating func consume(_ count: Int) {
        readerIndex += count
        if readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
        }
    }

    @inline(__always) mutating func commit(_ count: Int) {
        writerIndex += count
    }

    mutating func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    /// Makes room for at least `count` more bytes, first by moving unread bytes to the front,
    /// then by doubling the capacity.
    mutating func reserveWritable(_ count: Int) {
        if writableCount >= count { return }
        if readerIndex > 0 {
            let unread = readableCount
            if unread > 0, let base { memmove(base, base + readerIndex, unread) }
            readerIndex = 0
            writerIndex = unread
            if writableCount >= count { return }
        }
        var newCapacity = Swift.max(capacity, 256)
        while newCapacity - writerIndex < count { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        if let base {
            if writerIndex > 0 { newBase.copyMemory(from: base, byteCount: writerIndex) }
            base.deallocate()
        }
        base = newBase
        capacity = newCapacity
    }

    /// Returns to `capacity` bytes when the buffer is empty and has grown beyond `threshold`,
    /// so that one large request or response does not pin memory for the connection's lifetime.
    mutating func shrinkIfEmpty(above threshold: Int, to smaller: Int) {
        guard isEmpty, capacity > threshold else { return }
        base?.deallocate()
        base = .allocate(byteCount: smaller, alignment: 16)
        capacity = smaller
        readerIndex = 0
        writerIndex = 0
    }

    @inline(__always) mutating func append(_ pointer: UnsafeRawPointer, count: Int) {
        reserveWritable(count)
        (base! + writerIndex).copyMemory(from: pointer, byteCount: count)
        writerIndex += count
    }

    @inline(__always) mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let address = bytes.baseAddress, bytes.count > 0 else { return }
        append(address, count: bytes.count)
    }

    @inline(__always) mutating func append(_ byte: UInt8) {
        reserveWritable(1)
        base!.storeBytes(of: byte, toByteOffset: writerIndex, as: UInt8.self)
        writerIndex += 1
    }

    @inline(__always) mutating func append(_ text: StaticString) {
        append(text.utf8Start, count: text.utf8CodeUnitCount)
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends a non-negative integer in decimal without allocating.
    mutating func appendDecimal(_ value: Int) {
        JSONEscaping.withDecimalDigits(UInt64(Swift.max(0, value))) { append($0) }
    }

    /// Appends a non-negative integer in lowercase hexadecimal (chunk sizes, RFC 9112 §7.1).
    mutating func appendHex(_ value: Int) {
        var digits: (UInt64, UInt64) = (0, 0)
        var count = 0
        var remaining = UInt(Swift.max(0, value))
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                let nibble = UInt8(truncatingIfNeeded: remaining & 0xF)
                scratch[15 - count] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
                remaining >>= 4
                count += 1
            } while remaining > 0
            append(UnsafeRawBufferPointer(rebasing: scratch[(16 - count)...]))
        }
    }
}
