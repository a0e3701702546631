// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Storage

/// Counts semantic-cache hits (`ai_semantic_cache.hits`, `last_hit_at`) without a write on the
/// lookup's path: a hit is confirmed by a read, and its count is added in memory and written with
/// the other hits of the next ``delay`` in one transaction per tenant. Durably counting every hit
/// inline would put a commit (an fsync on SQLite) in front of every cached answer.
///
/// A lookup still reports the exact count: the stored count it read plus the hits not yet written.
/// It notes the flush epoch before its read and adds its hit only if no flush took a batch
/// meanwhile (else its read may or may not include that batch, and it reads again), and it waits
/// for a flush in progress before reading. Hits of the last ``delay`` are lost if the process
/// dies: they are statistics, not answers.
final class CacheHitCounter: @unchecked Sendable {
    // @unchecked: the mutable state is only touched while `lock` is held.
    private struct Pending {
        var count: Int64
        var last: Date
        var generation: Int64
    }

    let database: any Database
    let logger: Logger
    let delay: Duration

    private let lock = NSLock()
    private var pending: [String: [String: Pending]] = [:]
    private var epoch: UInt64 = 0
    private var scheduled = false
    private var inFlight: (token: UInt64, task: Task<Void, Never>)?

    init(database: any Database, logger: Logger, delay: Duration = .milliseconds(200)) {
        self.database = database
        self.logger = logger
        self.delay = delay
    }

    /// What a lookup notes before it reads an entry: the epoch, once no flush is writing.
    func epochBeforeRead() async -> UInt64 {
        while true {
            let (current, writing) = lock.withLock { (epoch, inFlight?.task) }
            guard let writing else { return current }
            await writing.value
        }
    }

    /// Adds a hit of entry `id` read as of `epoch`; returns the hits of the entry not yet written
    /// (this one included), or `nil` when a flush took a batch since `epoch` (read again).
    func add(tenant: String, id: String, generation: Int64, at date: Date, readAt epoch: UInt64) -> Int64? {
        let (count, schedule): (Int64?, Bool) = lock.withLock {
            guard self.epoch == epoch else { return (nil, false) }
            var entry = pending[tenant, default: [:]][id] ?? Pending(count: 0, last: date, generation: generation)
            if entry.generation != generation { entry = Pending(count: 0, last: date, generation: generation) }
            entry.count += 1
            entry.last = max(entry.last, date)
            pending[tenant, default: [:]][id] = entry
            let schedule = !scheduled
            scheduled = true
            return (entry.count, schedule)
        }
        if schedule {
            Task { [self] in
                try? await Task.sleep(for: delay)
                await flush()
            }
        }
        return count
    }

    /// Writes every hit counted so far, after any write in progress.
    func flush() async {
        while let writing = lock.withLock({ inFlight?.task }) { await writing.value }
        let task: Task<Void, Never>? = lock.withLock {
            guard !pending.isEmpty else { return nil }
            let batch = pending
            pending = [:]
            scheduled = false
            epoch += 1
            let token = epoch
            let task = Task { [self] in
                await write(batch)
                lock.withLock {
                    if inFlight?.token == token { inFlight = nil }
                }
            }
            inFlight = (token, task)
            return task
        }
        await task?.value
    }

    private func write(_ batch: [String: [String: Pending]]) async {
        for (tenant, entries) in batch {
            do {
                try await database.transaction(tenant: tenant) { conn in
                    for (id, hits) in entries.sorted(by: { $0.key < $1.key }) {
                        try conn.execute("""
                            UPDATE ai_semantic_cache SET hits = hits + \(hits.count), last_hit_at = \(hits.last) \
                            WHERE tenant_id = \(tenant) AND id = \(id) AND generation = \(hits.generation)
                            """)
                    }
                }
            } catch {
                logger.warning("ai.cache.hits_not_recorded", metadata: ["tenant.id": "\(tenant)", "error": "\(error)"])
            }
        }
    }
}
