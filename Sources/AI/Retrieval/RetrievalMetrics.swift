// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Counters of retrieval and the semantic cache, read through ``AIModule/counters()`` by the
/// metrics endpoint (names there get the `atlas_ai_` prefix).
final class RetrievalMetrics: @unchecked Sendable {
    // @unchecked: `values` is only touched while `lock` is held.
    private let lock = NSLock()
    private var values: [Key: Int64] = [:]

    struct Key: Hashable, Sendable {
        var name: String
        var label: String?
    }

    func increment(_ name: String, label: String? = nil, by amount: Int64 = 1) {
        guard amount != 0 else { return }
        lock.withLock { values[Key(name: name, label: label), default: 0] += amount }
    }

    func value(_ name: String, label: String? = nil) -> Int64 {
        lock.withLock { values[Key(name: name, label: label)] ?? 0 }
    }

    func snapshot() -> [Key: Int64] {
        lock.withLock { values }
    }
}
