// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// Identifies a connection across threads: its descriptor plus a per-loop generation, because a
/// descriptor is reused by the next accepted connection as soon as it is closed.
struct ConnectionID: Sendable, Equatable {
    let fd: Int32
    let generation: UInt32
}

/// What worker threads and the server tell an event loop.
enum LoopMessage: Sendable {
    /// The response of an async handler, for the `sequence`-th request of the connection.
    case response(ConnectionID, sequence: UInt32, Response, requestID: String?)
    /// A chunk of a streamed response; the loop resumes `written` once it is queued below the
    /// connection's high-water mark (or with an error once the connection is gone).
    case streamChunk(ConnectionID, sequence: UInt32, [UInt8], written: CheckedContinuation<Void, any Error>)
    /// The end of a streamed response; `failed` closes the connection without the last chunk so
    /// the client sees the body as incomplete (RFC 9112 §7.1).
    case streamEnd(ConnectionID, sequence: UInt32, failed: Bool)
    /// A streamed request body's consumer caught up: read the connection again.
    case resumeInput(ConnectionID)
    /// Stop accepting, finish in-flight requests until `deadline` (monotonic ns), then exit.
    case shutdown(deadline: UInt64)
}

/// An event loop's completion queue: a locked array plus an eventfd in the loop's epoll set.
///
/// The eventfd is written only when the queue was empty, so a busy loop that drains many
/// completions per round is woken once per round, not once per completion, and the lock is
/// taken once per post and once per drain.
final class LoopMailbox: Sendable {
    private struct Queue {
        var messages: [LoopMessage] = []
        var closed = false
    }

    let wakeup: WakeupSignal
    private let queue = Mutex(Queue())

    init() throws(SocketError) {
        wakeup = try WakeupSignal()
        queue.withLock { $0.messages.reserveCapacity(256) }
    }

    deinit {
        // Closed only when no task can post any more (they hold this object), so a late post never
        // writes to a reused descriptor.
        wakeup.close()
    }

    func post(_ message: LoopMessage) {
        let wake = queue.withLock { queue -> Bool? in
            guard !queue.closed else { return nil }
            let wasEmpty = queue.messages.isEmpty
            queue.messages.append(message)
            return wasEmpty
        }
        switch wake {
        case .some(true): wakeup.signal()
        case .some(false): break
        case .none: Self.discard(message)
        }
    }

    /// Swaps the pending messages into `messages` (which must be empty), keeping both capacities.
    func take(into messages: inout [LoopMessage]) {
        queue.withLock { swap(&$0.messages, &messages) }
    }

    /// Refuses further messages and fails what is still queued; called when the loop exits.
    func close() {
        let left = queue.withLock { queue -> [LoopMessage] in
            queue.closed = true
            defer { queue.messages = [] }
            return queue.messages
        }
        left.forEach(Self.discard)
    }

    static func discard(_ message: LoopMessage) {
        if case .streamChunk(_, _, _, let written) = message {
            written.resume(throwing: HTTPServerError.connectionClosed)
        }
    }
}

/// Errors the server reports to handlers and callers.
public struct HTTPServerError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable { case connectionClosed, notRunning, alreadyStarted }
    private let code: Code

    /// The client went away before a streamed response was finished.
    public static let connectionClosed = HTTPServerError(code: .connectionClosed)
    /// The server stopped (or failed to start) before it was listening.
    public static let notRunning = HTTPServerError(code: .notRunning)
    /// `run()` was called twice.
    public static let alreadyStarted = HTTPServerError(code: .alreadyStarted)

    public var description: String {
        switch code {
        case .connectionClosed: "the connection was closed"
        case .notRunning: "the server is not running"
        case .alreadyStarted: "the server was already started"
        }
    }
}
