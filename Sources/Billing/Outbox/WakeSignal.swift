// Atlas — Billing
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Wakes one waiting task early: `signal()` ends the current or next `wait(timeout:)`.
/// Signals while nobody waits are remembered once (they coalesce).
final class WakeSignal: @unchecked Sendable {
    // @unchecked: `pending` and `waiter` are only touched under `lock`.
    private let lock = NSLock()
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?

    func signal() {
        let waiting: CheckedContinuation<Void, Never>? = lock.withLock {
            if let waiter {
                self.waiter = nil
                return waiter
            }
            pending = true
            return nil
        }
        waiting?.resume()
    }

    /// Returns at the first of: a signal, `timeout`, cancellation.
    func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if pending || Task.isCancelled {
                    pending = false
                    lock.unlock()
                    continuation.resume()
                    return
                }
                // One waiter at a time: the outbox worker's loop.
                let previous = waiter
                waiter = continuation
                lock.unlock()
                previous?.resume()
            }
        } onCancel: {
            let waiting: CheckedContinuation<Void, Never>? = lock.withLock {
                defer { waiter = nil }
                return waiter
            }
            waiting?.resume()
        }
    }
}
