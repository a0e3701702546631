// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Logging
import Storage

/// Group commit for usage events: concurrent submissions share one transaction (one fsync), and
/// each submitter returns only after the transaction holding its events has committed.
///
/// Leader/follower, with no background task: a submitter that finds no write in progress becomes
/// the leader and writes its own events plus everything queued so far (up to `maxBatch` events)
/// in one transaction; submitters arriving meanwhile queue up and wait. After the commit the
/// leader hands each follower its receipts and, when more have queued, promotes the oldest waiting
/// submitter to lead the next batch, so no request keeps writing other requests' batches forever.
/// The faster the arrivals, the larger the batches: under 64 concurrent clients one fsync
/// acknowledges dozens of events.
///
/// Durability: with SQLite in WAL mode and `synchronous=FULL` (Storage's default) a commit returns
/// after the log is synced, so an acknowledged event survives `kill -9` and power loss.
final class UsageWriter: @unchecked Sendable {
    // @unchecked: `queue`, `writing` and `closed` are only touched under `lock`.
    private let lock = NSLock()
    private var queue: [Waiter] = []
    private var writing = false
    private var closed = false

    private let database: any Database
    private let maxBatch: Int
    private let logger: Logger
    private let commit: @Sendable (_ events: [UsageEventInput], _ conn: any Connection) throws -> [UsageReceipt]
    private let afterCommit: @Sendable () -> Void

    private struct Waiter {
        var events: [UsageEventInput]
        var continuation: CheckedContinuation<Turn, any Error>
    }

    private enum Turn {
        case written([UsageReceipt])
        case lead
    }

    /// - Parameters:
    ///   - commit: writes one batch inside the open transaction and returns one receipt per event.
    ///   - afterCommit: runs after each committed batch (wakes the outbox worker).
    init(database: any Database, maxBatch: Int, logger: Logger,
         commit: @escaping @Sendable (_ events: [UsageEventInput], _ conn: any Connection) throws -> [UsageReceipt],
         afterCommit: @escaping @Sendable () -> Void = {}) {
        self.database = database
        self.maxBatch = max(1, maxBatch)
        self.logger = logger
        self.commit = commit
        self.afterCommit = afterCommit
    }

    /// Writes `events` durably and returns one receipt per event, in order.
    func submit(_ events: [UsageEventInput]) async throws -> [UsageReceipt] {
        guard !events.isEmpty else { return [] }
        let turn = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Turn, any Error>) in
            lock.lock()
            if closed {
                lock.unlock()
                continuation.resume(throwing: BillingError.unavailable)
            } else if writing {
                queue.append(Waiter(events: events, continuation: continuation))
                lock.unlock()
            } else {
                writing = true
                lock.unlock()
                continuation.resume(returning: .lead)
            }
        }
        switch turn {
        case .written(let receipts):
            return receipts
        case .lead:
            return try await lead(with: events)
        }
    }

    /// Refuses new submissions; batches already queued are still written.
    func close() {
        lock.withLock { closed = true }
    }

    private func lead(with own: [UsageEventInput]) async throws -> [UsageReceipt] {
        let followers: [Waiter] = lock.withLock {
            var taken: [Waiter] = []
            var count = own.count
            while let next = queue.first, count + next.events.count <= maxBatch {
                taken.append(next)
                count += next.events.count
                queue.removeFirst()
            }
            return taken
        }
        var batch = own
        for follower in followers { batch.append(contentsOf: follower.events) }

        let result: Result<[UsageReceipt], any Error>
        do {
            let commit = self.commit
            let events = batch
            result = .success(try await Self.retrying {
                try await self.database.transaction { conn in try commit(events, conn) }
            })
        } catch {
            result = .failure(error)
        }

        switch result {
        case .success(let receipts):
            var offset = own.count
            for follower in followers {
                let slice = Array(receipts[offset..<offset + follower.events.count])
                offset += follower.events.count
                follower.continuation.resume(returning: .written(slice))
            }
            afterCommit()
            handOff()
            return Array(receipts[0..<own.count])
        case .failure(let error):
            logger.error("usage.write_failed", metadata: [
                "usage.batch_events": "\(batch.count)", "error": "\(String(describing: error))",
            ])
            for follower in followers { follower.continuation.resume(throwing: error) }
            handOff()
            throw error
        }
    }

    /// Promotes the oldest waiting submitter to lead the next batch, or ends the write.
    private func handOff() {
        let next: Waiter? = lock.withLock {
            if queue.isEmpty {
                writing = false
                return nil
            }
            return queue.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
    }

    /// Retries a whole transaction that lost a lock race (PostgreSQL serialization failure or
    /// deadlock, SQLite busy): nothing of it was committed, so running it again is safe.
    private static func retrying<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch StorageError.serializationFailure where attempt < 3 {
                attempt += 1
            } catch StorageError.busy where attempt < 3 {
                attempt += 1
            }
            try await Task.sleep(for: .milliseconds(5 << attempt))
        }
    }
}
