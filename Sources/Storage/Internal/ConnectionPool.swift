// Atlas — Storage
// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Dispatch
import Foundation

/// A bounded pool: at most `maxSize` resources exist at once (idle, in use or being created).
/// Resources are created lazily; a caller that finds none free waits, suspended on a continuation,
/// until one is released or `timeout` passes (``StorageError/timeout``).
///
/// A lock rather than an actor guards the state so the cancellation handler can remove a waiter
/// synchronously; nothing blocking happens while it is held.
final class ConnectionPool<Resource: Sendable>: @unchecked Sendable {
    private enum Grant {
        case resource(Resource)
        /// A free slot: the caller creates the resource itself.
        case slot
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Grant, any Error>
    }

    let maxSize: Int
    private let timeout: Duration
    private let create: @Sendable () async throws -> Resource
    private let destroy: @Sendable (Resource) async -> Void
    private let metrics: PoolMetrics?

    private let lock = NSLock()
    private var idle: [Resource] = []
    private var count = 0
    private var waiters: [Waiter] = []
    private var nextWaiterID: UInt64 = 0
    private var closed = false

    init(maxSize: Int, timeout: Duration,
         create: @escaping @Sendable () async throws -> Resource,
         destroy: @escaping @Sendable (Resource) async -> Void, metrics: PoolMetrics? = nil) {
        precondition(maxSize > 0)
        self.metrics = metrics
        self.maxSize = maxSize
        self.timeout = timeout
        self.create = create
        self.destroy = destroy
    }

    /// Resources that exist now (idle, in use or being created), and callers waiting.
    var stats: (open: Int, idle: Int, waiting: Int) {
        lock.withLock { (count, idle.count, waiters.count) }
    }

    func acquire() async throws -> Resource {
        switch try await obtain() {
        case .resource(let resource):
            metrics?.inUse.increment()
            return resource
        case .slot:
            do {
                let resource = try await create()
                metrics?.inUse.increment()
                return resource
            } catch {
                freeSlot()
                throw error
            }
        }
    }

    /// Returns a resource. A broken one (`reusable == false`) is destroyed and its slot handed to
    /// the next waiter, who then opens a fresh one: this is how the pool recovers after the server
    /// restarts.
    func release(_ resource: Resource, reusable: Bool) async {
        metrics?.inUse.decrement()
        guard reusable else {
            await destroy(resource)
            freeSlot()
            return
        }
        let handedOver: Bool = lock.withLock {
            if closed { return false }
            if !waiters.isEmpty {
                waiters.removeFirst().continuation.resume(returning: .resource(resource))
            } else {
                idle.append(resource)
            }
            return true
        }
        if !handedOver {
            await destroy(resource)
            freeSlot()
        }
    }

    /// Fails every waiter and destroys idle resources; resources in use are destroyed on release.
    func close() async {
        let (idleResources, pending): ([Resource], [Waiter]) = lock.withLock {
            closed = true
            defer { idle.removeAll(); waiters.removeAll() }
            count -= idle.count
            return (idle, waiters)
        }
        for waiter in pending {
            waiter.continuation.resume(throwing: StorageError(.unavailable, "the database was closed"))
        }
        for resource in idleResources { await destroy(resource) }
    }

    private func freeSlot() {
        lock.withLock {
            if !closed, !waiters.isEmpty {
                waiters.removeFirst().continuation.resume(returning: .slot)
            } else {
                count -= 1
            }
        }
    }

    private func obtain() async throws -> Grant {
        // The common case, an idle resource or a free slot, is served without a continuation or a
        // cancellation handler: neither can matter to a caller that does not wait.
        try Task.checkCancellation()
        let immediate: Grant?? = lock.withLock {
            if closed { return .some(nil) }
            if let resource = idle.popLast() { return .resource(resource) }
            if count < maxSize {
                count += 1
                return .slot
            }
            return nil
        }
        switch immediate {
        case .some(.some(let grant)): return grant
        case .some(.none): throw StorageError(.unavailable, "the database was closed")
        case .none: break
        }
        let id: UInt64 = lock.withLock {
            nextWaiterID += 1
            return nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let waiting: Bool = lock.withLock {
                    if closed {
                        continuation.resume(throwing: StorageError(.unavailable, "the database was closed"))
                    } else if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else if let resource = idle.popLast() {
                        continuation.resume(returning: .resource(resource))
                    } else if count < maxSize {
                        count += 1
                        continuation.resume(returning: .slot)
                    } else {
                        waiters.append(Waiter(id: id, continuation: continuation))
                        return true
                    }
                    return false
                }
                if waiting {
                    metrics?.waits.increment()
                    let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
                    DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in
                        guard let self else { return }
                        if fail(id, StorageError(
                            .timeout, "no database connection became free within \(seconds) s (pool size \(maxSize))")) {
                            metrics?.timeouts.increment()
                        }
                    }
                }
            }
        } onCancel: {
            fail(id, CancellationError())
        }
    }

    /// Fails the waiter `id` if it still waits; `false` when it was served or failed already.
    @discardableResult
    private func fail(_ id: UInt64, _ error: any Error) -> Bool {
        let waiter: Waiter? = lock.withLock {
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
        return waiter != nil
    }
}
