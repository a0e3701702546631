// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CSystemShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own for steady background work (an exporter's batches) that should neither
/// borrow nor wake Swift's concurrency pool: it sleeps in `poll` on an eventfd until it is rung
/// or a timeout passes.
///
/// Waking a pool thread per batch (`Task.sleep`, a dispatch queue per post) cost a context switch
/// or two each time, and a timer wheel besides; here a producer rings only when it has a batch
/// ready, and the thread otherwise wakes when its own timeout says so.
///
/// ```swift
/// let thread = try BackgroundThread(name: "atlas-otlp") { thread in
///     while !thread.isStopping { exportReadyBatches(); thread.sleep(milliseconds: 5_000) }
/// }
/// // A producer with a batch ready:
/// thread.ring()
/// // At shutdown:
/// await thread.stop()
/// ```
public final class BackgroundThread: Sendable {
    private let bell: WakeupSignal
    private let stopping = Atomic<Bool>(false)
    private let finished = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Starts the thread, which runs `body` once; `body` should return soon after ``isStopping``
    /// turns true.
    public init(name: String, _ body: @escaping @Sendable (BackgroundThread) -> Void) throws(SocketError) {
        bell = try WakeupSignal()
        ThreadLauncher.start(name: name) { [self] in
            body(self)
            let waiters = finished.withLock { state in
                state.done = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    deinit {
        bell.close()
    }

    /// Wakes the thread if it sleeps, or makes its next ``sleep(milliseconds:)`` return at once.
    public func ring() {
        bell.signal()
    }

    /// Sleeps until rung or until `milliseconds` have passed; true when it was rung.
    @discardableResult
    public func sleep(milliseconds: Int) -> Bool {
        let ready = atlas_poll_one(bell.fd, 0, Int32(clamping: max(0, milliseconds)))
        return ready > 0 && atlas_eventfd_drain(bell.fd) != 0
    }

    /// True once ``stop()`` was called.
    public var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Asks the thread to stop and waits until its body has returned.
    public func stop() async {
        stopping.store(true, ordering: .releasing)
        ring()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = finished.withLock { state -> Bool in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}
