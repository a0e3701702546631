// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization

/// A small in-process cache whose entries expire after a fixed time, bounded in size.
///
/// Auth keeps authentication and membership look-ups here for a second or so, so a busy client
/// does not cost two database reads per request. Every change this process makes removes the
/// entries it affects at once; other processes (several instances on one PostgreSQL) see a change
/// within the time to live. A time to live of zero disables the cache.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var expires: Date
    }

    private let entries = Mutex<[Key: Entry]>([:])
    private let timeToLive: TimeInterval
    private let capacity: Int

    init(timeToLive: TimeInterval, capacity: Int) {
        self.timeToLive = timeToLive
        self.capacity = max(1, capacity)
    }

    var isEnabled: Bool { timeToLive > 0 }

    func value(for key: Key, now: Date) -> Value? {
        guard isEnabled else { return nil }
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    /// Stores `value` until `now + timeToLive`, or until `notAfter` when that comes first.
    func store(_ value: Value, for key: Key, now: Date, notAfter: Date? = nil) {
        guard isEnabled else { return }
        var expires = now.addingTimeInterval(timeToLive)
        if let notAfter, notAfter < expires { expires = notAfter }
        entries.withLock { entries in
            if entries.count >= capacity {
                // Expired entries go first; if that frees too little, start over: a miss costs one read.
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(value: value, expires: expires)
        }
    }

    func remove(where predicate: (Key, Value) -> Bool) {
        entries.withLock { entries in
            entries = entries.filter { !predicate($0.key, $0.value.value) }
        }
    }

    func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
