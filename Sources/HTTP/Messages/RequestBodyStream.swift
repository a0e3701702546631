// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import Core
import Synchronization

/// How a route receives its request body.
public enum RequestBodyMode: Sendable {
    /// Read whole before the handler runs (`Request.body`), up to the route's limit.
    case buffered
    /// Handed to the handler as it arrives (``Request/bodyChunks``): the handler runs as soon as
    /// the head is parsed, and the connection stops reading while the handler is behind, so a
    /// large upload costs a bounded amount of memory.
    case streamed
}

/// The body of a request as chunks in arrival order, for routes registered with
/// ``RequestBodyMode/streamed``; on other routes one chunk with the buffered body.
///
/// ```swift
/// for try await chunk in request.bodyChunks { try parser.feed(chunk) }
/// ```
///
/// Iterating throws ``RequestBodyError`` when the body is cut off, malformed, too large or too
/// slow. Only one iterator may consume the body.
public struct RequestBodyChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    enum Source: Sendable {
        case buffered([UInt8])
        case stream(RequestBodyStream)
    }

    let source: Source

    public struct AsyncIterator: AsyncIteratorProtocol {
        var source: Source?

        public mutating func next() async throws -> [UInt8]? {
            switch source {
            case .none:
                return nil
            case .buffered(let bytes):
                source = nil
                return bytes.isEmpty ? nil : bytes
            case .stream(let stream):
                let chunk = try await stream.next()
                if chunk == nil { source = nil }
                return chunk
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: source)
    }
}

/// Why a streamed body ended before its end: the handler that iterates it gets this error.
public struct RequestBodyError: ProblemError, Equatable {
    public let status: Int
    public let code: String
    public let detail: String

    static func from(_ error: HTTPParseError) -> RequestBodyError {
        RequestBodyError(status: error.status, code: error.code, detail: error.reason)
    }

    static let cutOff = RequestBodyError(status: 400, code: "body_incomplete", detail: "the connection closed before the request body ended")
}

/// The hand-over between an event loop (producer) and a handler (consumer) for one streamed
/// body. The loop pushes what it parsed and stops reading the socket while more than
/// ``highWater`` bytes wait; the consumer's reads below ``lowWater`` ask the loop to read on.
final class RequestBodyStream: Sendable {
    static let highWater = 1 << 20
    static let lowWater = 256 << 10

    private struct State {
        var chunks: [[UInt8]] = []
        var head = 0
        var buffered = 0
        var finished = false
        var failure: RequestBodyError?
        var waiter: CheckedContinuation<[UInt8]?, any Error>?
        /// The handler has returned: later bytes are dropped so the connection can move on.
        var abandoned = false
        /// The loop stopped reading because of this stream and wants to hear when it may go on.
        var loopWaiting = false
    }

    private let state = Mutex(State())
    /// Asks the owning loop to resume reading the connection; called from the consumer's thread.
    private let resumeProducer: @Sendable () -> Void

    init(resumeProducer: @escaping @Sendable () -> Void) {
        self.resumeProducer = resumeProducer
    }

    // MARK: Producer (event loop)

    /// Adds parsed body bytes.
    func push(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        let waiter = state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
            if state.abandoned || state.finished || state.failure != nil { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.chunks.append(bytes)
            state.buffered += bytes.count
            return nil
        }
        waiter?.resume(returning: bytes)
    }

    /// Whether the loop should stop reading; if so, it is told through `resumeProducer` when to go on.
    func isSaturated() -> Bool {
        state.withLock { state in
            guard !state.abandoned, state.buffered > Self.highWater else { return false }
            state.loopWaiting = true
            return true
        }
    }

    /// The body ended; the consumer sees the end after the buffered chunks.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The body cannot complete; the consumer's next read throws `error`.
    func fail(_ error: RequestBodyError) {
        let waiter = state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
            guard !state.finished, state.failure == nil else { return nil }
            state.failure = error
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: error)
    }

    /// The handler answered without reading the whole body: drop what is buffered and whatever
    /// still arrives, and let the loop read on.
    func abandon() {
        let resume = state.withLock { state -> Bool in
            state.abandoned = true
            state.chunks = []
            state.buffered = 0
            defer { state.loopWaiting = false }
            return state.loopWaiting
        }
        if resume { resumeProducer() }
    }

    // MARK: Consumer (handler)

    func next() async throws -> [UInt8]? {
        enum Step { case chunk([UInt8], resume: Bool), end, failed(RequestBodyError), wait }
        let step = state.withLock { state -> Step in
            if state.head < state.chunks.count {
                let chunk = state.chunks[state.head]
                state.head += 1
                if state.head == state.chunks.count {
                    state.chunks.removeAll(keepingCapacity: true)
                    state.head = 0
                }
                state.buffered -= chunk.count
                let resume = state.loopWaiting && state.buffered < Self.lowWater
                if resume { state.loopWaiting = false }
                return .chunk(chunk, resume: resume)
            }
            if let failure = state.failure { return .failed(failure) }
            if state.finished { return .end }
            return .wait
        }
        switch step {
        case .chunk(let chunk, let resume):
            if resume { resumeProducer() }
            return chunk
        case .end:
            return nil
        case .failed(let error):
            throw error
        case .wait:
            let resume = state.withLock { state -> Bool in
                defer { state.loopWaiting = false }
                return state.loopWaiting
            }
            if resume { resumeProducer() }
            return try await withCheckedThrowingContinuation { continuation in
                let immediate = state.withLock { state -> Result<[UInt8]?, RequestBodyError>? in
                    if state.head < state.chunks.count {
                        let chunk = state.chunks[state.head]
                        state.head += 1
                        state.buffered -= chunk.count
                        return .success(chunk)
                    }
                    if let failure = state.failure { return .failure(failure) }
                    if state.finished { return .success(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        }
    }
}
