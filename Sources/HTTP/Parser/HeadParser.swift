// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTPTypes
#if canImport(Glibc)
import Glibc
#endif

/// Finds the end of a request head without parsing it, resumably.
///
/// Bytes are scanned once with `memchr` for LF, so a client that trickles its head a byte at a
/// time costs linear, not quadratic, work. Every LF must follow a CR: this server does not take
/// RFC 9112 §2.2's option to accept a bare LF as a line end, because proxies that disagree on it
/// can be made to see different requests (a smuggling vector). A bare LF is answered with 400.
struct HeadScanner {
    private(set) var scanned = 0
    private var lineStart = 0
    private var lines = 0

    enum Result { case incomplete, complete(Int), failure(HTTPParseError) }

    mutating func scan(_ bytes: UnsafeRawBufferPointer, limits: RequestLimits) -> Result {
        guard let base = bytes.baseAddress else { return .incomplete }
        while scanned < bytes.count {
            guard let found = memchr(base + scanned, Int32(ByteClass.lf), bytes.count - scanned) else {
                scanned = bytes.count
                break
            }
            let lf = base.distance(to: UnsafeRawPointer(found))
            if lf + 1 > limits.maxHeaderBytes { return .failure(.headerTooLarge) }
            guard lf > 0, bytes[lf - 1] == ByteClass.cr else { return .failure(.bareLF) }
            if lf - 1 == lineStart {
                return lines == 0 ? .failure(.invalidRequestLine) : .complete(lf + 1)
            }
            lines += 1
            // The request line plus `maxHeaderCount` fields.
            if lines > limits.maxHeaderCount + 1 { return .failure(.tooManyHeaders) }
            lineStart = lf + 1
            scanned = lf + 1
        }
        if bytes.count >= limits.maxHeaderBytes { return .failure(.headerTooLarge) }
        return .incomplete
    }
}

/// Parses a complete request head (request line, fields, final CRLF) into a ``RequestStorage``.
enum HeadParser {
    /// Parses `count` bytes that ``HeadScanner`` found to be a complete head.
    /// Whether every byte of `word` is in 0x21...0x7E (no byte below 0x21, none above 0x7E), by
    /// the bit tricks of graphics.stanford.edu/~seander/bithacks.html#HasLessInWord.
    @inline(__always)
    static func allVisible(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let below = (word &- ones &* 0x21) & ~word & highs
        let above = ((word &+ ones &* (127 - 0x7E)) | word) & highs
        return below | above == 0
    }

