// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// Vectors as stored: IEEE 754 binary32 components, little-endian, back to back (`BLOB` on
/// SQLite, `bytea` on PostgreSQL), 4 bytes per dimension. Explicit byte order, so a database
/// file moves between machines unchanged.
enum VectorCoding {
    static func encode(_ vector: [Float]) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern.littleEndian
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
        }
        return bytes
    }

    /// The vector in `bytes`, or `nil` when the length is not `4 × dimensions` or a component is
    /// not finite (a damaged row is skipped rather than poisoning every search).
    static func decode(_ bytes: [UInt8], dimensions: Int) -> [Float]? {
        guard bytes.count == dimensions * 4 else { return nil }
        var vector = [Float](repeating: 0, count: dimensions)
        for index in 0..<dimensions {
            let base = index * 4
            let bits = UInt32(bytes[base]) | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2]) << 16 | UInt32(bytes[base + 3]) << 24
            let value = Float(bitPattern: bits)
            guard value.isFinite else { return nil }
            vector[index] = value
        }
        return vector
    }
}
