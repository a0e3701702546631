// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import Logging
public import ServiceLifecycle
import Synchronization

/// The HTTP/1.1 server: a swift-service-lifecycle `Service` over epoll event loops.
///
/// `run()` binds, serves until graceful shutdown (or cancellation), then stops accepting, lets
/// in-flight requests finish within ``Configuration/shutdownTimeout``, closes what is left and
/// returns.
///
/// ```swift
/// let configuration = try HTTPServer.Configuration(environment: EnvironmentReader())
/// let router = Router()
/// router.useStandardMiddleware(configuration: configuration)
/// router.inline.get("/health/live") { _, _ in .json(rawJSON: #"{"status":"ok"}"#) }
/// let server = HTTPServer(router: router, configuration: configuration, logger: logger)
/// let group = ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
/// try await group.run()
/// ```
///
/// Threading: ``Configuration/eventLoops`` threads each own an epoll set, a listening socket
/// (`SO_REUSEPORT`) and their connections. Inline routes run on those threads. Async routes run
/// as tasks on ``Configuration/workerThreads`` worker threads (or Swift's global executor when 0)
/// and hand their responses back through a batched completion queue.
public final class HTTPServer: Service, Sendable {
    private struct State {
        var started = false
        var finished = false
        var port: Int?
        var waiters: [CheckedContinuation<Int, any Error>] = []
        var mailboxes: [LoopMailbox] = []
        var shutdownDeadline: UInt64?
        var core: ServerCore?
    }

    /// The configuration the server was created with.
    public let configuration: Configuration
    private let router: Router
    private let logger: Logger
    private let onListening: (@Sendable (Int) -> Void)?
    private let state = Mutex(State())

    /// Creates a server for `router`. Nothing is bound until ``run()``.
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public init(router: Router, configuration: Configuration = Configuration(),
                logger: Logger = Logger(label: "atlas.http"), onListening: (@Sendable (Int) -> Void)? = nil) {
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
    }

    /// The port the server listens on, once it does (useful with port 0). Throws
    /// ``HTTPServerError/notRunning`` if the server stops or fails before listening.
    public var listeningPort: Int {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                state.withLock { state in
                    if let port = state.port {
                        continuation.resume(returning: port)
                    } else if state.finished {
                        continuation.resume(throwing: HTTPServerError.notRunning)
                    } else {
                        state.waiters.append(continuation)
                    }
                }
            }
        }
    }

    /// Client connections open now, across all event loops (0 before ``run()`` binds); read at
    /// scrape time for `atlas_http_open_connections`.
    public var openConnections: Int {
        state.withLock { $0.core }?.openConnections.load(ordering: .relaxed) ?? 0
    }

    /// Starts a graceful shutdown, as a service group's graceful shutdown would.
    public func shutdownGracefully() {
        beginShutdown(after: configuration.shutdownTimeout)
    }

    public func run() async throws {
        let alreadyStarted = state.withLock { state in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { throw HTTPServerError.alreadyStarted }

        SocketProcess.prepare()
        SocketProcess.raiseDescriptorLimit(toAtLeast: configuration.maxConnections + 256)

        let loops: [EventLoop]
        let port: Int
        let pool = configuration.workerThreads > 0 ? WorkerPool(threads: configuration.workerThreads) : nil
        do {
            (loops, port) = try makeLoops(pool: pool)
        } catch {
            pool?.shutdown()
            finish()
            throw error
        }

        let exits = ExitCounter(count: loops.count)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    exits.onAllExited { done.resume() }
                    for loop in loops {
                        ThreadLauncher.start(name: "atlas-loop-\(loop.index)") {
                            loop.run()
                            exits.exited()
                        }
                    }
                    let (waiters, pendingShutdown) = state.withLock { state in
                        state.port = port
                        state.mailboxes = loops.map(\.mailbox)
                        defer { state.waiters = [] }
                        return (state.waiters, state.shutdownDeadline)
                    }
                    if let pendingShutdown {
                        for loop in loops { loop.mailbox.post(.shutdown(deadline: pendingShutdown)) }
                    }
                    logger.info("listening", metadata: [
                        "http.host": .string(configuration.host), "http.port": .stringConvertible(port),
                        "http.event_loops": .stringConvertible(loops.count),
                        "http.workers": .stringConvertible(configuration.workerThreads)])
                    for waiter in waiters { waiter.resume(returning: port) }
                    onListening?(port)
                }
            } onGracefulShutdown: {
                self.beginShutdown(after: self.configuration.shutdownTimeout)
            }
        } onCancel: {
            self.beginShutdown(after: .zero)
        }
        pool?.shutdown()
        finish()
        logger.info("stopped", metadata: ["http.port": .stringConvertible(port)])
    }

    private func makeLoops(pool: WorkerPool?) throws -> ([EventLoop], Int) {
        let core = ServerCore(configuration: configuration,
                              responder: Responder(router: router.compile(), logger: logger),
                              executor: pool, logger: logger)
        state.withLock { $0.core = core }
        var listeners: [Socket] = []
        do {
            let count = max(1, configuration.eventLoops)
            let first = try Socket.listen(host: configuration.host, port: configuration.port,
                                          backlog: configuration.backlog, reusePort: count > 1)
            listeners.append(first)
            let port = try first.localPort()
            for _ in 1..<count {
                listeners.append(try Socket.listen(host: configuration.host, port: port,
                                                   backlog: configuration.backlog, reusePort: true))
            }
            var loops: [EventLoop] = []
            for (index, listener) in listeners.enumerated() {
                loops.append(try EventLoop(index: index, core: core, listener: listener))
            }
            return (loops, port)
        } catch {
            listeners.forEach { $0.close() }
            throw error
        }
    }

    private func beginShutdown(after grace: Duration) {
        let deadline = SystemClock.monotonicNanos() + ServerCore.nanos(grace)
        let mailboxes = state.withLock { state in
            state.shutdownDeadline = min(state.shutdownDeadline ?? .max, deadline)
            return state.mailboxes
        }
        for mailbox in mailboxes { mailbox.post(.shutdown(deadline: deadline)) }
    }

    private func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            state.port = nil
            state.mailboxes = []
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: HTTPServerError.notRunning) }
    }
}

/// Counts event-loop threads down to zero and then calls back once.
private final class ExitCounter: Sendable {
    private let state: Mutex<(remaining: Int, callback: (@Sendable () -> Void)?)>

    init(count: Int) {
        state = Mutex((count, nil))
    }

    func onAllExited(_ callback: @escaping @Sendable () -> Void) {
        state.withLock { $0.callback = callback }
    }

    func exited() {
        let callback = state.withLock { state -> (@Sendable () -> Void)? in
            state.remaining -= 1
            return state.remaining == 0 ? state.callback : nil
        }
        callback?()
    }
}
