// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import HTTP
import HTTPTypes
import Testing

/// Parses `text` completely and returns the requests, or the error a server would answer with.
private func parse(_ text: String, limits: RequestLimits = RequestLimits()) throws(HTTPParseError) -> [Request] {
    try parse(Array(text.utf8), limits: limits)
}

private func parse(_ bytes: [UInt8], limits: RequestLimits = RequestLimits()) throws(HTTPParseError) -> [Request] {
    var parser = RequestStreamParser(limits: limits)
    parser.append(bytes)
    var requests: [Request] = []
    while let request = try parser.next() { requests.append(request) }
    return requests
}

private func rejection(_ text: String, limits: RequestLimits = RequestLimits()) -> HTTPParseError? {
    do {
        let requests = try parse(text, limits: limits)
        Issue.record("accepted \(requests.count) request(s): \(text.debugDescription)")
        return nil
    } catch {
        return error
    }
}

@Suite("Request parser")
struct RequestParserTests {
    @Test func parsesRequestLineHeadersAndQuery() throws {
        let requests = try parse("GET /tenants/acme/usage?hours=24&name=a%20b+c HTTP/1.1\r\nHost: example\r\nX-Trace:  abc \r\nx-trace: def\r\n\r\n")
        let request = try #require(requests.first)
        #expect(requests.count == 1)
        #expect(request.method == .get)
        #expect(request.path == "/tenants/acme/usage")
        #expect(request.target == "/tenants/acme/usage?hours=24&name=a%20b+c")
        #expect(request.rawQuery == "hours=24&name=a%20b+c")
        #expect(request.query["hours"] == "24")
        #expect(request.query["name"] == "a b c")
        #expect(request.headers["x-trace"] == "abc, def")
        #expect(request.headers.values("X-TRACE") == ["abc", "def"])
        #expect(request.headers[HTTPField.Name("Host")!] == "example")
        #expect(request.keepAlive)
        #expect(request.body.isEmpty)
    }

    @Test func acceptsAbsoluteFormTarget() throws {
        let request = try #require(try parse("GET http://example.com/a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n").first)
        #expect(request.path == "/a/b")
        #expect(request.query["x"] == "1")
        let bare = try #require(try parse("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n").first)
        #expect(bare.path == "/")
    }

    @Test func ignoresEmptyLinesBeforeRequestLine() throws {
        let requests = try parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(requests.count == 1)
    }

    @Test func readsContentLengthBody() throws {
        let request = try #require(try parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").first)
        #expect(request.body == Array("hello".utf8))
    }

    @Test func toleratesRepeatedIdenticalContentLength() throws {
        let request = try #require(try parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc").first)
        #expect(request.body == Array("abc".utf8))
    }

    @Test func decodesChunkedBodyWithExtensionsAndTrailers() throws {
        let text = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value;flag\r\nhello\r\n" + "6 ; q=\"quoted;text\"\r\n world\r\n" + "000\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
        let request = try #require(try parse(text).first)
        #expect(String(decoding: request.body, as: UTF8.self) == "hello world")
    }

    @Test func http10ClosesUnlessKeepAliveRequested() throws {
        let closing = try #require(try parse("GET / HTTP/1.0\r\n\r\n").first)
        #expect(!closing.keepAlive)
        #expect(closing.minorVersion == 0)
        let keeping = try #require(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").first)
        #expect(keeping.keepAlive)
        let http11Close = try #require(try parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n").first)
        #expect(!http11Close.keepAlive)
    }

    @Test func treatsHigherMinorVersionAsHTTP11() throws {
        let request = try #require(try parse("GET / HTTP/1.7\r\nHost: a\r\n\r\n").first)
        #expect(request.minorVersion == 1)
    }

    // MARK: Limits

