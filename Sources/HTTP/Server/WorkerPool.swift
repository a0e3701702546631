// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CSystemShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Threads that run async handlers, as a Swift `TaskExecutor`.
///
/// Tasks started with this executor as their preference run their non-isolated code here instead
/// of on Swift's global pool: the event loop enqueues a job with one uncontended lock, a worker
/// is woken only when one sleeps, and a worker takes a share of the queued jobs per lock. Blocking
/// database calls still belong on their own executors (Storage's connection actors); these threads
/// only run handler code between awaits.
final class WorkerPool: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs`, `idle`, `stopping` and `running` are only touched with `mutex` held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var jobs: [UnownedJob] = []
    private var idle = 0
    private var stopping = false
    private var running = 0
    private let threadCount: Int
    /// Copies of `jobs.count` and `idle`, stored with `mutex` held and read without it by event
    /// loops deciding where the next handler starts (``HandlerPlacement``).
    private let queuedSnapshot = Atomic<Int>(0)
    private let idleSnapshot = Atomic<Int>(0)

    /// Jobs queued and not yet taken by a worker (a snapshot; it may change at once).
    var queuedJobs: Int { queuedSnapshot.load(ordering: .relaxed) }
    /// Workers asleep for want of jobs (a snapshot).
    var idleWorkers: Int { idleSnapshot.load(ordering: .relaxed) }

    init(threads: Int, name: String = "atlas-worker") {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        threadCount = max(1, threads)
        jobs.reserveCapacity(1024)
        running = threadCount
        for index in 0..<threadCount {
            ThreadLauncher.start(name: "\(name)-\(index)") { [self] in work() }
        }
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // On an event-loop thread, collect the job into the loop's batch; the loop submits the
        // batch with one lock and at most one wake-up per round.
        if let context = atlas_get_thread_context() {
            let batch = Unmanaged<JobBatch>.fromOpaque(context).takeUnretainedValue()
            if batch.pool === self {
                batch.jobs.append(job)
                return
            }
        }
        pthread_mutex_lock(mutex)
        jobs.append(job)
        queuedSnapshot.store(jobs.count, ordering: .relaxed)
        let wake = idle > 0
        // A task that outlives the server (a cancelled handler waking up) still has to finish:
        // after shutdown, a short-lived thread drains the queue and exits.
        let revive = stopping && running == 0
        if revive { running += 1 }
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
        if revive { ThreadLauncher.start(name: "atlas-worker-late") { [self] in work() } }
    }

    /// Queues every job of `batch` and wakes as many sleeping workers as there is work for.
    func submit(_ batch: JobBatch) {
        guard !batch.jobs.isEmpty else { return }
        pthread_mutex_lock(mutex)
        jobs.append(contentsOf: batch.jobs)
        queuedSnapshot.store(jobs.count, ordering: .relaxed)
        let wake = min(idle, batch.jobs.count)
        let revive = stopping && running == 0
        if revive { running += 1 }
        pthread_mutex_unlock(mutex)
        batch.jobs.removeAll(keepingCapacity: true)
        for _ in 0..<wake { pthread_cond_signal(condition) }
        if revive { ThreadLauncher.start(name: "atlas-worker-late") { [self] in work() } }
    }

    /// Lets the threads exit once the queue is empty. Jobs enqueued later still run: the last
    /// thread keeps serving until it finds the queue empty.
    func shutdown() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(condition)
    }

    private func work() {
        var batch: [UnownedJob] = []
        batch.reserveCapacity(64)
        let executor = asUnownedTaskExecutor()
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !stopping {
                idle += 1
                idleSnapshot.store(idle, ordering: .relaxed)
                pthread_cond_wait(condition, mutex)
                idle -= 1
                idleSnapshot.store(idle, ordering: .relaxed)
            }
            if jobs.isEmpty {
                running -= 1
                pthread_mutex_unlock(mutex)
                return
            }
            // Take a fair share so that other workers find work too.
            let share = max(1, min(64, jobs.count / threadCount))
            batch.append(contentsOf: jobs[0..<share])
            jobs.removeFirst(share)
            queuedSnapshot.store(jobs.count, ordering: .relaxed)
            let more = !jobs.isEmpty && idle > 0
            pthread_mutex_unlock(mutex)
            if more { pthread_cond_signal(condition) }
            for job in batch { job.runSynchronously(on: executor) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

/// Jobs an event loop started during one round, submitted to the pool together at its end.
/// Owned by one loop thread and reached through that thread's ``atlas_get_thread_context()``.
///
/// It also receives the response of a handler the loop starts on its own thread
/// (`Task.immediate`): if the handler finishes without suspending, it finishes on this thread,
/// and hands its response here instead of posting it through the loop's mailbox.
final class JobBatch {
    let pool: WorkerPool
    var jobs: [UnownedJob] = []
    private var expected: (connection: ConnectionID, sequence: UInt32)?
    private var delivered: (response: Response, requestID: String?)?

    init(pool: WorkerPool) {
        self.pool = pool
        jobs.reserveCapacity(256)
    }

    /// Makes this batch the calling thread's.
    func install() {
        atlas_set_thread_context(Unmanaged.passUnretained(self).toOpaque())
    }

    static func uninstall() {
        atlas_set_thread_context(nil)
    }

    /// Marks the handler about to start on this thread, whose response ``deliver(_:_:_:_:)`` may take.
    func expect(_ connection: ConnectionID, _ sequence: UInt32) {
        expected = (connection, sequence)
    }

    /// The response delivered while the expected handler ran; clears the expectation.
    func takeDelivered() -> (response: Response, requestID: String?)? {
        expected = nil
        defer { delivered = nil }
        return delivered
    }

    /// Hands a finished handler's response to the loop it started on, if the handler is still
    /// running within that start (on the loop's thread); `false` means it must be posted.
    static func deliver(_ connection: ConnectionID, _ sequence: UInt32, _ response: Response,
                        _ requestID: String?) -> Bool {
        guard let context = atlas_get_thread_context() else { return false }
        let batch = Unmanaged<JobBatch>.fromOpaque(context).takeUnretainedValue()
        guard let expected = batch.expected, expected.connection == connection, expected.sequence == sequence
        else { return false }
        batch.expected = nil
        batch.delivered = (response, requestID)
        return true
    }
}

/// Where an event loop starts a read handler: on its own thread (`Task.immediate`, no hand-off
/// and, if the handler never suspends, no wake-up either) or on a worker.
///
/// A loop that found one ready connection in a round keeps the handler: nothing else waits for
/// it. A busy loop hands its handlers to the workers, so that the loop does the I/O while a
/// second core runs handlers. It hands over a share of them, spread evenly over the requests,
/// which starts at all of them. At the end of each round in which it handed any over, the share
/// shrinks when the workers fell behind by more than a round (jobs still queued outnumber those
/// the loop handed over in its previous round), and grows back when they keep up (nothing
/// queued, or a worker asleep). A queue that holds only the last round's jobs is no sign of
/// overload: on a machine whose cores are all busy a worker may simply not have been scheduled
/// yet, and taking the handlers back would leave the loop with all the work (bench/RESULTS.md).
/// When there are as many loops as cores, no core is left for the workers to use, and the loops
/// keep every read handler.
struct HandlerPlacement {
    /// Sixteenths of a busy round's eligible handlers that go to the workers.
    static let scale = 16
    private(set) var share = scale
    private var credit = 0
    /// Handlers handed over in this round and in the round before.
    private var handedOff = 0
    private var handedOffBefore = 0
    private let sharing: Bool

    /// `sharing`: whether a busy loop hands read handlers to the workers at all.
    init(sharing: Bool = true) {
        self.sharing = sharing
    }

    /// Whether the next eligible handler goes to a worker; `busy` when the round has more than
    /// one ready connection.
    mutating func handOff(busy: Bool) -> Bool {
        guard sharing, busy else { return false }
        credit += share
        guard credit >= Self.scale else { return false }
        credit -= Self.scale
        handedOff += 1
        return true
    }

    /// Adjusts the share from the pool's state at the end of a round, before this round's jobs
    /// are submitted (so `queuedJobs` counts only earlier rounds' jobs).
    mutating func endRound(idleWorkers: Int, queuedJobs: Int) {
        // A share of zero hands nothing over and would never learn that the workers keep up.
        guard handedOff > 0 || share == 0 else { return }
        defer {
            handedOffBefore = handedOff
            handedOff = 0
        }
        if queuedJobs > handedOffBefore {
            share = max(0, share - 1)
        } else if queuedJobs == 0 || idleWorkers > 0 {
            share = min(Self.scale, share + 1)
        }
    }
}

/// Starts a detached POSIX thread running a closure. A C thread entry cannot capture, so the
/// closure travels as an `Unmanaged` box through the thread argument.
enum ThreadLauncher {
    private final class Box {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    static func start(name: String, _ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
            atlas_set_thread_name(box.name)
            box.body()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed (\(result))")
        pthread_detach(thread)
    }
}
