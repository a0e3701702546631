// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Foundation
import HTTP
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A peer on a real loopback socket that plays a script, one list of steps per accepted
/// connection: each step reads one complete request (head plus Content-Length body) and then
/// answers it, answers and closes, or closes without answering. When a connection's steps run
/// out it stays open, unanswered, until the client closes it.
final class ScriptedPeer: @unchecked Sendable {
    // @unchecked: the descriptor is set once; requests are kept behind a Mutex.
    enum Step: Sendable {
        case answer(String)
        case answerAndClose(String)
        case closeWithoutAnswer
    }

    let listener: Int32
    let port: Int
    /// Every request read so far, across connections.
    var requests: [String] { recorded.withLock { $0 } }
    private let recorded = Recorded()
    private let thread: Thread

    init(connections: [[Step]]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let recorded = self.recorded
        thread = Thread {
            for steps in connections {
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { return }
                var pending: [UInt8] = []
                var open = true
                for step in steps where open {
                    guard let request = Self.readRequest(connection, &pending) else { open = false; break }
                    recorded.withLock { $0.append(request) }
                    switch step {
                    case .answer(let text): Self.write(connection, text)
                    case .answerAndClose(let text): Self.write(connection, text); open = false
                    case .closeWithoutAnswer: open = false
                    }
                }
                // Hold the connection until the client closes it.
                var byte = [UInt8](repeating: 0, count: 4096)
                while open, recv(connection, &byte, byte.count, 0) > 0 {}
                close(connection)
            }
        }
        thread.start()
    }

    final class Recorded: Sendable {
        private let lines = Mutex<[String]>([])
        func withLock<T>(_ body: (inout [String]) -> T) -> T { lines.withLock { body(&$0) } }
    }

    static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads one request (head and Content-Length body); nil when the client closed.
    static func readRequest(_ fd: Int32, _ pending: inout [UInt8]) -> String? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let text = String(decoding: pending, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n") {
                let head = String(text[..<headEnd.lowerBound])
                let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    return parts.count == 2 && parts[0].lowercased() == "content-length" ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : nil
                }.first ?? 0
                let headBytes = text[..<headEnd.upperBound].utf8.count
                if pending.count >= headBytes + length {
                    let request = String(decoding: pending[0..<(headBytes + length)], as: UTF8.self)
                    pending.removeFirst(headBytes + length)
                    return request
                }
            }
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            pending.append(contentsOf: chunk[0..<count])
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

@Suite struct HTTPClientTests {
    static let ok = ScriptedPeer.Step.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    @Test func parsesHTTPAndHTTPSURLsAndRefusesOthers() throws {
        let collector = try #require(HTTPClient(url: "http://otel-collector:4318/"))
        #expect(collector.host == "otel-collector" && collector.port == 4318 && collector.basePath == "")
        let v6 = try #require(HTTPClient(url: "http://[::1]:9/prefix/v1/"))
        #expect(v6.host == "::1" && v6.port == 9 && v6.basePath == "/prefix/v1")
        let bare = try #require(HTTPClient(url: "HTTP://example.org"))
        #expect(bare.port == 80 && bare.basePath == "" && bare.scheme == .http)
        let tls = try #require(HTTPClient(url: "https://api.openai.com/v1"))
        #expect(tls.scheme == .https && tls.port == 443 && tls.basePath == "/v1")
        #expect(try #require(HTTPClient(url: "HTTPS://collector:4318")).port == 4318)
        for url in ["ftp://x", "https://", "https://host:0", "http://", "http://host:0", "http://host:99999", "http://user@host/",
                    "http://host:port", "http://[::1"] {
            #expect(HTTPClient(url: url) == nil, "\(url)")
        }
    }

