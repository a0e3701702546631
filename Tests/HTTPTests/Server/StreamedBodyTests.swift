// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Foundation
import HTTP
import HTTPTypes
import Synchronization
import Testing

@Suite struct StreamedBodyTests {
    /// What the handlers saw, for the assertions that cannot read it off the response.
    final class Observations: Sendable {
        let failures = Mutex<[String]>([])
    }

    static func router(_ observed: Observations = Observations()) -> Router {
        let router = Router()
        router.on(.post, "/sum", maxBodyBytes: 256 << 20, body: .streamed) { request, _ in
            var bytes = 0
            var checksum: UInt32 = 0
            var chunks = 0
            do {
                for try await chunk in request.bodyChunks {
                    chunks += 1
                    bytes += chunk.count
                    for byte in chunk { checksum = checksum &+ UInt32(byte) }
                }
            } catch let error as RequestBodyError {
                observed.failures.withLock { $0.append(error.code) }
                throw error
            }
            return .text("\(bytes) \(checksum) \(chunks)")
        }
        router.on(.post, "/small", maxBodyBytes: 1 << 20, body: .streamed) { request, _ in
            var bytes = 0
            for try await chunk in request.bodyChunks { bytes += chunk.count }
            return .text("\(bytes)")
        }
        router.on(.post, "/late", maxBodyBytes: 256 << 20, body: .streamed) { request, _ in
            // Reads nothing for a while: the server must stop reading the socket meanwhile.
            try await Task.sleep(for: .milliseconds(1500))
            var bytes = 0
            for try await chunk in request.bodyChunks { bytes += chunk.count }
            return .text("\(bytes)")
        }
        router.on(.post, "/early", maxBodyBytes: 256 << 20, body: .streamed) { _, _ in
            .text("not reading it")
        }
        router.get("/after") { _, _ in .text("still here") }
        return router
    }

    static func payload(_ count: Int) -> (bytes: [UInt8], checksum: UInt32) {
        var bytes = [UInt8](repeating: 0, count: count)
        var checksum: UInt32 = 0
        for index in bytes.indices {
            bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7)
            checksum = checksum &+ UInt32(bytes[index])
        }
        return (bytes, checksum)
    }

    @Test func handlerReceivesALargeContentLengthBodyInChunks() async throws {
        let (bytes, checksum) = Self.payload(24 << 20)
        try await withServer(Self.router()) { port, _ in
            try await offload {
                let client = try TestClient(port: port, timeout: 30)
                try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: \(bytes.count)\r\n\r\n")
                try client.send(bytes)
                let response = try client.readResponse()
                let parts = response.text.split(separator: " ")
                #expect(response.status == 200)
                #expect(parts.first.map(String.init) == "\(bytes.count)")
                #expect(parts.dropFirst().first.map(String.init) == "\(checksum)")
                #expect((parts.last.flatMap { Int($0) } ?? 0) > 1)
            }
        }
    }

    @Test func handlerReceivesAChunkedBody_AndTheConnectionCarriesTheNextRequest() async throws {
        let (bytes, checksum) = Self.payload(3 << 20)
        try await withServer(Self.router()) { port, _ in
            try await offload {
                let client = try TestClient(port: port, timeout: 30)
                try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
                var offset = 0
                while offset < bytes.count {
                    let end = min(bytes.count, offset + 100_000)
                    try client.send(String(end - offset, radix: 16) + "\r\n")
                    try client.send(Array(bytes[offset..<end]))
                    try client.send("\r\n")
                    offset = end
                }
                try client.send("0\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.text.hasPrefix("\(bytes.count) \(checksum) "))
                #expect(try client.readResponse().text == "still here")
            }
        }
    }

    @Test func serverStopsReadingWhileTheHandlerIsBehind() async throws {
        let (bytes, _) = Self.payload(64 << 20)
        try await withServer(Self.router()) { port, _ in
            try await offload {
                let client = try TestClient(port: port, timeout: 30)
                let started = Date()
                try client.send("POST /late HTTP/1.1\r\nHost: t\r\nContent-Length: \(bytes.count)\r\n\r\n")
                try client.send(bytes)
                // 64 MiB cannot fit in the socket buffers plus the stream's 1 MiB: the send can only
                // finish once the handler started reading, 1.5 s in.
                #expect(Date().timeIntervalSince(started) > 1.2)
                #expect(try client.readResponse().text == "\(bytes.count)")
            }
        }
    }

    @Test func bodyOverTheRouteLimitFailsTheHandlersReadWith413() async throws {
        let (bytes, _) = Self.payload(2 << 20)
        try await withServer(Self.router()) { port, _ in
            try await offload {
                let client = try TestClient(port: port, timeout: 30)
                try client.send("POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
                try? client.send(String(bytes.count, radix: 16) + "\r\n")
                try? client.send(bytes)
                let response = try client.readResponse()
                #expect(response.status == 413)
                #expect(response.header("Content-Type") == "application/problem+json")
                #expect(try response.json()["detail"] as? String != nil)
            }
        }
    }

    @Test func earlyAnswerDropsTheRestOfTheBody_AndKeepsTheConnection() async throws {
        let (bytes, _) = Self.payload(8 << 20)
        try await withServer(Self.router()) { port, _ in
            try await offload {
                let client = try TestClient(port: port, timeout: 30)
                try client.send("POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: \(bytes.count)\r\n\r\n")
                try client.send(bytes)
                try client.send("GET /after HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().text == "not reading it")
                #expect(try client.readResponse().text == "still here")
            }
        }
    }

    @Test func clientGoingAwayMidBodyFailsTheHandlersRead() async throws {
        let observed = Observations()
        try await withServer(Self.router(observed)) { port, _ in
            try await offload {
                let client = try TestClient(port: port, timeout: 30)
                try client.send("POST /sum HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
                try client.send([UInt8](repeating: 65, count: 1000))
                client.shutdownWrite()
                _ = try? client.readToEnd()
            }
            let deadline = Date().addingTimeInterval(10)
            while observed.failures.withLock({ $0.isEmpty }), Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(observed.failures.withLock { $0 } == ["body_incomplete"])
        }
    }
}
