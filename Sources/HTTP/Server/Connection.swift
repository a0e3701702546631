// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

/// One accepted TCP connection, confined to its event loop's thread.
///
/// It holds the input and output buffers, the parser, the storage the next request is parsed
/// into, and a ring of response slots so that pipelined requests whose async handlers finish out
/// of order are still answered in request order (RFC 9112 §9.3.2).
///
/// Its properties skip Swift's dynamic exclusivity checks (`@exclusivity(unchecked)`): the object
/// never leaves its loop thread and no access to one property overlaps another access to it, and
/// the checks cost about 5% of the CPU time of a small request.
final class Connection {
    enum Phase: Equatable {
        /// Between requests: idle timeout.
        case idle
        /// A head is arriving: header timeout, counted from its first byte.
        case header
        /// A body is arriving: body timeout, counted from the head.
        case body
        /// Handlers are running: no timeout of its own.
        case busy
        /// Output is waiting for the peer to read: idle timeout, renewed on progress.
        case writing
        /// Write side shut down, discarding input until the peer closes or the linger time ends.
        case linger
    }

    enum Slot {
        case empty
        /// An async handler is running.
        case pending(ResponseMeta, HandlerTask?)
        /// The response is ready but an earlier one is not written yet.
        case ready(Response, String?, ResponseMeta)
        /// Head written; chunks arrive through the mailbox until the stream ends.
        case streaming(ResponseMeta, HandlerTask?)
    }

    let fd: Int32
    let generation: UInt32
    let peer: SocketAddress?
    @exclusivity(unchecked) var input: ByteBuffer
    @exclusivity(unchecked) var output: ByteBuffer
    @exclusivity(unchecked) var parser: RequestParser
    @exclusivity(unchecked) var storage = RequestStorage()
    /// The route found for the head whose body is being read.
    @exclusivity(unchecked) var pendingMatch = RouteMatch.notFound
    /// The body of the last dispatched request while it is still arriving, when its route streams it.
    @exclusivity(unchecked) var bodyStream: RequestBodyStream?

    /// Sequence numbers of requests handed to handlers, and of the next response to write.
    @exclusivity(unchecked) var nextSequence: UInt32 = 0
    @exclusivity(unchecked) var writeSequence: UInt32 = 0
    @exclusivity(unchecked) var slots: [Slot] = []

    /// A streamed response's writer waiting for the output buffer to drain.
    @exclusivity(unchecked) var blockedWriter: CheckedContinuation<Void, any Error>?

    /// Edge-triggered epoll: true until a read returns less than asked, EAGAIN or EOF.
    @exclusivity(unchecked) var mayHaveInput = true
    /// False once no further request will be parsed (Connection: close, an error, shutdown).
    @exclusivity(unchecked) var acceptingRequests = true
    /// The peer sent FIN and it was read.
    @exclusivity(unchecked) var readClosed = false
    /// epoll reported the peer's FIN (it may still be behind unread data).
    @exclusivity(unchecked) var peerShutdown = false
    /// Stopped reading or parsing because of back-pressure; resumed when it clears.
    @exclusivity(unchecked) var blocked = false
    @exclusivity(unchecked) var isClosed = false
    /// In the dirty list of the current loop round.
    @exclusivity(unchecked) var isDirty = false

    @exclusivity(unchecked) var phase = Phase.idle
    @exclusivity(unchecked) var deadline: UInt64 = .max

    init(fd: Int32, generation: UInt32, peer: SocketAddress?, limits: RequestLimits) {
        self.fd = fd
        self.generation = generation
        self.peer = peer
        self.input = ByteBuffer(capacity: 4096)
        self.output = ByteBuffer(capacity: 0)
        self.parser = RequestParser(limits: limits)
    }

    var id: ConnectionID { ConnectionID(fd: fd, generation: generation) }

    /// Requests dispatched whose responses are not completely written.
    @inline(__always) var inFlight: Int { Int(nextSequence &- writeSequence) }

    @inline(__always) func slotIndex(_ sequence: UInt32) -> Int { Int(sequence % UInt32(slots.count)) }

    func ensureSlots(_ count: Int) {
        if slots.isEmpty { slots = Array(repeating: .empty, count: count) }
    }
}
