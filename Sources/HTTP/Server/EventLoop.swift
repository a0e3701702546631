// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

internal import CSystemShims
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What every event loop of one server shares; immutable apart from the connection counter.
final class ServerCore: Sendable {
    let configuration: HTTPServer.Configuration
    let responder: Responder
    let executor: WorkerPool?
    let logger: Logger
    let openConnections = Atomic<Int>(0)

    let headerTimeout: UInt64
    let bodyTimeout: UInt64
    let idleTimeout: UInt64
    let lingerTimeout: UInt64 = 2_000_000_000
    let sweepInterval: UInt64
    /// Output bytes above which a connection stops parsing new requests and stream writers wait.
    let highWater = 1 << 20

    init(configuration: HTTPServer.Configuration, responder: Responder, executor: WorkerPool?, logger: Logger) {
        self.configuration = configuration
        self.responder = responder
        self.executor = executor
        self.logger = logger
        headerTimeout = Self.nanos(configuration.headerTimeout)
        bodyTimeout = Self.nanos(configuration.bodyTimeout)
        idleTimeout = Self.nanos(configuration.idleTimeout)
        // Deadlines are checked by a sweep; run it often enough for the shortest timeout.
        let shortest = min(headerTimeout, bodyTimeout, idleTimeout)
        sweepInterval = min(1_000_000_000, max(5_000_000, shortest / 4))
    }

    static func nanos(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds)) / 1_000_000_000
    }

    /// Starts a task for handler work, on the worker threads when there are any.
    func spawn(_ operation: sending @escaping @concurrent () async -> Void) -> Task<Void, Never> {
        Task(executorPreference: executor, operation: operation)
    }
}

/// One event-loop thread: its epoll set, its listening socket and its connections.
///
/// Per round: one `epoll_wait`; for each ready connection, reads until the socket is drained,
/// parses every complete request in the buffer, answers inline routes at once and hands async
/// routes to tasks; then one `send` per connection with output. Completions from tasks arrive
/// through the ``LoopMailbox``. Deadlines are enforced by a periodic sweep.
///
/// Mutable state is confined to the loop thread and marked `@exclusivity(unchecked)` for the same
/// reason as ``Connection``'s.
final class EventLoop {
    static let listenerToken = UInt64.max
    static let wakeupToken = UInt64.max - 1

    let index: Int
    let core: ServerCore
    let queue: EventQueue
    let mailbox: LoopMailbox
    @exclusivity(unchecked) private var listener: Socket?
    @exclusivity(unchecked) private var listenerPaused = false
    @exclusivity(unchecked) private var connections: [Connection?] = []
    @exclusivity(unchecked) private var openCount = 0
    @exclusivity(unchecked) private var generation: UInt32 = 0
    @exclusivity(unchecked) private var now: UInt64 = 0
    @exclusivity(unchecked) private var date = EventLoopDate()
    @exclusivity(unchecked) private var messages: [LoopMessage] = []
    @exclusivity(unchecked) private var dirty: [Connection] = []
    @exclusivity(unchecked) private var dirtyScratch: [Connection] = []
    @exclusivity(unchecked) private var nextSweep: UInt64 = 0
    @exclusivity(unchecked) private var shuttingDown = false
    @exclusivity(unchecked) private var shutdownDeadline = UInt64.max
    @exclusivity(unchecked) private var placement = HandlerPlacement()
    /// Events returned by this round's `epoll_wait`.
    @exclusivity(unchecked) private var roundEvents = 0
    private let jobs: JobBatch?

    init(index: Int, core: ServerCore, listener: Socket) throws(SocketError) {
        self.index = index
        self.core = core
        self.queue = try EventQueue(capacity: 256)
        self.mailbox = try LoopMailbox()
        self.listener = listener
        self.jobs = core.executor.map(JobBatch.init(pool:))
        placement = HandlerPlacement(sharing: core.configuration.eventLoops < HTTPServer.Configuration.processorCount)
        // The listener is level-triggered: after EMFILE it must keep reporting pending connections.
        try queue.add(listener.fd, interest: .read, token: Self.listenerToken)
        try queue.add(mailbox.wakeup.fd, interest: [.read, .edgeTriggered], token: Self.wakeupToken)
        messages.reserveCapacity(256)
        dirty.reserveCapacity(64)
        dirtyScratch.reserveCapacity(64)
        connections.reserveCapacity(1024)
    }