    static func parse(_ source: UnsafeRawPointer, count: Int, into storage: RequestStorage,
                      limits: RequestLimits) -> HTTPParseError? {
        storage.load(source, count: count)
        let p = UnsafeRawBufferPointer(start: storage.head, count: count)
        var i = 0

        // RFC 9112 §3: request-line = method SP request-target SP HTTP-version CRLF, with exactly
        // one SP between the parts (no lenient whitespace splitting).
        while i < count, ByteClass.isToken(p[i]) { i += 1 }
        guard i > 0, i < count, p[i] == ByteClass.space else { return .invalidMethod }
        guard let method = methodFrom(p, count: i) else { return .invalidMethod }
        storage.method = method
        storage.methodIndex = MethodIndex(method)
        i += 1

        let targetStart = i
        var queryMark = -1
        while i < count {
            let byte = p[i]
            guard ByteClass.isTarget(byte) else { break }
            if byte == ByteClass.percent {
                guard i + 2 < count, ByteClass.hexValue(p[i + 1]) != nil, ByteClass.hexValue(p[i + 2]) != nil else {
                    return .invalidPercentEncoding
                }
                i += 2
            } else if byte == ByteClass.question, queryMark < 0 {
                queryMark = i
            }
            i += 1
        }
        guard i > targetStart, i < count, p[i] == ByteClass.space else {
            return i < count && p[i] == ByteClass.cr ? .invalidRequestLine : .invalidTarget
        }
        storage.targetStart = targetStart
        storage.targetCount = i - targetStart
        if let failure = locatePath(p, targetStart: targetStart, targetEnd: i, queryMark: queryMark, storage: storage) {
            return failure
        }
        i += 1

        // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3)
        guard i + 10 <= count,
              p[i] == 0x48, p[i + 1] == 0x54, p[i + 2] == 0x54, p[i + 3] == 0x50, p[i + 4] == ByteClass.slash,
              p[i + 5] &- 0x30 < 10, p[i + 6] == 0x2E, p[i + 7] &- 0x30 < 10,
              p[i + 8] == ByteClass.cr, p[i + 9] == ByteClass.lf
        else { return .invalidVersion }
        guard p[i + 5] == 0x31 else { return p[i + 5] == 0x30 ? .invalidVersion : .unsupportedVersion }
        // A higher minor version is answered as the highest we implement (RFC 9110 §2.5).
        storage.minorVersion = p[i + 7] == 0x30 ? 0 : 1
        i += 10

        var hostCount = 0
        var connectionClose = false
        var connectionKeepAlive = false
        var transferCodings = 0
        var chunkedCount = 0
        var lastIsChunked = false
        var first = true

        while i < count {
            if p[i] == ByteClass.cr {
                // The empty line ending the head; the scanner guarantees it is the last line.
                break
            }
            if ByteClass.isWhitespace(p[i]) {
                return first ? .whitespaceBeforeHeaders : .obsoleteLineFolding
            }
            first = false
            let nameStart = i
            while i < count, ByteClass.isToken(p[i]) { i += 1 }
            guard i < count, i > nameStart else { return .invalidFieldName }
            guard p[i] == ByteClass.colon else {
                return ByteClass.isWhitespace(p[i]) ? .whitespaceBeforeColon : .invalidFieldName
            }
            let nameCount = i - nameStart
            i += 1
            while i < count, ByteClass.isWhitespace(p[i]) { i += 1 }
            let valueStart = i
            var valueEnd = i
            while i < count {
                // Eight bytes at a time while all are visible ASCII (0x21–0x7E), as long values such
                // as bearer tokens are; a word with anything else (space, tab, obs-text, CR) is
                // taken byte by byte.
                if i + 8 <= count, Self.allVisible(p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                    i += 8
                    valueEnd = i
                    continue
                }
                let byte = p[i]
                if byte == ByteClass.cr { break }
                guard ByteClass.isFieldValue(byte) else { return .invalidFieldValue }
                i += 1
                if !ByteClass.isWhitespace(byte) { valueEnd = i }
            }
            guard i + 1 < count, p[i + 1] == ByteClass.lf else { return .bareCR }
            i += 2

            if storage.fields.count >= limits.maxHeaderCount { return .tooManyHeaders }
            let field = FieldIndex(nameStart: UInt32(nameStart), nameCount: UInt32(nameCount),
                                   valueStart: UInt32(valueStart), valueCount: UInt32(valueEnd - valueStart))
            storage.fields.append(field)

            let name = storage.head + nameStart
            let value = UnsafeRawBufferPointer(start: storage.head + valueStart, count: valueEnd - valueStart)
            switch nameCount {
            case 4 where ByteClass.equalsLowercase(name, 4, "host"):
                hostCount += 1
            case 6 where ByteClass.equalsLowercase(name, 6, "expect"):
                guard let base = value.baseAddress, ByteClass.equalsLowercase(base, value.count, "100-continue") else {
                    return .unsupportedExpectation
                }
                storage.expectsContinue = true
            case 10 where ByteClass.equalsLowercase(name, 10, "connection"):
                forEachListElement(value) { element in
                    if ByteClass.equalsLowercase(element.baseAddress!, element.count, "close") { connectionClose = true }
                    if ByteClass.equalsLowercase(element.baseAddress!, element.count, "keep-alive") { connectionKeepAlive = true }
                    return true
                }
            case 14 where ByteClass.equalsLowercase(name, 14, "content-length"):
                var failure: HTTPParseError?
                var sawElement = false
                forEachListElement(value) { element in
                    sawElement = true
                    // RFC 9110 §8.6: 1*DIGIT. More than 18 digits cannot be a length we accept
                    // and would overflow, so it is malformed rather than merely too large.
                    guard element.count <= 18 else { failure = .invalidContentLength; return false }
                    var length = 0
                    for byte in element {
                        guard byte &- 0x30 < 10 else { failure = .invalidContentLength; return false }
                        length = length * 10 + Int(byte - 0x30)
                    }
                    // RFC 9112 §6.3 item 5: differing values (in one list or across fields)
                    // leave the length undeterminable; identical repeats are tolerated.
                    if storage.contentLength >= 0, storage.contentLength != length {
                        failure = .conflictingContentLength
                        return false
                    }
                    storage.contentLength = length
                    return true
                }
                if let failure { return failure }
                if !sawElement { return .invalidContentLength }
            case 17 where ByteClass.equalsLowercase(name, 17, "transfer-encoding"):
                var valid = true
                var sawElement = false
                forEachListElement(value) { element in
                    sawElement = true
                    transferCodings += 1
                    lastIsChunked = ByteClass.equalsLowercase(element.baseAddress!, element.count, "chunked")
                    if lastIsChunked { chunkedCount += 1 }
                    // Transfer codings are tokens, possibly with parameters; chunked takes none.
                    if !lastIsChunked, !element.allSatisfy({ ByteClass.isToken($0) || $0 == 0x3B || $0 == 0x3D || ByteClass.isWhitespace($0) || $0 == 0x22 }) {
                        valid = false
                        return false
                    }
                    return true
                }
                guard valid, sawElement else { return .invalidTransferEncoding }
            default:
                break
            }
        }

        // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without exactly one Host.
        if storage.minorVersion == 1, hostCount != 1 { return .missingHost }

        if transferCodings > 0 {
            // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
            if storage.minorVersion == 0 { return .transferEncodingInHTTP10 }
            // RFC 9112 §6.3: both headers is a smuggling shape; this server rejects it outright
            // rather than letting Transfer-Encoding override.
            if storage.contentLength >= 0 { return .lengthAndChunked }
            // RFC 9112 §6.3 item 4: chunked must be final, else the length is unknowable.
            if !lastIsChunked { return .chunkedNotFinal }
            // RFC 9112 §7: chunked MUST NOT be applied more than once.
            if chunkedCount > 1 { return .invalidTransferEncoding }
            // Codings before chunked (gzip, deflate) are not decoded here (RFC 9112 §6.1: 501).
            if transferCodings > 1 { return .unsupportedTransferCoding }
            storage.isChunked = true
        }

        storage.keepAlive = storage.minorVersion == 1 ? !connectionClose : (connectionKeepAlive && !connectionClose)
        return nil
    }

