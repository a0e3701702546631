// Atlas — Auth
// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Synchronization

/// Runs password key derivations on dedicated threads, never on Swift's cooperative pool: a
/// 50–100 ms scrypt there would stall every other request's continuation on that thread.
///
/// The number of derivations waiting is bounded, so a burst of logins costs a quick 503 instead
/// of unbounded memory (each scrypt holds tens of MiB) and latency.
final class KDFExecutor: Sendable {
    private let queues: [DispatchQueue]
    private let state = Mutex(State())
    private let maximumPending: Int

    private struct State {
        var next = 0
        var pending = 0
    }

    /// - Parameters:
    ///   - threads: derivations that may run at once.
    ///   - maximumPending: derivations that may wait or run before new ones are refused.
    init(threads: Int, maximumPending: Int) {
        queues = (0..<max(1, threads)).map { DispatchQueue(label: "atlas.auth.kdf.\($0)", qos: .userInitiated) }
        self.maximumPending = max(1, maximumPending)
    }

    /// Runs `work` on one of the executor's threads and returns its result.
    /// - Throws: ``KDFExecutor/Busy`` when too many derivations are already waiting.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let queue: DispatchQueue? = state.withLock { state in
            guard state.pending < maximumPending else { return nil }
            state.pending += 1
            state.next = (state.next + 1) % queues.count
            return queues[state.next]
        }
        guard let queue else { throw Busy() }
        defer { state.withLock { $0.pending -= 1 } }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Too many derivations are waiting.
    struct Busy: Error {}
}
