// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

/// Deterministic, non-cryptographic hashing for feature hashing and content-derived ids.
///
/// Swift's `Hasher` is seeded per process, so it cannot give ids or embeddings that are the
/// same on every run. These functions are FNV-1a (Fowler–Noll–Vo, 64-bit parameters from
/// draft-eastlake-fnv) followed by the SplitMix64 finaliser for avalanche. They are not
/// collision-resistant against an adversary and are never used where that matters: a document id
/// only names a document inside its own tenant.
enum StableHash {
    static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01B3

    /// FNV-1a over `bytes`, starting from `seed`, then mixed.
    @inline(__always)
    static func hash<S: Sequence>(_ bytes: S, seed: UInt64 = offsetBasis) -> UInt64 where S.Element == UInt8 {
        var state = seed
        for byte in bytes {
            state ^= UInt64(byte)
            state = state &* prime
        }
        return mix(state)
    }

    /// FNV-1a of a string's UTF-8 bytes, mixed.
    @inline(__always)
    static func hash(_ text: String, seed: UInt64 = offsetBasis) -> UInt64 {
        var text = text
        return text.withUTF8 { hash($0, seed: seed) }
    }

    /// The SplitMix64 finaliser: every input bit affects every output bit.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Combines two hashes, order-sensitively.
    @inline(__always)
    static func combine(_ first: UInt64, _ second: UInt64) -> UInt64 {
        mix(first &* 0x9E37_79B9_7F4A_7C15 ^ (second &+ 0x632B_E59B_D9B4_E019))
    }

    /// A 128-bit digest as 32 lower-case hex digits: two independently seeded lanes.
    static func hex128(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let high = hash(bytes, seed: offsetBasis)
        let low = hash(bytes, seed: mix(offsetBasis ^ 0x5851_F42D_4C95_7F2D) ^ UInt64(bytes.count))
        return hex(high) + hex(low)
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