    /// Splits a `#element` list (RFC 9110 §5.6.1) on commas, trimming optional whitespace and
    /// skipping empty elements; `body` returns false to stop.
    @inline(__always)
    private static func forEachListElement(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Bool) {
        guard let base = value.baseAddress else { return }
        var start = 0
        let count = value.count
        while start <= count {
            var end = start
            while end < count, value[end] != 0x2C { end += 1 }
            var low = start
            var high = end
            while low < high, ByteClass.isWhitespace(value[low]) { low += 1 }
            while high > low, ByteClass.isWhitespace(value[high - 1]) { high -= 1 }
            if high > low {
                if !body(UnsafeRawBufferPointer(start: base + low, count: high - low)) { return }
            }
            start = end + 1
        }
    }

    private static func methodFrom(_ p: UnsafeRawBufferPointer, count: Int) -> HTTPRequest.Method? {
        // Methods are case-sensitive (RFC 9110 §9.1).
        @inline(__always) func matches(_ text: StaticString) -> Bool {
            count == text.utf8CodeUnitCount && memcmp(p.baseAddress!, text.utf8Start, count) == 0
        }
        switch count {
        case 3:
            if matches("GET") { return .get }
            if matches("PUT") { return .put }
        case 4:
            if matches("POST") { return .post }
            if matches("HEAD") { return .head }
        case 5:
            if matches("PATCH") { return .patch }
            if matches("TRACE") { return .trace }
        case 6:
            if matches("DELETE") { return .delete }
        case 7:
            if matches("OPTIONS") { return .options }
            if matches("CONNECT") { return .connect }
        default:
            break
        }
        return HTTPRequest.Method(String(decoding: UnsafeRawBufferPointer(rebasing: p[0..<count]), as: UTF8.self))
    }

    /// Finds the path and query inside the target (RFC 9112 §3.2): origin-form (`/path?query`),
    /// absolute-form (`http://host/path`, which a server MUST accept), and asterisk-form (`*`,
    /// OPTIONS only). Authority-form belongs to CONNECT, which this server does not serve.
    private static func locatePath(_ p: UnsafeRawBufferPointer, targetStart: Int, targetEnd: Int, queryMark: Int,
                                   storage: RequestStorage) -> HTTPParseError? {
        var pathStart = targetStart
        let first = p[targetStart]
        if first == ByteClass.slash {
            // origin-form
        } else if first == 0x2A {
            guard targetEnd - targetStart == 1, storage.methodIndex == .options else { return .invalidTarget }
        } else {
            // absolute-form: scheme "://" authority path-abempty [ "?" query ]
            let length = targetEnd - targetStart
            let base = p.baseAddress! + targetStart
            let schemeLength: Int
            if length >= 7, ByteClass.equalsLowercase(base, 7, "http://") {
                schemeLength = 7
            } else if length >= 8, ByteClass.equalsLowercase(base, 8, "https://") {
                schemeLength = 8
            } else {
                return .invalidTarget
            }
            pathStart = targetStart + schemeLength
            while pathStart < targetEnd, p[pathStart] != ByteClass.slash, p[pathStart] != ByteClass.question { pathStart += 1 }
            guard pathStart > targetStart + schemeLength else { return .invalidTarget }
        }
        let pathEnd = queryMark >= 0 ? queryMark : targetEnd
        storage.pathStart = pathStart
        storage.pathCount = Swift.max(0, pathEnd - pathStart)
        if queryMark >= 0 {
            storage.queryStart = queryMark + 1
            storage.queryCount = targetEnd - queryMark - 1
        }
        return nil
    }
}