    @Test func rejectsOversizedHead_With431() {
        let limits = RequestLimits(maxHeaderBytes: 1024)
        let head = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "a", count: 1024))\r\n\r\n"
        #expect(rejection(head, limits: limits)?.status == 431)
        // Incomplete heads are cut off as soon as they pass the limit, without waiting for the end.
        var parser = RequestStreamParser(limits: limits)
        parser.append(Array("GET / HTTP/1.1\r\nX-Big: ".utf8) + [UInt8](repeating: 0x61, count: 2000))
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    @Test func acceptsHeadExactlyAtTheLimit() throws {
        let base = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \r\n\r\n"
        let padding = String(repeating: "p", count: 1024 - base.utf8.count)
        let head = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \(padding)\r\n\r\n"
        #expect(head.utf8.count == 1024)
        #expect(try parse(head, limits: RequestLimits(maxHeaderBytes: 1024)).count == 1)
        #expect(rejection(head, limits: RequestLimits(maxHeaderBytes: 1023))?.status == 431)
    }

    @Test func rejectsTooManyHeaders_With431() throws {
        let fields = (0..<100).map { "X-\($0): v\r\n" }.joined()
        #expect(try parse("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n", limits: RequestLimits(maxHeaderCount: 101)).count == 1)
        #expect(rejection("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n", limits: RequestLimits(maxHeaderCount: 100))?.status == 431)
    }

    @Test func rejectsDeclaredBodyOverLimit_With413() {
        let error = rejection("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits: RequestLimits(maxBodyBytes: 10))
        #expect(error?.status == 413)
    }

    @Test func rejectsChunkedBodyOverLimit_With413() {
        let text = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n"
        #expect(rejection(text, limits: RequestLimits(maxBodyBytes: 10))?.status == 413)
    }

    @Test func rejectsTooManyTrailers_With431() {
        let trailers = (0..<5).map { "T\($0): v\r\n" }.joined()
        let text = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\(trailers)\r\n"
        #expect(rejection(text, limits: RequestLimits(maxHeaderCount: 4))?.status == 431)
    }

    // MARK: Smuggling shapes and malformed input (all 400 unless noted)

    @Test(arguments: [
        ("both Content-Length and chunked", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("chunked then Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
        ("duplicate differing Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"),
        ("differing Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello"),
        ("signed Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello"),
        ("negative Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"),
        ("hex Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello"),
        ("empty Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n"),
        ("overflowing Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        ("transfer coding other than chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"),
        ("chunked not final", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
        ("chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ("identity coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"),
        ("chunked with a parameter", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n"),
        ("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n"),
        ("whitespace before first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
        ("bare LF in the head", "GET / HTTP/1.1\nHost: a\r\n\r\n"),
        ("bare LF as the final line", "GET / HTTP/1.1\r\nHost: a\r\n\n"),
        ("bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"),
        ("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
        ("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"),
        ("empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: value\r\n\r\n"),
        ("invalid field name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): value\r\n\r\n"),
        ("NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n"),
        ("DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}b\r\n\r\n"),
        ("missing Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
        ("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ("space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("quote in target", "GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("angle bracket in target", "GET /<script> HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("backslash in target", "GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("fragment in target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("non-ASCII in target", "GET /caf\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("bad percent-encoding", "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("truncated percent-encoding", "GET /a% HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("invalid method character", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("missing version", "GET /\r\nHost: a\r\n\r\n"),
        ("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n"),
        ("trailing space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
        ("invalid chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ("overflowing chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFFF\r\n"),
        ("negative chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"),
        ("chunk data longer than its size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"),
        ("bare LF after chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n"),
        ("whitespace after chunk size without extension", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2 \r\nab\r\n0\r\n\r\n"),
        ("obs-fold in trailers", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n"),
        ("space before colon in trailer", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : a\r\n\r\n"),
    ])
    func rejectsMalformedOrAmbiguousRequest_With400(_ shape: String, _ text: String) {
        let error = rejection(text)
        #expect(error?.status == 400, "\(shape): \(String(describing: error))")
    }

    @Test func rejectsCodingBeforeChunked_With501() {
        #expect(rejection("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")?.status == 501)
    }

    @Test func rejectsUnknownMajorVersion_With505() {
        #expect(rejection("GET / HTTP/2.0\r\nHost: a\r\n\r\n")?.status == 505)
    }

    @Test func rejectsUnsupportedExpectation_With417() {
        #expect(rejection("POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx")?.status == 417)
    }

    @Test func keepsFailingAfterAnError() {
        var parser = RequestStreamParser()
        parser.append(Array("GET / HTTP/1.1\r\nHost : a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    // MARK: Pipelining and arbitrary splits

    static let pipelined: [UInt8] = Array((
        "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
        + "POST /two?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
        + "\r\nPUT /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer-A: 1\r\n\r\n"
        + "HEAD /four HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        + "DELETE /five HTTP/1.0\r\nContent-Length: 0\r\n\r\n"
    ).utf8)

    static func summary(_ requests: [Request]) -> [String] {
        requests.map { "\($0.method.rawValue) \($0.target) \($0.keepAlive) \(String(decoding: $0.body, as: UTF8.self))" }
    }

    static let expected = [
        "GET /one true ", "POST /two?x=1 true hello", "PUT /three true abcde", "HEAD /four false ", "DELETE /five false ",
    ]

    @Test func parsesPipelinedRequestsSplitAtEveryByteBoundary() throws {
        let bytes = Self.pipelined
        #expect(Self.summary(try parse(bytes)) == Self.expected)
        for split in 0...bytes.count {
            var parser = RequestStreamParser()
            var requests: [Request] = []
            parser.append(bytes[0..<split])
            while let request = try parser.next() { requests.append(request) }
            parser.append(bytes[split...])
            while let request = try parser.next() { requests.append(request) }
            #expect(Self.summary(requests) == Self.expected, "split at \(split)")
            #expect(!parser.hasPartialRequest)
        }
    }

    @Test func parsesPipelinedRequestsFedOneByteAtATime() throws {
        var parser = RequestStreamParser()
        var requests: [Request] = []
        for byte in Self.pipelined {
            parser.append(CollectionOfOne(byte))
            while let request = try parser.next() { requests.append(request) }
        }
        #expect(Self.summary(requests) == Self.expected)
    }

    @Test func requestsKeepTheirOwnBytesAfterLaterRequestsAreParsed() throws {
        var parser = RequestStreamParser()
        parser.append(Array("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n1".utf8))
        let first = try #require(try parser.next())
        parser.append(Array("POST /bb HTTP/1.1\r\nHost: b\r\nContent-Length: 2\r\n\r\n22".utf8))
        let second = try #require(try parser.next())
        #expect(first.path == "/a" && first.body == [0x31] && first.headers["host"] == "a")
        #expect(second.path == "/bb" && second.body == [0x32, 0x32] && second.headers["host"] == "b")
    }
}
