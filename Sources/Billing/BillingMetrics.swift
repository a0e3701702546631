// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Counters of the Billing module, read by the telemetry exporter through
/// ``BillingModule/counters()``. A rejected webhook leaves only a log line and one of these.
final class BillingMetrics: @unchecked Sendable {
    // @unchecked: `values` is only touched under `lock`.
    private let lock = NSLock()
    private var values: [Key: Int64] = [:]

    struct Key: Hashable, Sendable {
        var name: String
        var label: String?
    }

    func increment(_ name: String, label: String? = nil, by amount: Int64 = 1) {
        lock.withLock { values[Key(name: name, label: label), default: 0] += amount }
    }

    func value(_ name: String, label: String? = nil) -> Int64 {
        lock.withLock { values[Key(name: name, label: label)] ?? 0 }
    }

    func snapshot() -> [Key: Int64] {
        lock.withLock { values }
    }
}
