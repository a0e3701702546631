// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

public import HTTPTypes
public import Foundation

/// An HTTP response: status, header fields and a body of bytes or a stream.
///
/// The server owns framing: it writes `Content-Length` (or chunked `Transfer-Encoding` for a
/// stream), `Date`, `Connection` and `X-Request-ID` itself, and ignores those names in
/// ``headers``. A response stored in a `static let` is reused without copying, which keeps
/// constant answers allocation-free:
///
/// ```swift
/// static let live = Response.json(rawJSON: #"{"status":"ok"}"#)
/// router.inline.get("/health/live") { _, _ in live }
/// ```
public struct Response: Sendable {
    /// The status code and reason phrase.
    public var status: HTTPResponse.Status
    /// Header fields to send (server-owned names are skipped, see above).
    public var headers: HTTPFields
    /// The content.
    public var body: ResponseBody

    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: ResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response whose body is `value` encoded with snake_case keys and ISO 8601 dates.
    public static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .bytes(try StreamingJSONEncoder.encode(value)))
    }

    /// A JSON response from text that already is JSON.
    public static func json(rawJSON: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .bytes(Array(rawJSON.utf8)))
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .bytes(Array(text.utf8)))
    }

    /// An empty response, `204 No Content` by default.
    public static func empty(status: HTTPResponse.Status = .noContent) -> Response {
        Response(status: status)
    }

    /// A streamed response: headers go out at once, then each chunk as `body` writes it,
    /// chunked on HTTP/1.1 and delimited by closing the connection on HTTP/1.0.
    ///
    /// ```swift
    /// return .stream(contentType: "text/event-stream") { writer in
    ///     for await event in events { try await writer.writeEvent(data: event.json, event: "step") }
    /// }
    /// ```
    public static func stream(
        status: HTTPResponse.Status = .ok,
        contentType: String,
        headers: HTTPFields = [:],
        _ body: @escaping @Sendable (ResponseBodyWriter) async throws -> Void
    ) -> Response {
        var fields = headers
        fields[.contentType] = contentType
        if contentType.hasPrefix("text/event-stream") {
            // Intermediaries must not buffer or transform an event stream.
            fields[.cacheControl] = fields[.cacheControl] ?? "no-cache"
        }
        return Response(status: status, headers: fields, body: .stream(body))
    }
}

/// The content of a ``Response``.
public struct ResponseBody: Sendable {
    enum Storage: Sendable {
        case bytes([UInt8])
        case stream(@Sendable (ResponseBodyWriter) async throws -> Void)
    }

    let storage: Storage

    /// No content.
    public static var empty: ResponseBody { ResponseBody(storage: .bytes([])) }

    /// The given bytes.
    public static func bytes(_ bytes: [UInt8]) -> ResponseBody { ResponseBody(storage: .bytes(bytes)) }

    /// UTF-8 text.
    public static func string(_ text: String) -> ResponseBody { ResponseBody(storage: .bytes(Array(text.utf8))) }

    /// Content produced while it is sent; see ``Response/stream(status:contentType:headers:_:)``.
    public static func stream(_ body: @escaping @Sendable (ResponseBodyWriter) async throws -> Void) -> ResponseBody {
        ResponseBody(storage: .stream(body))
    }

    /// The bytes of a non-streamed body; `nil` for a stream.
    public var bytes: [UInt8]? {
        if case .bytes(let bytes) = storage { return bytes }
        return nil
    }

    /// Whether the body is produced by a stream.
    public var isStream: Bool {
        if case .stream = storage { return true }
        return false
    }
}

/// Pushes chunks of a streamed response to the client.
///
/// Each `write` returns once the chunk is queued on the connection below its high-water mark,
/// so a fast producer is slowed to the client's pace. It throws when the client has gone away;
/// let the error propagate to stop producing.
public struct ResponseBodyWriter: Sendable {
    let sink: @Sendable ([UInt8]) async throws -> Void

    public init(_ sink: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.sink = sink
    }

    /// Sends `bytes` as one chunk (ignored when empty: an empty chunk would end the stream).
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await sink(bytes)
    }

    /// Sends UTF-8 text as one chunk.
    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    /// Sends one Server-Sent Event (HTML Living Standard §9.2): optional `event` and `id` fields,
    /// then `data` split into one `data:` line per line, then a blank line.
    public func writeEvent(data: String, event: String? = nil, id: String? = nil) async throws {
        var text = ""
        if let event { text += "event: \(Self.singleLine(event))\n" }
        if let id { text += "id: \(Self.singleLine(id))\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line.hasSuffix("\r") ? line.dropLast() : line)\n"
        }
        text += "\n"
        try await write(text)
    }

    /// Sends an SSE comment line, e.g. a keep-alive ping that clients ignore.
    public func writeComment(_ comment: String) async throws {
        try await write(": \(Self.singleLine(comment))\n\n")
    }

    private static func singleLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}

/// The JSON conventions of the API: snake_case keys and ISO 8601 dates.
public enum JSONCoding {
    /// A decoder that maps `snake_case` keys to Swift's camelCase properties.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// An encoder that writes camelCase properties as `snake_case` keys.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }
}
