// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CSystemShims
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

    init(threads: Int, name: String = "atlas-worker") {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        threadCount = max(1, threads)
        jobs.reserveCapacity(1024)
        for index in 0..<threadCount {
            running += 1
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
        pthread_mutex_lock(mutex)
        jobs.append(job)
        let wake = idle > 0
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
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
                pthread_cond_wait(condition, mutex)
                idle -= 1
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
            let more = !jobs.isEmpty && idle > 0
            pthread_mutex_unlock(mutex)
            if more { pthread_cond_signal(condition) }
            for job in batch { job.runSynchronously(on: executor) }
            batch.removeAll(keepingCapacity: true)
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
