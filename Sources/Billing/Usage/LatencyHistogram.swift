// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

/// Latency buckets for p50/p95 from rollups instead of raw events.
///
/// Bucket upper bounds follow the Renard R10 series (1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8 per
/// decade) from 1 ms to 1,000,000 ms; bucket 0 holds `[0, 1)` and the last bucket everything above.
/// Each bucket is at most 26% wider than its lower bound, and a percentile is interpolated linearly
/// inside its bucket, so p50/p95 are within one bucket's width of the exact value.
struct LatencyHistogram: Sendable, Hashable {
    /// Upper bounds (exclusive) in milliseconds; bucket `i` is `[bounds[i-1], bounds[i])`.
    static let bounds: [Double] = {
        let series: [Double] = [1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8]
        var result: [Double] = []
        var scale = 1.0
        for _ in 0..<6 {
            for step in series { result.append(step * scale) }
            scale *= 10
        }
        result.append(1_000_000)
        return result
    }()

    /// Number of buckets, the overflow bucket included.
    static var bucketCount: Int { bounds.count + 1 }

    /// The bucket of a latency.
    static func bucket(for latencyMs: Double) -> Int {
        var low = 0
        var high = bounds.count
        while low < high {
            let middle = (low + high) / 2
            if latencyMs < bounds[middle] { high = middle } else { low = middle + 1 }
        }
        return low
    }

    private(set) var counts: [Int64] = Array(repeating: 0, count: LatencyHistogram.bucketCount)

    var total: Int64 { counts.reduce(0, +) }

    mutating func add(latencyMs: Double) {
        counts[Self.bucket(for: latencyMs)] += 1
    }

    mutating func add(bucket: Int, count: Int64) {
        guard counts.indices.contains(bucket) else { return }
        counts[bucket] += count
    }

    /// The `p`-quantile (0 < p ≤ 1) by nearest rank, interpolated inside its bucket; `nil` when empty.
    func percentile(_ p: Double) -> Double? {
        let total = self.total
        guard total > 0 else { return nil }
        let rank = max(1, Int64((p * Double(total)).rounded(.up)))
        var seen: Int64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            if seen + count >= rank {
                let lower = index == 0 ? 0 : Self.bounds[index - 1]
                guard index < Self.bounds.count else { return lower }
                let upper = Self.bounds[index]
                let fraction = Double(rank - seen) / Double(count)
                return lower + (upper - lower) * fraction
            }
            seen += count
        }
        return nil
    }
}
