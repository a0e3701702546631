// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

/// Parses requests from a byte stream without a socket: the entry point for tests and the fuzzer.
///
/// It runs the same state machine as a server connection, with ``RequestLimits/maxBodyBytes``
/// as the body limit for every request. Feed bytes in any split; take complete requests in order.
///
/// ```swift
/// var parser = RequestStreamParser()
/// parser.append(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
/// while let request = try parser.next() { print(request.method, request.path) }
/// ```
public struct RequestStreamParser {
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var parser: RequestParser
    private var storage = RequestStorage()
    private var failure: HTTPParseError?

    public init(limits: RequestLimits = RequestLimits()) {
        parser = RequestParser(limits: limits)
    }

    /// Appends received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if readIndex > 0, readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Whether a request has started but is not complete yet.
    public var hasPartialRequest: Bool {
        !parser.isIdle || readIndex < buffer.count
    }

    /// The next complete request, `nil` when more bytes are needed, or the error a server would
    /// answer with. After an error every later call throws it again.
    public mutating func next() throws(HTTPParseError) -> Request? {
        if let failure { throw failure }
        while true {
            if parser.isIdle, !isKnownUniquelyReferenced(&storage) {
                storage = RequestStorage()
            }
            let (consumed, event) = buffer.withUnsafeBytes { bytes in
                parser.parse(UnsafeRawBufferPointer(rebasing: bytes[readIndex...]), into: storage)
            }
            readIndex += consumed
            switch event {
            case .needMore:
                return nil
            case .head:
                guard storage.hasBody else { return Request(storage: storage) }
                if !storage.isChunked, storage.contentLength > parser.limits.maxBodyBytes {
                    return try fail(.bodyTooLarge)
                }
                parser.beginBody(storage: storage, maxBytes: parser.limits.maxBodyBytes)
            case .complete:
                return Request(storage: storage)
            case .failure(let error):
                return try fail(error)
            }
        }
    }

    private mutating func fail(_ error: HTTPParseError) throws(HTTPParseError) -> Request? {
        failure = error
        parser.fail()
        throw error
    }
}
