// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A running handler's task as its connection's slot holds it: the loop can cancel it while it
/// runs (the client went away), and the handler lets go of it when it ends, on the thread it ends
/// on.
///
/// Why not keep the `Task` itself in the slot: the loop would then drop the last reference when
/// it takes the response, and the task would be freed on the loop's thread. The task's frames
/// were allocated on the worker that ran it, so with glibc's malloc every such free takes the
/// worker's arena lock while the worker allocates the next handler's frames; under load the two
/// threads then wait on each other in `malloc` and `free` (about 12% fewer authenticated reads a
/// second, bench/RESULTS.md). Ending the handle on the worker leaves the runtime's own reference,
/// dropped where the task completes, as the last one.
final class HandlerTask: Sendable {
    private enum State {
        /// Created; the task is not attached yet.
        case starting
        case running(Task<Void, Never>)
        case finished
        case cancelled
    }

    private let state = Mutex<State>(.starting)

    init() {}

    /// Keeps `task` for ``cancel()``, unless the handler already ended (then it is not kept) or
    /// was cancelled (then the task is cancelled now).
    func attach(_ task: Task<Void, Never>) {
        let cancelNow = state.withLock { state -> Bool in
            switch state {
            case .starting:
                state = .running(task)
                return false
            case .cancelled:
                return true
            case .running, .finished:
                return false
            }
        }
        if cancelNow { task.cancel() }
    }

    /// Called by the handler's task as its last step: drops the handle's reference here.
    func finish() {
        state.withLock { state in
            if case .cancelled = state { return }
            state = .finished
        }
    }

    /// Cancels the task if it still runs; a task attached later is cancelled when attached.
    func cancel() {
        let task = state.withLock { state -> Task<Void, Never>? in
            switch state {
            case .running(let task):
                state = .cancelled
                return task
            case .starting:
                state = .cancelled
                return nil
            case .finished, .cancelled:
                return nil
            }
        }
        task?.cancel()
    }
}
