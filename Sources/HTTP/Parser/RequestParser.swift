// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

/// The request framing state machine of one connection: empty lines, head, body, next request.
///
/// It reads bytes and reports events; it never touches a socket. The connection feeds it the
/// unread input, consumes what it reports as consumed, and acts on the event (route lookup after
/// the head, dispatch after the body). Tests and the fuzzer drive it the same way through
/// ``RequestStreamParser``.
struct RequestParser {
    enum Event {
        /// More bytes are needed.
        case needMore
        /// A head was parsed into the storage. When the request has a body, the caller checks
        /// its length against the route's limit and calls ``beginBody(maxBytes:)`` (or rejects it).
        case head
        /// The body is complete; the request can be dispatched.
        case complete
        case failure(HTTPParseError)
    }

    private enum State {
        case start(emptyLines: Int)
        case head(HeadScanner)
        case awaitingBodyDecision
        case fixedBody(remaining: Int)
        case chunkedBody(ChunkedDecoder, maxBytes: Int)
        case failed
    }

    let limits: RequestLimits
    private var state = State.start(emptyLines: 0)

    init(limits: RequestLimits) {
        self.limits = limits
    }

    /// True between requests, before any byte of the next request was seen.
    var isIdle: Bool {
        if case .start = state { return true }
        return false
    }

    /// True while a head is arriving (header timeout applies).
    var isReadingHead: Bool {
        if case .head = state { return true }
        return false
    }

    /// True while a body is arriving (body timeout applies).
    var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunkedBody: return true
        default: return false
        }
    }

    /// Accepts the body announced by the last head, reading at most `maxBytes`.
    mutating func beginBody(storage: RequestStorage, maxBytes: Int, streamed: Bool = false) {
        if storage.isChunked {
            state = .chunkedBody(ChunkedDecoder(), maxBytes: maxBytes)
        } else {
            if !streamed { storage.body.reserveCapacity(storage.contentLength) }
            state = .fixedBody(remaining: storage.contentLength)
        }
    }

    /// Gives up on the current request; the connection is about to close.
    mutating func fail() {
        state = .failed
    }

    /// Advances over `bytes`, the unread input. Returns how many bytes were consumed and what happened.
    mutating func parse(_ bytes: UnsafeRawBufferPointer, into storage: RequestStorage) -> (consumed: Int, event: Event) {
        var offset = 0
        while true {
            switch state {
            case .start(var emptyLines):
                // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
                while offset + 1 < bytes.count, bytes[offset] == ByteClass.cr, bytes[offset + 1] == ByteClass.lf {
                    offset += 2
                    emptyLines += 1
                    if emptyLines > 8 { state = .failed; return (offset, .failure(.tooManyEmptyLines)) }
                }
                if offset == bytes.count || (offset + 1 == bytes.count && bytes[offset] == ByteClass.cr) {
                    state = .start(emptyLines: emptyLines)
                    return (offset, .needMore)
                }
                if bytes[offset] == ByteClass.lf { state = .failed; return (offset, .failure(.bareLF)) }
                state = .head(HeadScanner())

            case .head(var scanner):
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                switch scanner.scan(rest, limits: limits) {
                case .incomplete:
                    state = .head(scanner)
                    return (offset, .needMore)
                case .failure(let error):
                    state = .failed
                    return (offset, .failure(error))
                case .complete(let length):
                    if let error = HeadParser.parse(rest.baseAddress!, count: length, into: storage, limits: limits) {
                        state = .failed
                        return (offset, .failure(error))
                    }
                    state = storage.hasBody ? .awaitingBodyDecision : .start(emptyLines: 0)
                    return (offset + length, .head)
                }

            case .awaitingBodyDecision:
                // The caller must decide with beginBody(maxBytes:) before feeding more.
                return (offset, .needMore)

            case .fixedBody(let remaining):
                let take = Swift.min(remaining, bytes.count - offset)
                if take > 0 {
                    storage.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
                }
                offset += take
                if remaining - take == 0 {
                    state = .start(emptyLines: 0)
                    return (offset, .complete)
                }
                state = .fixedBody(remaining: remaining - take)
                return (offset, .needMore)

            case .chunkedBody(var decoder, let maxBytes):
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                let (consumed, result) = decoder.decode(rest, into: &storage.body, limits: limits, maxBody: maxBytes)
                offset += consumed
                switch result {
                case .needMore:
                    state = .chunkedBody(decoder, maxBytes: maxBytes)
                    return (offset, .needMore)
                case .done:
                    state = .start(emptyLines: 0)
                    return (offset, .complete)
                case .failure(let error):
                    state = .failed
                    return (offset, .failure(error))
                }

            case .failed:
                return (offset, .needMore)
            }
        }
    }
}
