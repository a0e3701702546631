// Atlas — Telemetry
// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Trace and span ids for every request without a system call each: SplitMix64 (Steele, Lea and
/// Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) over one shared atomic
/// counter seeded from the system's generator at start; each generator reserves a few steps of
/// the counter at once, so no two generators draw the same value. Ids must be unique and unpredictable
/// enough to not collide across services (w3.org/TR/trace-context-2/#randomness-of-trace-id),
/// not secret; `getrandom` for each id cost a tenth of a traced request's time.
struct SpanIDGenerator: RandomNumberGenerator {
    private static let state = Atomic<UInt64>({
        var system = SystemRandomNumberGenerator()
        return system.next()
    }())

    private static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
    /// Draws reserved from the shared counter at a time: a span needs up to four (sampling,
    /// trace id, span id), and each atomic add is a locked instruction on the event loop.
    private static let reserved: UInt64 = 4
    private var counter: UInt64 = 0
    private var left: UInt64 = 0

    mutating func next() -> UInt64 {
        if left == 0 {
            counter = Self.state.wrappingAdd(Self.gamma &* Self.reserved, ordering: .relaxed).newValue &- Self.gamma &* Self.reserved
            left = Self.reserved
        }
        counter &+= Self.gamma
        left -= 1
        var z = counter
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A draw that is never 0: W3C reserves all-zero trace and span ids as invalid.
    mutating func nonZero() -> UInt64 {
        let word = next()
        return word == 0 ? 1 : word
    }
}
