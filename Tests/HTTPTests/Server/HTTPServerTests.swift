// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Core
import Foundation
import HTTP
import HTTPTypes
import Logging
import ServiceLifecycle
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A one-shot gate a handler can wait on and a test can open.
private final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resume = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resume { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}

/// Counts `/slow` requests whose handler has started.
private let slowStarted = Atomic<Int>(0)

private func liveRouter(gate: Gate = Gate()) -> Router {
    let router = Router()
    router.use(RequestIDMiddleware())
    router.use(CompressionMiddleware())
    router.inline.get("/health/live") { _, _ in .json(rawJSON: #"{"status":"ok"}"#) }
    router.inline.get("/inline/{n}") { _, context in .text("i\(try context.parameters.require("n"))") }
    router.get("/async/{n}") { _, context in
        let n = try context.parameters.require("n", as: Int.self)
        // Later requests finish first, so responses complete out of order.
        try await Task.sleep(for: .milliseconds(max(0, 40 - n)))
        return .text("a\(n)")
    }
    router.post("/echo") { request, _ in
        Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .bytes(request.body))
    }
    router.inline.post("/echo-inline") { request, _ in .text("\(request.body.count)") }
    router.get("/slow") { _, _ in
        slowStarted.add(1, ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(400))
        return .text("slow done")
    }
    router.get("/big") { _, _ in
        .text(String(repeating: "{\"key\":\"value\",\"n\":12345}", count: 400), contentType: "application/json")
    }
    router.get("/events") { _, _ in
        .stream(contentType: "text/event-stream") { writer in
            try await writer.writeEvent(data: "first", event: "step", id: "1")
            await gate.wait()
            try await writer.writeEvent(data: "second\nline", event: "step", id: "2")
            try await writer.writeComment("done")
        }
    }
    return router
}

@Suite("HTTP server over sockets", .serialized)
struct HTTPServerTests {
    @Test func servesKeepAliveRequestsOnOneConnection() async throws {
        try await withServer(liveRouter()) { port, _ in
            try await offload {
                let client = try TestClient(port: port)
                for _ in 0..<3 {
                    try client.send("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
                    let response = try client.readResponse()
                    #expect(response.status == 200)
                    #expect(response.text == #"{"status":"ok"}"#)
                    #expect(response.header("Content-Type") == "application/json")
                    #expect(response.header("Content-Length") == "15")
                    #expect(response.header("Date")?.hasSuffix(" GMT") == true)
                    #expect(response.header("X-Request-ID")?.count == 13)
                    #expect(response.header("Connection") == nil)
                }
                try client.send("GET /health/live HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                #expect(try client.readResponse().header("Connection") == "close")
                #expect(try client.isClosedByServer())
            }
        }
    }

    @Test func answersPipelinedRequestsInOrder_WhenAsyncHandlersFinishOutOfOrder() async throws {
        try await withServer(liveRouter()) { port, _ in
            try await offload {
                let client = try TestClient(port: port)
                var expected: [String] = []
                var batch = ""
                for n in 0..<60 {
                    let async = n % 3 != 0
                    batch += "GET /\(async ? "async" : "inline")/\(n) HTTP/1.1\r\nHost: t\r\n\r\n"
                    expected.append("\(async ? "a" : "i")\(n)")
                }
                try client.send(batch)
                var bodies: [String] = []
                for _ in 0..<60 { bodies.append(try client.readResponse().text) }
                #expect(bodies == expected)
                try client.send("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().status == 200)
            }
        }
    }

    @Test func closesHTTP10Connections_UnlessKeepAliveIsAsked() async throws {
        try await withServer(liveRouter()) { port, _ in
            try await offload {
                let closing = try TestClient(port: port)
                try closing.send("GET /health/live HTTP/1.0\r\n\r\n")
                let response = try closing.readResponse()
                #expect(response.status == 200)
                #expect(response.header("Connection") == "close")
                #expect(try closing.isClosedByServer())

                let keeping = try TestClient(port: port)
                try keeping.send("GET /health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                #expect(try keeping.readResponse().header("Connection") == "keep-alive")
                try keeping.send("GET /async/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                #expect(try keeping.readResponse().text == "a1")
            }
        }
    }

    @Test func sendsContinueOnlyForAcceptedBodies() async throws {
        try await withServer(liveRouter(), configure: { $0.limits.maxBodyBytes = 1024 }) { port, _ in
            try await offload {
                let client = try TestClient(port: port)
                try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                let interim = try client.readHead()
                #expect(interim.status == 100)
                try client.send("hello")
                let final = try client.readResponse()
                #expect(final.status == 200)
                #expect(final.text == "hello")

                let refused = try TestClient(port: port)
                try refused.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4096\r\n\r\n")
                let answer = try refused.readResponse()
                #expect(answer.status == 413)
                #expect(answer.header("Connection") == "close")
                #expect(try refused.isClosedByServer())

                let unknown = try TestClient(port: port)
                try unknown.send("POST /nowhere HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
                #expect(try unknown.readResponse().status == 404)
                #expect(try unknown.isClosedByServer())
            }
        }
    }

    @Test func answers413BeforeReadingA50MiBBody() async throws {
        try await withServer(liveRouter()) { port, _ in
            try await offload {
                let client = try TestClient(port: port)
                try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(50 << 20)\r\n\r\n")
                try client.send([UInt8](repeating: 0x61, count: 1000))
                let response = try client.readResponse()
                #expect(response.status == 413)
                #expect(try response.json()["code"] as? String == "body_too_large")
                #expect(response.header("X-Request-ID") != nil)
                #expect(try client.isClosedByServer())
            }
        }
    }

    @Test func readsBodiesAtTheLimit_AndPerRouteLimitsApply() async throws {
        let router = liveRouter()
        router.post("/tiny", maxBodyBytes: 4) { request, _ in .text("\(request.body.count)") }
        try await withServer(router, configure: { $0.limits.maxBodyBytes = 100_000 }) { port, _ in
            let body = String(repeating: "b", count: 100_000)
            let full = try await fetch(port, "POST /echo-inline HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n\(body)")
            #expect(full.text == "100000")
            let chunked = try await fetch(port, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nX-T: 1\r\n\r\n")
            #expect(chunked.text == "wikipedia")
            #expect(try await fetch(port, "POST /tiny HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n12345").status == 413)
            #expect(try await fetch(port, "POST /tiny HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n1234").text == "4")
        }
    }

    @Test func answers431ForOversizedHeads_AndTheClientReadsIt() async throws {
        try await withServer(liveRouter(), configure: {
            $0.limits.maxHeaderBytes = 4096
            $0.limits.maxHeaderCount = 10
        }) { port, _ in
            try await offload {
                let client = try TestClient(port: port)
                try client.send("GET /health/live HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "x", count: 8192))\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 431)
                #expect(try client.isClosedByServer())
                let fields = (0..<11).map { "X-\($0): v\r\n" }.joined()
                #expect(try TestClient(port: port).sendAndRead("GET / HTTP/1.1\r\nHost: t\r\n\(fields)\r\n").status == 431)
            }
        }
    }

    @Test func answers400ToSmuggledRequests_ThenCloses() async throws {
        try await withServer(liveRouter()) { port, _ in
            try await offload {
                let client = try TestClient(port: port)
                try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 400)
                #expect(response.header("Content-Type") == "application/problem+json")
                #expect(try client.isClosedByServer())
            }
        }
    }

    @Test func cutsOffClientsThatStallMidHeader() async throws {
        try await withServer(liveRouter(), configure: { $0.headerTimeout = .milliseconds(300) }) { port, _ in
            try await offload {
                let client = try TestClient(port: port, timeout: 3)
                let start = ContinuousClock.now
                try client.send("GET /health/live HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                let response = try client.readResponse()
                #expect(response.status == 408)
                #expect(try client.isClosedByServer())
                #expect(ContinuousClock.now - start < .seconds(2))
            }
        }
    }

    @Test func closesIdleKeepAliveConnections() async throws {
        try await withServer(liveRouter(), configure: { $0.idleTimeout = .milliseconds(300) }) { port, _ in
            try await offload {
                let client = try TestClient(port: port, timeout: 3)
                try client.send("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().status == 200)
                #expect(try client.isClosedByServer())
            }
        }
    }

    @Test func answersNewRequestsWhile1000IdleConnectionsAreOpen() async throws {
        try await withServer(liveRouter()) { port, _ in
            try await offload {
                let idle = try (0..<1000).map { _ in try TestClient(port: port) }
                let client = try TestClient(port: port)
                try client.send("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().status == 200)
                // The idle ones are still served too.
                try idle[999].send("GET /async/3 HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try idle[999].readResponse().text == "a3")
            }
        }
    }

    @Test func acceptsAndClosesConnectionsBeyondTheLimit() async throws {
        try await withServer(liveRouter(), configure: { $0.maxConnections = 2 }) { port, _ in
            try await offload {
                let first = try TestClient(port: port)
                let second = try TestClient(port: port)
                try first.send("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
                try second.send("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try first.readResponse().status == 200)
                #expect(try second.readResponse().status == 200)
                let third = try TestClient(port: port)
                #expect(try third.isClosedByServer())
            }
        }
    }

    @Test func compressesWithGzip_AndTheBodyRoundTrips() async throws {
        try await withServer(liveRouter()) { port, _ in
            let plain = try await fetch(port, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(plain.header("Content-Encoding") == nil)
            #expect(plain.header("Vary") == "Accept-Encoding")
            let compressed = try await fetch(port, "GET /big HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
            #expect(compressed.header("Content-Encoding") == "gzip")
            #expect(compressed.header("Vary") == "Accept-Encoding")
            #expect(compressed.body.count < plain.body.count / 4)
            #expect(try Gzip.decompress(compressed.body) == plain.body)
            let head = try await fetch(port, "HEAD /big HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n", head: true)
            #expect(head.header("Content-Length") == compressed.header("Content-Length"))
            #expect(head.header("Content-Encoding") == "gzip")
        }
    }

    @Test func streamsChunkedEventsWithoutBuffering() async throws {
        let gate = Gate()
        try await withServer(liveRouter(gate: gate)) { port, _ in
            let client = try TestClient(port: port)
            let head = try await offload {
                try client.send("GET /events HTTP/1.1\r\nHost: t\r\n\r\n")
                return try client.readHead()
            }
            #expect(head.status == 200)
            #expect(head.header("Transfer-Encoding") == "chunked")
            #expect(head.header("Content-Type") == "text/event-stream")
            #expect(head.header("Cache-Control") == "no-cache")
            #expect(head.header("Content-Length") == nil)
            // The first event arrives while the handler is still blocked on the gate.
            let first = try await offload { try client.readChunk() }
            #expect(first.map { String(decoding: $0, as: UTF8.self) } == "event: step\nid: 1\ndata: first\n\n")
            gate.open()
            let rest = try await offload { () -> [String] in
                var chunks: [String] = []
                while let chunk = try client.readChunk() { chunks.append(String(decoding: chunk, as: UTF8.self)) }
                return chunks
            }
            #expect(rest == ["event: step\nid: 2\ndata: second\ndata: line\n\n", ": done\n\n"])
            let next = try await offload {
                try client.send("GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
                return try client.readResponse()
            }
            #expect(next.status == 200)
        }
    }

    @Test func answersAfterTheClientHalfCloses() async throws {
        try await withServer(liveRouter()) { port, _ in
            try await offload {
                let client = try TestClient(port: port)
                try client.send("GET /async/5 HTTP/1.1\r\nHost: t\r\n\r\n")
                client.shutdownWrite()
                #expect(try client.readResponse().text == "a5")
                #expect(try client.isClosedByServer())
            }
        }
    }

    @Test func finishesInFlightRequestsOnGracefulShutdown() async throws {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, eventLoops: 2, workerThreads: 1)
        configuration.shutdownTimeout = .seconds(5)
        var logger = Logger(label: "atlas.http.test")
        logger.logLevel = .warning
        let server = HTTPServer(router: liveRouter(), configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try await server.listeningPort
            let idle = try await offload { try TestClient(port: port) }
            let startedBefore = slowStarted.load(ordering: .relaxed)
            let slow = Task { try await fetch(port, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n") }
            // Shut down only once the slow handler runs, however busy the machine is.
            while slowStarted.load(ordering: .relaxed) == startedBefore { try await Task.sleep(for: .milliseconds(5)) }
            let start = ContinuousClock.now
            await group.triggerGracefulShutdown()
            let response = try await slow.value
            #expect(response.status == 200)
            #expect(response.text == "slow done")
            #expect(response.header("Connection") == "close")
            try await tasks.waitForAll()
            #expect(ContinuousClock.now - start < .seconds(3))
            #expect(try await offload { try idle.isClosedByServer() })
            await #expect(throws: (any Error).self) { try await fetch(port, "GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n") }
        }
    }

    @Test func forceClosesRequestsThatOutliveTheShutdownTimeout() async throws {
        let router = Router()
        router.get("/forever") { _, _ in
            try await Task.sleep(for: .seconds(30))
            return .text("late")
        }
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0, eventLoops: 1, workerThreads: 1)
        configuration.shutdownTimeout = .milliseconds(200)
        let server = HTTPServer(router: router, configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await server.run() }
            let port = try await server.listeningPort
            let stuck = Task { try await fetch(port, "GET /forever HTTP/1.1\r\nHost: t\r\n\r\n") }
            try await Task.sleep(for: .milliseconds(100))
            let start = ContinuousClock.now
            server.shutdownGracefully()
            try await tasks.waitForAll()
            #expect(ContinuousClock.now - start < .seconds(2))
            await #expect(throws: (any Error).self) { try await stuck.value }
        }
    }

    @Test func writesAccessLogLinesWhenTheLoopFinishesABatch() async throws {
        let file = try TemporaryFile()
        let router = liveRouter()
        router.use(AccessLogMiddleware(sink: StandardOutputAccessLog(fileDescriptor: file.fd)))
        try await withServer(router) { port, _ in
            #expect(try await fetch(port, "GET /async/7 HTTP/1.1\r\nHost: t\r\nX-Request-ID: live-1\r\n\r\n").status == 200)
            #expect(try await fetch(port, "GET /health/live HTTP/1.1\r\nHost: t\r\nX-Request-ID: live-2\r\n\r\n").status == 200)
            // Nobody calls flush here: the event loop writes the buffered lines after its round.
            var lines: [String] = []
            for _ in 0..<100 where lines.count < 2 {
                lines = try file.contents().split(separator: "\n").map(String.init)
                if lines.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(lines.count == 2)
            #expect(lines.contains { $0.contains(#""path":"/async/7""#) && $0.contains(#""request_id":"live-1""#) })
            #expect(lines.contains { $0.contains(#""path":"/health/live""#) && $0.contains(#""status_code":200"#) })
        }
    }

    @Test func reportsBindFailures() async throws {
        try await withServer(liveRouter()) { port, _ in
            let second = HTTPServer(router: Router(), configuration: .init(host: "127.0.0.1", port: port, eventLoops: 1, workerThreads: 0))
            await #expect(throws: SocketError.self) { try await second.run() }
            await #expect(throws: HTTPServerError.self) { try await second.listeningPort }
        }
    }
}

extension TestClient {
    func sendAndRead(_ raw: String) throws -> WireResponse {
        try send(raw)
        return try readResponse()
    }
}