    @Test func postsOverOneKeptAliveConnection() throws {
        let peer = try ScriptedPeer(connections: [[Self.ok, Self.ok, Self.ok]])
        defer { peer.stop() }
        let client = try #require(HTTPClient(url: "http://127.0.0.1:\(peer.port)"))
        for index in 0..<3 {
            let response = try client.send("POST", "/v1/traces", headers: [("Content-Type", "application/x-protobuf")],
                                           body: Array("batch \(index)".utf8), timeout: .seconds(5))
            #expect(response.status == 200)
            #expect(response.body == Array("ok".utf8))
        }
        // One connection served all three: a second one would never have been accepted.
        let requests = peer.requests
        #expect(requests.count == 3)
        #expect(requests[0].hasPrefix("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:\(peer.port)\r\n"))
        #expect(requests[0].contains("Content-Type: application/x-protobuf\r\n"))
        #expect(requests[2].hasSuffix("Content-Length: 7\r\n\r\nbatch 2"))
    }

    @Test func skipsInterimAnswersAndDecodesChunkedBodies() throws {
        let chunked = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        let peer = try ScriptedPeer(connections: [[.answer(chunked), Self.ok]])
        defer { peer.stop() }
        let client = try #require(HTTPClient(url: "http://127.0.0.1:\(peer.port)/"))
        let response = try client.send("POST", "/", body: [1, 2, 3], timeout: .seconds(5))
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "7")
        #expect(String(decoding: response.body, as: UTF8.self) == "hello world")
        // The chunked body ended cleanly, so the connection carries the next request.
        #expect(try client.send("POST", "/", body: [4], timeout: .seconds(5)).status == 200)
    }

    @Test func replacesAConnectionThePeerClosedWhileIdle() throws {
        // The first connection answers once, then the peer closes it as the client reuses it.
        let peer = try ScriptedPeer(connections: [[Self.ok, .closeWithoutAnswer], [Self.ok]])
        defer { peer.stop() }
        let client = try #require(HTTPClient(url: "http://127.0.0.1:\(peer.port)"))
        #expect(try client.send("POST", "/a", body: [1], timeout: .seconds(5)).status == 200)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(try client.send("POST", "/b", body: [2], timeout: .seconds(5)).status == 200)
        #expect(peer.requests.count == 3, "the request that met the closed connection was sent again")
    }

    @Test func closesWhenThePeerSaysSoAndReadsToTheEnd() throws {
        let closing = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"
        let peer = try ScriptedPeer(connections: [[.answerAndClose(closing)], [Self.ok]])
        defer { peer.stop() }
        let client = try #require(HTTPClient(url: "http://127.0.0.1:\(peer.port)"))
        let first = try client.send("GET", "/", timeout: .seconds(5))
        #expect(String(decoding: first.body, as: UTF8.self) == "until the end")
        #expect(try client.send("GET", "/", timeout: .seconds(5)).status == 200)
    }

    @Test func aPeerThatNeverAnswersCostsOnlyTheTimeout() throws {
        let peer = try ScriptedPeer(connections: [[]])
        defer { peer.stop() }
        let client = try #require(HTTPClient(url: "http://127.0.0.1:\(peer.port)"))
        let start = ContinuousClock.now
        #expect {
            _ = try client.send("POST", "/", body: Array(repeating: 7, count: 1000), timeout: .milliseconds(300))
        } throws: { ($0 as? HTTPClientError)?.kind == .timeout }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3), "\(elapsed)")
    }

    @Test func refusedConnectionsAndMalformedOrOversizedAnswersAreErrors() throws {
        let unused = try ScriptedPeer(connections: [])
        let port = unused.port
        unused.stop()
        let refused = try #require(HTTPClient(url: "http://127.0.0.1:\(port)"))
        #expect { _ = try refused.send("GET", "/", timeout: .seconds(2)) } throws: { ($0 as? HTTPClientError)?.kind == .connect }
        let unresolvable = try #require(HTTPClient(url: "http://no-such-host.invalid:4318"))
        #expect { _ = try unresolvable.send("GET", "/", timeout: .seconds(2)) } throws: { ($0 as? HTTPClientError)?.kind == .connect }

        let peer = try ScriptedPeer(connections: [[.answer("SSH-2.0-OpenSSH\r\n\r\n")],
                                                  [.answer("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")],
                                                  [.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")]])
        defer { peer.stop() }
        let client = try #require(HTTPClient(url: "http://127.0.0.1:\(peer.port)", maxResponseBytes: 1024))
        #expect { _ = try client.send("GET", "/", timeout: .seconds(2)) } throws: { ($0 as? HTTPClientError)?.kind == .malformedResponse }
        #expect { _ = try client.send("GET", "/", timeout: .seconds(2)) } throws: { ($0 as? HTTPClientError)?.kind == .responseTooLarge }
        #expect { _ = try client.send("GET", "/", timeout: .seconds(2)) } throws: { ($0 as? HTTPClientError)?.kind == .malformedResponse }
    }

    @Test func requestTargetsOfWholeURLs() {
        #expect(HTTPClient.requestTarget(of: "https://api.example.com/v1/x?y=1#frag") == "/v1/x?y=1")
        #expect(HTTPClient.requestTarget(of: "http://h:8080") == "/")
        #expect(HTTPClient.requestTarget(of: "http://h?q=1") == "/?q=1")
    }

    @Test func concurrentCallersEachGetAConnectionSoASlowOneBlocksNobody() async throws {
        // The slow request's answer waits until the quick one has its own: were the quick request
        // queued behind the slow one (one connection, or one thread), it would time out instead.
        let released = Atomic<Bool>(false)
        let router = Router()
        router.post("/slow") { _, _ in
            let deadline = ContinuousClock.now + .seconds(20)
            while !released.load(ordering: .acquiring), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            return .text("slow")
        }
        router.post("/quick") { _, _ in .text("quick") }
        try await withServer(router) { port, _ in
            let client = try #require(HTTPClient(url: "http://127.0.0.1:\(port)"))
            let slow = Task { try await client.perform("POST", "/slow", body: [1], timeout: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(200))
            let quick = try await client.perform("POST", "/quick", body: [2], timeout: .seconds(10))
            #expect(String(decoding: quick.body, as: UTF8.self) == "quick")
            released.store(true, ordering: .releasing)
            #expect(String(decoding: try await slow.value.body, as: UTF8.self) == "slow")
        }
    }

    @Test func cancellingTheAwaitingTaskReturnsAtOnce() async throws {
        let router = Router()
        router.post("/slow") { _, _ in
            try await Task.sleep(for: .seconds(2))
            return .text("slow")
        }
        try await withServer(router) { port, _ in
            let client = try #require(HTTPClient(url: "http://127.0.0.1:\(port)"))
            let slow = Task { try await client.perform("POST", "/slow", body: [1], timeout: .seconds(5)) }
            try await Task.sleep(for: .milliseconds(200))
            // The exchange itself ends on its own, by its answer or its deadline.
            slow.cancel()
            await #expect { _ = try await slow.value } throws: { ($0 as? HTTPClientError)?.kind == .cancelled }
        }
    }

    @Test func talksToAtlasOwnServer() async throws {
        let router = Router()
        router.post("/v1/traces") { request, _ in .text("\(request.body.count) \(request.headers["content-type"] ?? "-")") }
        try await withServer(router) { port, _ in
            let client = try #require(HTTPClient(url: "http://localhost:\(port)"))
            let body = [UInt8](repeating: 0x2A, count: 300_000)
            for _ in 0..<3 {
                let response = try client.send("POST", "/v1/traces", headers: [("Content-Type", "application/x-protobuf")],
                                               body: body, timeout: .seconds(10))
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "300000 application/x-protobuf")
            }
            #expect(try client.send("GET", "/v1/traces", timeout: .seconds(5)).status == 405)
        }
    }
}