    // MARK: Loop

    func run() {
        jobs?.install()
        defer {
            if let jobs {
                jobs.pool.submit(jobs)
                JobBatch.uninstall()
            }
        }
        now = SystemClock.monotonicNanos()
        nextSweep = now + core.sweepInterval
        while true {
            let count = queue.wait(timeoutMilliseconds: waitTimeout())
            now = SystemClock.monotonicNanos()
            date.refresh()
            roundEvents = count
            for event in 0..<count {
                let token = queue.token(at: event)
                if token == Self.wakeupToken {
                    drainMailbox()
                } else if token == Self.listenerToken {
                    acceptConnections()
                } else {
                    let fd = Int(token & 0xFFFF_FFFF)
                    guard fd < connections.count, let connection = connections[fd],
                          connection.generation == UInt32(truncatingIfNeeded: token >> 32)
                    else { continue }
                    if queue.isWritable(at: event) { onWritable(connection) }
                    if queue.isHangup(at: event) { connection.peerShutdown = true }
                    if queue.isReadable(at: event), !connection.isClosed { onReadable(connection) }
                }
            }
            if !dirty.isEmpty { pumpDirty() }
            if let jobs {
                placement.endRound(idleWorkers: jobs.pool.idleWorkers, queuedJobs: jobs.pool.queuedJobs)
                if !jobs.jobs.isEmpty { jobs.pool.submit(jobs) }
            }
            core.responder.flush()
            if now >= nextSweep {
                sweep()
                nextSweep = now + core.sweepInterval
            }
            if shuttingDown {
                if openCount == 0 { break }
                if now >= shutdownDeadline {
                    closeAll()
                    break
                }
            }
        }
        core.responder.flush()
        mailbox.close()
        if let listener {
            queue.remove(listener.fd)
            listener.close()
            self.listener = nil
        }
    }

    private func waitTimeout() -> Int32 {
        if !dirty.isEmpty { return 0 }
        var until = nextSweep
        if shuttingDown { until = min(until, shutdownDeadline) }
        guard until > now else { return 0 }
        return Int32(min(1000, (until - now + 999_999) / 1_000_000))
    }

    // MARK: Accepting

