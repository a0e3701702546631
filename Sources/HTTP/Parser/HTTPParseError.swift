// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

/// Why a request could not be parsed, with the status code the server answers before closing.
///
/// The server renders it as `application/problem+json`; `reason` is safe to show to the client.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400, 408, 413, 417, 431, 501 or 505.
    public let status: Int
    /// A short, stable machine-readable code such as `header_too_large`.
    public let code: String
    /// A human-readable explanation naming the rule that was broken.
    public let reason: String

    init(_ status: Int, _ code: String, _ reason: String) {
        self.status = status
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(status) \(code): \(reason)" }

    static func bad(_ reason: String) -> HTTPParseError { HTTPParseError(400, "malformed_request", reason) }

    static let bareLF = bad("bare LF in the request head; lines must end with CRLF (RFC 9112 §2.2)")
    static let bareCR = bad("bare CR in the request head (RFC 9112 §2.2)")
    static let invalidRequestLine = bad("invalid request line (RFC 9112 §3)")
    static let invalidMethod = bad("invalid method token (RFC 9110 §9.1)")
    static let invalidTarget = bad("invalid character in the request target (RFC 9112 §3.2)")
    static let invalidPercentEncoding = bad("invalid percent-encoding in the request target (RFC 3986 §2.1)")
    static let invalidVersion = bad("invalid HTTP version (RFC 9112 §2.3)")
    static let unsupportedVersion = HTTPParseError(505, "version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported")
    static let whitespaceBeforeHeaders = bad("whitespace between the request line and the first header (RFC 9112 §2.2)")
    static let obsoleteLineFolding = bad("obsolete line folding is not accepted (RFC 9112 §5.2)")
    static let invalidFieldName = bad("invalid header field name (RFC 9110 §5.1)")
    static let whitespaceBeforeColon = bad("whitespace between a header field name and the colon (RFC 9112 §5.1)")
    static let invalidFieldValue = bad("invalid character in a header field value (RFC 9110 §5.5)")
    static let missingHost = bad("an HTTP/1.1 request needs exactly one Host header (RFC 9112 §3.2)")
    static let invalidContentLength = bad("invalid Content-Length (RFC 9110 §8.6)")
    static let conflictingContentLength = bad("conflicting Content-Length values (RFC 9112 §6.3)")
    static let lengthAndChunked = bad("both Content-Length and Transfer-Encoding are present (RFC 9112 §6.3)")
    static let chunkedNotFinal = bad("chunked must be the final transfer coding (RFC 9112 §6.3)")
    static let invalidTransferEncoding = bad("invalid Transfer-Encoding (RFC 9112 §6.1)")
    static let transferEncodingInHTTP10 = bad("Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)")
    static let unsupportedTransferCoding = HTTPParseError(501, "transfer_coding_not_implemented", "only the chunked transfer coding is supported (RFC 9112 §6.1)")
    static let invalidChunkSize = bad("invalid chunk size (RFC 9112 §7.1)")
    static let invalidChunk = bad("invalid chunked framing (RFC 9112 §7.1)")
    static let invalidTrailer = bad("invalid trailer field (RFC 9112 §7.1.2)")
    static let tooManyEmptyLines = bad("too many empty lines before the request line (RFC 9112 §2.2)")
    static let unsupportedExpectation = HTTPParseError(417, "expectation_failed", "only the 100-continue expectation is supported (RFC 9110 §10.1.1)")
    static let headerTooLarge = HTTPParseError(431, "header_too_large", "the request line and headers exceed the size limit")
    static let tooManyHeaders = HTTPParseError(431, "too_many_headers", "the request has more header fields than allowed")
    static let bodyTooLarge = HTTPParseError(413, "body_too_large", "the request body exceeds the size limit")
    static let requestTimeout = HTTPParseError(408, "request_timeout", "the request was not received in time")
}

/// The limits the parser enforces. ``HTTPServer/Configuration`` fills them from `ATLAS_HTTP_*`.
public struct RequestLimits: Sendable, Equatable {
    /// Request line plus header section, in bytes, including line ends (431 beyond).
    public var maxHeaderBytes: Int
    /// Number of header fields (431 beyond); trailer fields count separately against the same limit.
    public var maxHeaderCount: Int
    /// Request body in bytes after chunked decoding (413 beyond, decided before reading it
    /// when Content-Length announces it).
    public var maxBodyBytes: Int

    public init(maxHeaderBytes: Int = 64 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 10 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
