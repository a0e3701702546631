// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import HTTPTypes

/// An HTTP request as a handler sees it: method, target, header fields and the complete body.
///
/// The head stays in the bytes it arrived in; ``path``, ``headers`` and ``query`` decode on
/// access, so a handler that reads nothing costs nothing. Cache what you read more than once.
///
/// ```swift
/// router.post("/tenants/{tenant}/usage") { request, context in
///     let delta = try request.decode(UsageDelta.self)
///     let requestID = request.headers["X-Request-ID"]
///     ...
/// }
/// ```
public struct Request: Sendable {
    let storage: RequestStorage

    init(storage: RequestStorage) {
        self.storage = storage
    }

    /// The request method (`GET`, `POST`, ...).
    public var method: HTTPRequest.Method { storage.method }

    /// The method's name for the methods the router indexes (`GET`, `HEAD`, `POST`, `PUT`,
    /// `DELETE`, `PATCH`, `OPTIONS`) without building a string; `nil` for any other.
    public var knownMethodName: StaticString? { storage.methodIndex.name }

    /// The minor HTTP version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    public var minorVersion: Int { Int(storage.minorVersion) }

    /// The request target exactly as received, e.g. `/metrics/usage/daily?hours=24`.
    public var target: String { storage.string(storage.targetStart, storage.targetCount) }

    /// The path without the query, still percent-encoded, e.g. `/tenants/acme/usage`.
    /// An absolute-form target (`http://host`) with no path yields `/`.
    public var path: String {
        storage.pathCount == 0 ? "/" : storage.string(storage.pathStart, storage.pathCount)
    }

    /// Calls `body` with the bytes of ``path`` where they arrived, without building a string;
    /// the bytes are valid only during the call.
    public func withPathBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        if storage.pathCount == 0 {
            return try withUnsafeBytes(of: UInt8(ascii: "/")) { try body($0) }
        }
        return try body(storage.bytes(storage.pathStart, storage.pathCount))
    }

    /// The raw query string after `?`, or `nil` when the target has none.
    public var rawQuery: String? {
        storage.queryCount < 0 ? nil : storage.string(storage.queryStart, storage.queryCount)
    }

    /// The query parameters, percent-decoded (`+` as space, as HTML forms send them).
    public var query: QueryParameters {
        guard storage.queryCount > 0 else { return QueryParameters() }
        return QueryParameters(parsing: storage.bytes(storage.queryStart, storage.queryCount))
    }

    /// The header fields.
    public var headers: RequestHeaders { RequestHeaders(storage: storage) }

    /// The body, after chunked decoding. Empty when the request has none.
    public var body: [UInt8] { storage.bodyStream == nil ? storage.body : [] }

    /// The body as it arrives, for routes registered with ``RequestBodyMode/streamed``; for
    /// other routes one chunk holding ``body``.
    public var bodyChunks: RequestBodyChunks {
        if let stream = storage.bodyStream { return RequestBodyChunks(source: .stream(stream)) }
        return RequestBodyChunks(source: .buffered(storage.body))
    }

    /// Whether the connection stays open after this request (RFC 9112 §9.3).
    public var keepAlive: Bool { storage.keepAlive }

    /// A request built in memory, for router tests that need no socket.
    ///
    /// The request goes through the same parser as one from the network, so it is held to the
    /// same rules; a `Host` field is added when `headers` has none.
    ///
    /// ```swift
    /// let request = try Request(method: .get, target: "/health/live")
    /// let response = await router.respond(to: request)
    /// ```
    public init(method: HTTPRequest.Method, target: String, headers: HTTPFields = [:], body: [UInt8] = []) throws(HTTPParseError) {
        var head = "\(method.rawValue) \(target) HTTP/1.1\r\n"
        if headers[HTTPField.Name("Host")!] == nil { head += "Host: localhost\r\n" }
        for field in headers where field.name != .contentLength && field.name != .transferEncoding {
            head += "\(field.name.rawName): \(field.value)\r\n"
        }
        if !body.isEmpty || method == .post || method == .put || method == .patch {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        var parser = RequestStreamParser(limits: RequestLimits(maxHeaderBytes: Int.max / 4, maxHeaderCount: 10_000, maxBodyBytes: Int.max / 4))
        parser.append(Array(head.utf8) + body)
        guard let request = try parser.next() else { throw .invalidRequestLine }
        self = request
    }
}

/// The header fields of a ``Request``, read in place.
///
/// Lookups compare names case-insensitively. Repeated fields are combined with `", "`
/// (RFC 9110 §5.3), except `Cookie`, which uses `"; "`.
public struct RequestHeaders: Sendable, Sequence {
    let storage: RequestStorage

    /// The number of field lines.
    public var count: Int { storage.fields.count }

    /// The combined value of the fields named `name`, or `nil` when there is none.
    public subscript(_ name: String) -> String? {
        let fields = storage.fields
        // One pass without allocating for the usual case: absent, or present once.
        guard let firstIndex = fields.firstIndex(where: { storage.fieldName($0, equals: name) }) else { return nil }
        let first = fields[firstIndex]
        guard fields[(firstIndex + 1)...].contains(where: { storage.fieldName($0, equals: name) }) else {
            return storage.string(Int(first.valueStart), Int(first.valueCount))
        }
        let matches = fields.filter { storage.fieldName($0, equals: name) }
        let separator = name.lowercased() == "cookie" ? "; " : ", "
        return matches.map { storage.string(Int($0.valueStart), Int($0.valueCount)) }.joined(separator: separator)
    }

    /// The value of the first field named `lowercaseName` (lowercase ASCII), or `nil`: a
    /// lookup that neither folds `name`'s case nor combines repeated fields, for a field that
    /// may appear once (`traceparent`) and is looked for on every request.
    public func first(_ lowercaseName: StaticString) -> String? {
        storage.firstField(lowercaseName).map { storage.string(Int($0.valueStart), Int($0.valueCount)) }
    }

    /// The combined value of the fields named `name`, or `nil` when there is none.
    public subscript(_ name: HTTPField.Name) -> String? {
        self[name.canonicalName]
    }

    /// Each value of the fields named `name`, in order.
    public func values(_ name: String) -> [String] {
        storage.fields.filter { storage.fieldName($0, equals: name) }
            .map { storage.string(Int($0.valueStart), Int($0.valueCount)) }
    }

    /// Whether a field named `name` is present.
    public func contains(_ name: String) -> Bool {
        storage.fields.contains { storage.fieldName($0, equals: name) }
    }

    /// The fields as swift-http-types `HTTPFields` (allocates; meant for forwarding or logging).
    public var fields: HTTPFields {
        var fields = HTTPFields()
        for (name, value) in self {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return fields
    }

    public struct Iterator: IteratorProtocol {
        let storage: RequestStorage
        var index = 0

        public mutating func next() -> (name: String, value: String)? {
            guard index < storage.fields.count else { return nil }
            let field = storage.fields[index]
            index += 1
            return (storage.string(Int(field.nameStart), Int(field.nameCount)),
                    storage.string(Int(field.valueStart), Int(field.valueCount)))
        }
    }

    public func makeIterator() -> Iterator { Iterator(storage: storage) }
}