    private func acceptConnections() {
        guard let listener else { return }
        for _ in 0..<64 {
            var address: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            var length: UInt32 = 32
            let fd = withUnsafeMutableBytes(of: &address) { atlas_accept(listener.fd, $0.baseAddress, &length) }
            if fd < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK:
                    return
                case EINTR, ECONNABORTED, EPROTO:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: stop polling the listener until the next sweep rather
                    // than spin on a level-triggered event that cannot be served.
                    queue.remove(listener.fd)
                    listenerPaused = true
                    core.logger.warning("accept failed; pausing the listener", metadata: [
                        "error": .string(SocketError.current("accept4").description)])
                    return
                default:
                    return
                }
            }
            // Beyond the connection limit a connection is accepted and closed at once, so that it
            // does not wait in the backlog for a slot that may never come.
            if core.openConnections.add(1, ordering: .relaxed).newValue > core.configuration.maxConnections || shuttingDown {
                core.openConnections.subtract(1, ordering: .relaxed)
                Glibc.close(fd)
                continue
            }
            Socket(fd: fd).setNoDelay()
            generation &+= 1
            let peer = withUnsafeBytes(of: &address) {
                SocketAddress(sockaddr: UnsafeRawBufferPointer(rebasing: $0[0..<min(32, Int(length))]))
            }
            let connection = Connection(fd: fd, generation: generation, peer: peer, limits: core.configuration.limits)
            let token = UInt64(UInt32(bitPattern: fd)) | UInt64(generation) << 32
            do {
                try queue.add(fd, interest: [.read, .write, .readHangup, .edgeTriggered], token: token)
            } catch {
                Glibc.close(fd)
                core.openConnections.subtract(1, ordering: .relaxed)
                continue
            }
            if Int(fd) >= connections.count {
                connections.append(contentsOf: repeatElement(nil, count: max(Int(fd) + 1, connections.count * 2) - connections.count))
            }
            connections[Int(fd)] = connection
            openCount += 1
            // A new connection has the header timeout to send its first request.
            connection.phase = .idle
            connection.deadline = now + min(core.headerTimeout, core.idleTimeout)
        }
    }

    // MARK: Reading and parsing

    private func onReadable(_ connection: Connection) {
        if connection.phase == .linger {
            drainLinger(connection)
            return
        }
        connection.mayHaveInput = true
        pump(connection)
    }

    private func onWritable(_ connection: Connection) {
        guard !connection.isClosed, connection.phase != .linger, !connection.output.isEmpty else { return }
        pump(connection)
    }

    /// Parses buffered input, reads more while allowed, writes output; repeats while back-pressure
    /// clears, because input already buffered raises no new edge-triggered event.
    private func pump(_ connection: Connection) {
        var rounds = 0
        while !connection.isClosed {
            process(connection)
            readInput(connection)
            flush(connection)
            guard !connection.isClosed, connection.blocked, !isBackpressured(connection) else { return }
            rounds += 1
            if rounds == 16 {
                markDirty(connection)
                return
            }
        }
    }

    @inline(__always) private func isBackpressured(_ connection: Connection) -> Bool {
        connection.inFlight >= core.configuration.maxPipelinedRequests || connection.output.readableCount > core.highWater
            || (connection.bodyStream?.isSaturated() ?? false)
    }

    private func readInput(_ connection: Connection) {
        while connection.mayHaveInput, !connection.isClosed {
            // Once no further request will be parsed, only the body of the current one is read;
            // anything else stays in the socket for the lingering close to discard.
            if !connection.acceptingRequests, !connection.parser.isReadingBody { return }
            if isBackpressured(connection) {
                connection.blocked = true
                return
            }
            connection.input.reserveWritable(connection.parser.isReadingBody ? 65536 : 2048)
            let space = connection.input.writableCount
            let count = Glibc.read(connection.fd, connection.input.writePointer, space)
            if count > 0 {
                connection.input.commit(count)
                // A short read means the socket is empty and the next arrival raises a new edge,
                // unless the peer has shut down: then read on until the EOF itself.
                if count < space, !connection.peerShutdown { connection.mayHaveInput = false }
                process(connection)
            } else if count == 0 {
                connection.mayHaveInput = false
                peerClosed(connection)
                return
            } else {
                let error = errno
                if error == EAGAIN || error == EWOULDBLOCK {
                    connection.mayHaveInput = false
                    return
                }
                if error == EINTR { continue }
                close(connection)
                return
            }
        }
    }

    private func process(_ connection: Connection) {
        connection.blocked = false
        while !connection.isClosed {
            if connection.parser.isIdle {
                guard connection.acceptingRequests, !connection.input.isEmpty else { return }
                if isBackpressured(connection) {
                    connection.blocked = true
                    return
                }
                if isKnownUniquelyReferenced(&connection.storage) {
                    // A `Request` released on another thread (an async handler) released its reads
                    // with the reference; pair that with an acquire before writing the storage again.
                    atomicMemoryFence(ordering: .acquiring)
                } else {
                    connection.storage = RequestStorage()
                }
            }
            let (consumed, event) = connection.parser.parse(connection.input.readable, into: connection.storage)
            connection.input.consume(consumed)
            if let stream = connection.bodyStream, !connection.storage.body.isEmpty {
                stream.push(connection.storage.body)
                connection.storage.body = []
                // A streamed body times out when it stalls, not when it is long.
                if connection.phase == .body { connection.deadline = now + core.bodyTimeout }
            }
            switch event {
            case .needMore:
                return
            case .head:
                startRequest(connection)
            case .complete:
                let match = connection.pendingMatch
                connection.pendingMatch = .notFound
                if let stream = connection.bodyStream {
                    connection.bodyStream = nil
                    stream.finish()
                } else {
                    dispatch(connection, match)
                }
            case .failure(let error):
                reject(connection, error)
                return
            }
        }
    }

    private func peerClosed(_ connection: Connection) {
        connection.readClosed = true
        connection.acceptingRequests = false
        // A request cut off mid-way can never complete.
        if !connection.parser.isIdle { connection.parser.fail() }
        if let stream = connection.bodyStream {
            connection.bodyStream = nil
            stream.fail(.cutOff)
        }
        if connection.inFlight == 0, connection.output.isEmpty { close(connection) }
    }

    /// After a head: route lookup, then either dispatch (no body) or the body decision — 413 before
    /// reading a body larger than the route allows, `100 Continue` only for a body that will be read.
    private func startRequest(_ connection: Connection) {
        let storage = connection.storage
        let match = core.responder.router.match(storage)
        guard storage.hasBody else {
            dispatch(connection, match)
            return
        }
        let limit = match.route?.maxBodyBytes ?? core.configuration.limits.maxBodyBytes
        if !storage.isChunked, storage.contentLength > limit {
            reject(connection, .bodyTooLarge)
            return
        }
        if storage.expectsContinue {
            guard case .found = match else {
                // RFC 9110 §10.1.1: answer with the final status instead of 100 and do not read
                // the body; the connection closes after the answer.
                connection.acceptingRequests = false
                connection.parser.fail()
                dispatch(connection, match)
                return
            }
            // With earlier responses still pending, a 100 now would overtake them; the client
            // sends the body anyway after its own wait (RFC 9110 §10.1.1).
            if connection.inFlight == 0 { ResponseWriter.writeContinue(into: &connection.output) }
        }
        if let route = match.route, route.bodyMode == .streamed {
            // The handler runs now and reads the body as it arrives (RequestBodyStream).
            let id = connection.id
            let mailbox = self.mailbox
            let stream = RequestBodyStream { mailbox.post(.resumeInput(id)) }
            storage.bodyStream = stream
            connection.parser.beginBody(storage: storage, maxBytes: limit, streamed: true)
            connection.bodyStream = stream
            dispatch(connection, match)
            return
        }
        connection.pendingMatch = match
        connection.parser.beginBody(storage: storage, maxBytes: limit)
    }

    // MARK: Dispatch

    private func dispatch(_ connection: Connection, _ match: RouteMatch) {
        let storage = connection.storage
        if !storage.keepAlive { connection.acceptingRequests = false }
        let meta = ResponseMeta(isHead: storage.methodIndex == .head, http10: storage.minorVersion == 0,
                                close: !connection.acceptingRequests)
        let sequence = connection.nextSequence
        connection.nextSequence &+= 1
        var context: RequestContext
        if case .found(let route, let parameters) = match {
            context = RequestContext(remoteAddress: connection.peer, startNanos: SystemClock.monotonicNanos(),
                                     route: route.template, parameters: parameters)
        } else {
            context = RequestContext(remoteAddress: connection.peer, startNanos: SystemClock.monotonicNanos(),
                                     route: nil, parameters: Parameters(kind: "path parameter"))
        }
        let request = Request(storage: storage)
        let responder = core.responder
        switch responder.begin(request, &context, match) {
        case .respond(var response):
            responder.finish(request, context, &response)
            complete(connection, sequence, response, context.requestID, meta)
        case .inline(let handler):
            var response = responder.runInline(handler, request, &context)
            responder.finish(request, context, &response)
            complete(connection, sequence, response, context.requestID, meta)
        case .async(let handler):
            connection.ensureSlots(core.configuration.maxPipelinedRequests)
            let id = connection.id
            let mailbox = self.mailbox
            let handle = HandlerTask()
            let operation: @Sendable @concurrent () async -> Void = { [context] in
                var context = context
                var response = await responder.runAsync(handler, request, &context)
                responder.finish(request, context, &response)
                if !JobBatch.deliver(id, sequence, response, context.requestID) {
                    mailbox.post(.response(id, sequence: sequence, response, requestID: context.requestID))
                }
                handle.finish()
            }
            // Reads (GET, HEAD) start on this thread unless the loop is busy and hands this one to
            // a worker (``HandlerPlacement``); one that never suspends is answered in this round,
            // one that suspends resumes on a worker. Other methods go to a worker: decoding and
            // checking a request body is work no read bounds, and the loop's other connections
            // would wait for it.
            let task: Task<Void, Never>
            if let jobs, storage.methodIndex == .get || storage.methodIndex == .head, !placement.handOff(busy: roundEvents > 1) {
                jobs.expect(id, sequence)
                task = responder.starting(context) { Task.immediate(executorPreference: jobs.pool, operation: operation) }
                if let finished = jobs.takeDelivered() {
                    complete(connection, sequence, finished.response, finished.requestID, meta)
                    return
                }
            } else {
                task = responder.starting(context) { core.spawn(operation) }
            }
            handle.attach(task)
            connection.slots[connection.slotIndex(sequence)] = .pending(meta, handle)
        }
    }

    /// Answers a request that could not be parsed (or timed out) and stops reading from the connection.
    private func reject(_ connection: Connection, _ error: HTTPParseError) {
        connection.parser.fail()
        connection.acceptingRequests = false
        connection.pendingMatch = .notFound
        if let stream = connection.bodyStream {
            // The handler already runs: it answers once its read of the body throws.
            connection.bodyStream = nil
            stream.fail(.from(error))
            return
        }
        let requestID = RequestIDGenerator.next()
        let sequence = connection.nextSequence
        connection.nextSequence &+= 1
        complete(connection, sequence, .problem(for: error, requestID: requestID), requestID,
                 ResponseMeta(isHead: false, http10: false, close: true))
    }

    // MARK: Responses in order

    private func complete(_ connection: Connection, _ sequence: UInt32, _ response: Response, _ requestID: String?,
                          _ meta: ResponseMeta) {
        if sequence == connection.writeSequence {
            write(connection, sequence, response, requestID, meta)
            advance(connection)
        } else {
            connection.ensureSlots(core.configuration.maxPipelinedRequests)
            connection.slots[connection.slotIndex(sequence)] = .ready(response, requestID, meta)
        }
    }

    private func write(_ connection: Connection, _ sequence: UInt32, _ response: Response, _ requestID: String?,
                       _ meta: ResponseMeta) {
        var meta = meta
        if !connection.acceptingRequests && connection.parser.isIdle { meta.close = true }
        let streaming = ResponseWriter.write(response, requestID: requestID, meta: meta, date: date.line, into: &connection.output)
        if streaming, case .stream(let body) = response.body.storage {
            connection.ensureSlots(core.configuration.maxPipelinedRequests)
            let id = connection.id
            let mailbox = self.mailbox
            let writer = ResponseBodyWriter { bytes in
                try await withCheckedThrowingContinuation { written in
                    mailbox.post(.streamChunk(id, sequence: sequence, bytes, written: written))
                }
            }
            let handle = HandlerTask()
            handle.attach(core.spawn {
                var failed = false
                do { try await body(writer) } catch { failed = true }
                mailbox.post(.streamEnd(id, sequence: sequence, failed: failed))
                handle.finish()
            })
            if meta.http10 { connection.acceptingRequests = false }
            connection.slots[connection.slotIndex(sequence)] = .streaming(meta, handle)
            return
        }
        if !connection.slots.isEmpty { connection.slots[connection.slotIndex(sequence)] = .empty }
        connection.writeSequence &+= 1
        if meta.close { connection.acceptingRequests = false }
    }

    /// Writes ready responses that were waiting for earlier ones.
    private func advance(_ connection: Connection) {
        while connection.writeSequence != connection.nextSequence, !connection.slots.isEmpty {
            let index = connection.slotIndex(connection.writeSequence)
            guard case .ready(let response, let requestID, let meta) = connection.slots[index] else { return }
            connection.slots[index] = .empty
            write(connection, connection.writeSequence, response, requestID, meta)
        }
    }

    // MARK: Mailbox

    private func drainMailbox() {
        mailbox.take(into: &messages)
        for message in messages {
            switch message {
            case .response(let id, let sequence, let response, let requestID):
                guard let connection = lookup(id), !connection.slots.isEmpty,
                      case .pending(let meta, _) = connection.slots[connection.slotIndex(sequence)]
                else { continue }
                if let stream = connection.bodyStream, sequence == connection.nextSequence &- 1 {
                    // Answered before reading all of its body: the rest is read and dropped, so
                    // the connection can carry the next request.
                    stream.abandon()
                }
                complete(connection, sequence, response, requestID, meta)
                markDirty(connection)
            case .streamChunk(let id, let sequence, let bytes, let written):
                guard let connection = lookup(id), connection.writeSequence == sequence, !connection.slots.isEmpty,
                      case .streaming(let meta, _) = connection.slots[connection.slotIndex(sequence)]
                else {
                    written.resume(throwing: HTTPServerError.connectionClosed)
                    continue
                }
                ResponseWriter.writeChunk(bytes, http10: meta.http10, into: &connection.output)
                if connection.output.readableCount < core.highWater {
                    written.resume()
                } else {
                    connection.blockedWriter = written
                }
                markDirty(connection)
            case .streamEnd(let id, let sequence, let failed):
                guard let connection = lookup(id), connection.writeSequence == sequence, !connection.slots.isEmpty,
                      case .streaming(let meta, _) = connection.slots[connection.slotIndex(sequence)]
                else { continue }
                if failed {
                    // Without the last chunk the client sees an incomplete body (RFC 9112 §7.1).
                    flush(connection)
                    close(connection)
                    continue
                }
                ResponseWriter.writeLastChunk(http10: meta.http10, into: &connection.output)
                connection.slots[connection.slotIndex(sequence)] = .empty
                connection.writeSequence &+= 1
                if meta.close || meta.http10 { connection.acceptingRequests = false }
                advance(connection)
                markDirty(connection)
            case .resumeInput(let id):
                guard let connection = lookup(id) else { continue }
                markDirty(connection)
            case .shutdown(let deadline):
                beginShutdown(deadline: deadline)
            }
        }
        messages.removeAll(keepingCapacity: true)
    }

    @inline(__always) private func lookup(_ id: ConnectionID) -> Connection? {
        let fd = Int(id.fd)
        guard fd < connections.count, let connection = connections[fd], connection.generation == id.generation,
              !connection.isClosed
        else { return nil }
        return connection
    }

    private func markDirty(_ connection: Connection) {
        guard !connection.isDirty else { return }
        connection.isDirty = true
        dirty.append(connection)
    }

    private func pumpDirty() {
        swap(&dirty, &dirtyScratch)
        for connection in dirtyScratch {
            connection.isDirty = false
            if !connection.isClosed { pump(connection) }
        }
        dirtyScratch.removeAll(keepingCapacity: true)
    }

    // MARK: Writing and closing

    private func flush(_ connection: Connection) {
        while !connection.output.isEmpty {
            let pending = connection.output.readable
            let sent = atlas_send(connection.fd, pending.baseAddress, pending.count)
            if sent > 0 {
                connection.output.consume(sent)
                if connection.phase == .writing { connection.deadline = now + core.idleTimeout }
            } else {
                let error = errno
                if sent < 0, error == EAGAIN || error == EWOULDBLOCK { break }
                if sent < 0, error == EINTR { continue }
                close(connection)
                return
            }
        }
        if let writer = connection.blockedWriter, connection.output.readableCount < core.highWater / 2 {
            connection.blockedWriter = nil
            writer.resume()
        }
        if connection.output.isEmpty {
            connection.output.shrinkIfEmpty(above: 256 * 1024, to: 16 * 1024)
            if !connection.acceptingRequests, connection.inFlight == 0, !connection.parser.isReadingBody {
                finish(connection)
                return
            }
        }
        updateTimer(connection)
    }

    /// Closes after the last response: shut down writing, then read and discard until the peer
    /// closes or the linger time ends. Closing with unread input would make the kernel send a
    /// reset, which can destroy the response (a 413, a 431) before the client reads it.
    private func finish(_ connection: Connection) {
        if connection.readClosed {
            close(connection)
            return
        }
        shutdown(connection.fd, Int32(SHUT_WR))
        connection.phase = .linger
        connection.deadline = now + core.lingerTimeout
        drainLinger(connection)
    }

    private func drainLinger(_ connection: Connection) {
        for _ in 0..<64 {
            connection.input.clear()
            connection.input.reserveWritable(16 * 1024)
            let count = Glibc.read(connection.fd, connection.input.writePointer, connection.input.writableCount)
            if count > 0 { continue }
            if count < 0, errno == EINTR { continue }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
            close(connection)
            return
        }
    }

    private func close(_ connection: Connection) {
        guard !connection.isClosed else { return }
        connection.isClosed = true
        if let stream = connection.bodyStream {
            connection.bodyStream = nil
            stream.fail(.cutOff)
        }
        for index in connection.slots.indices {
            switch connection.slots[index] {
            case .pending(_, let handle), .streaming(_, let handle): handle?.cancel()
            case .empty, .ready: break
            }
            connection.slots[index] = .empty
        }
        if let writer = connection.blockedWriter {
            connection.blockedWriter = nil
            writer.resume(throwing: HTTPServerError.connectionClosed)
        }
        Glibc.close(connection.fd)
        connections[Int(connection.fd)] = nil
        openCount -= 1
        core.openConnections.subtract(1, ordering: .relaxed)
    }

    private func closeAll() {
        for fd in connections.indices {
            if let connection = connections[fd] { close(connection) }
        }
    }

    // MARK: Timeouts

    private func updateTimer(_ connection: Connection) {
        guard !connection.isClosed, connection.phase != .linger else { return }
        let phase: Connection.Phase
        if connection.parser.isReadingHead || (connection.parser.isIdle && !connection.input.isEmpty && connection.acceptingRequests) {
            phase = .header
        } else if connection.parser.isReadingBody {
            // Waiting on a slow streaming handler is not the client's delay.
            phase = connection.bodyStream != nil && connection.blocked ? .busy : .body
        } else if connection.inFlight > 0 {
            phase = .busy
        } else if !connection.output.isEmpty {
            phase = .writing
        } else {
            phase = .idle
        }
        guard phase != connection.phase else { return }
        connection.phase = phase
        switch phase {
        case .header: connection.deadline = now + core.headerTimeout
        case .body: connection.deadline = now + core.bodyTimeout
        case .busy: connection.deadline = .max
        case .writing, .idle: connection.deadline = now + core.idleTimeout
        case .linger: break
        }
    }

    private func sweep() {
        if listenerPaused, let listener {
            listenerPaused = (try? queue.add(listener.fd, interest: .read, token: Self.listenerToken)) == nil
        }
        for fd in connections.indices {
            guard let connection = connections[fd], connection.deadline <= now else { continue }
            switch connection.phase {
            case .header, .body:
                // RFC 9110 §15.5.9: 408 tells the client the server gave up waiting.
                if connection.inFlight == 0 || connection.bodyStream != nil {
                    reject(connection, .requestTimeout)
                    flush(connection)
                } else {
                    close(connection)
                }
            case .idle, .writing, .linger, .busy:
                close(connection)
            }
        }
    }

    // MARK: Shutdown

    private func beginShutdown(deadline: UInt64) {
        shuttingDown = true
        shutdownDeadline = min(shutdownDeadline, deadline)
        if let listener {
            queue.remove(listener.fd)
            listener.close()
            self.listener = nil
        }
        for fd in connections.indices {
            guard let connection = connections[fd] else { continue }
            connection.acceptingRequests = false
            if connection.phase == .linger { continue }
            // Idle keep-alive connections and half-sent heads close now; requests being read or
            // handled run to completion (their responses say `Connection: close`).
            if connection.inFlight == 0, connection.output.isEmpty, !connection.parser.isReadingBody {
                close(connection)
            }
        }
    }
}
