// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import HTTP
import HTTPTypes
import Logging
import Storage
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `/ai/runs` and `/ai/graphs` through the real router, middleware and error mapping.
@Suite(.timeLimit(.minutes(2))) struct RunRouteTests {
    static func harness(_ database: any Database, journal: Journal = Journal(), gate: Gate? = nil) throws -> RouteHarness {
        let app = RouteHarness(database: database)
        app.module.graphs.register(try linearGraph(name: "linear", journal: journal))
        app.module.graphs.register(try linearGraph(name: "reviewed", journal: journal, options: CompileOptions(interruptBefore: ["b"])))
        var gated = StateGraph(name: "gated", description: "waits for the test")
        gated.addChannel("visited", reducer: .append, default: .array([]))
        gated.addNode("a") { _, _ in ["visited": list("a")] }
        gated.addNode("b") { _, _ in
            await gate?.wait()
            return ["visited": list("b")]
        }
        gated.addEdge(StateGraph.start, "a")
        gated.addEdge("a", "b")
        gated.addEdge("b", StateGraph.end)
        app.module.graphs.register(try gated.compile())
        return app
    }

    func settle(_ app: RouteHarness, _ id: String) async throws -> RouteHarness.Reply {
        for _ in 0..<400 {
            let reply = try await app.send(.get, "/ai/runs/\(id)", token: "viewer")
            if reply.object["status"] as? String != "running" { return reply }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("run \(id) did not settle")
        return try await app.send(.get, "/ai/runs/\(id)")
    }

    @Test(arguments: Backend.all)
    func createsReadsAndListsCheckpointsOfARun(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let app = try Self.harness(database)
            let created = try await app.send(.post, "/ai/runs", json: ["graph": "linear", "input": ["topic": "refunds"], "question": "why?"])
            #expect(created.status == 202, "\(created.text)")
            let id = try #require(created.object["id"] as? String)
            #expect(created.headers[.location] == "/ai/runs/\(id)")
            #expect(created.object["status"] as? String == "running")
            #expect(created.object["graph"] as? String == "linear")
            #expect(created.object["tenant"] as? String == app.acme.rawValue)

            let done = try await settle(app, id)
            #expect(done.object["status"] as? String == "completed")
            let state = try #require(done.object["state"] as? [String: Any])
            #expect(state["visited"] as? [String] == ["a", "b", "c"])
            #expect(state["question"] as? String == "why?")
            #expect(state["topic"] as? String == "refunds")
            #expect(done.object["finished_at"] is String)

            let waited = try await app.send(.post, "/ai/runs?wait=true", json: ["graph": "linear", "input": [:] as [String: Any]])
            #expect(waited.status == 201)
            #expect(waited.object["status"] as? String == "completed")

            let checkpoints = try await app.send(.get, "/ai/runs/\(id)/checkpoints", token: "viewer")
            #expect(checkpoints.status == 200)
            let list = try #require(checkpoints.object["checkpoints"] as? [[String: Any]])
            #expect(list.map { $0["step"] as? Int } == [0, 1, 2, 3])
            #expect(list.map { $0["seq"] as? Int } == [1, 2, 3, 4])
            #expect((list[1]["writes"] as? [[String: Any]])?.first?["node"] as? String == "a")
            #expect(list[3]["next"] as? [String] == [])

            // Another tenant's run is 404, exactly like a missing one.
            for path in ["/ai/runs/\(id)", "/ai/runs/\(id)/checkpoints", "/ai/runs/\(id)/events"] {
                let hidden = try await app.send(.get, path, token: "rival")
                #expect(hidden.status == 404, "\(path)")
                #expect(hidden.code == "run_not_found")
            }
            let missing = try await app.send(.get, "/ai/runs/run_missing")
            #expect(missing.status == 404)
            #expect(missing.object["detail"] as? String == "run 'run_missing' was not found")
        }
    }

    @Test(arguments: Backend.all)
    func resumeAndReplayThroughTheRoutes(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let app = try Self.harness(database)
            let created = try await app.send(.post, "/ai/runs?wait=true", json: ["graph": "reviewed"])
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.object["id"] as? String)
            #expect(created.object["status"] as? String == "interrupted")
            let interrupt = try #require(created.object["interrupt"] as? [String: Any])
            #expect(interrupt["kind"] as? String == "before")
            #expect(interrupt["node"] as? String == "b")

            let badDecision = try await app.send(.post, "/ai/runs/\(id)/resume", json: ["decision": "maybe"])
            #expect(badDecision.status == 422)
            #expect((badDecision.object["detail"] as? String)?.contains("approve, reject, edit") == true)
            let editWithout = try await app.send(.post, "/ai/runs/\(id)/resume", json: ["decision": "edit"])
            #expect(editWithout.status == 422)
            let notJSON = try await app.send(.post, "/ai/runs/\(id)/resume", raw: "{decision", contentType: "application/json")
            #expect(notJSON.status == 400)
            let viewer = try await app.send(.post, "/ai/runs/\(id)/resume", token: "viewer", json: ["decision": "approve"])
            #expect(viewer.status == 403)
            let rival = try await app.send(.post, "/ai/runs/\(id)/resume", token: "rival", json: ["decision": "approve"])
            #expect(rival.status == 404)

            let resumed = try await app.send(.post, "/ai/runs/\(id)/resume?wait=true",
                                             json: ["decision": "edit", "value": ["note": "ok"], "comment": "fine"])
            #expect(resumed.status == 200, "\(resumed.text)")
            #expect(resumed.object["status"] as? String == "completed")
            #expect((resumed.object["state"] as? [String: Any])?["note"] as? String == "ok")

            let again = try await app.send(.post, "/ai/runs/\(id)/resume", json: ["decision": "approve"])
            #expect(again.status == 409)
            #expect(again.code == "run_not_interrupted")

            let checkpoints = try await app.send(.get, "/ai/runs/\(id)/checkpoints")
            let first = try #require((checkpoints.object["checkpoints"] as? [[String: Any]])?.first { $0["step"] as? Int == 1 })
            let answered = try #require((checkpoints.object["checkpoints"] as? [[String: Any]])?.first { $0["source"] as? String == "update" })
            #expect((answered["resume"] as? [String: Any])?["decision"] as? String == "edit")
            #expect((answered["resume"] as? [String: Any])?["comment"] as? String == "fine")
            let replay = try await app.send(.post, "/ai/runs/\(id)/replay",
                                            json: ["checkpoint_id": first["id"] as? String ?? "", "patch": ["note": "forked"]])
            #expect(replay.status == 202, "\(replay.text)")
            #expect(replay.object["parent_run_id"] as? String == id)
            let forkID = try #require(replay.object["id"] as? String)
            let forked = try await settle(app, forkID)
            #expect(forked.object["status"] as? String == "interrupted", "the replayed superstep asks for review again")
            #expect((forked.object["state"] as? [String: Any])?["note"] as? String == "forked")

            let badCheckpoint = try await app.send(.post, "/ai/runs/\(id)/replay", json: ["checkpoint_id": "ckpt_nope"])
            #expect(badCheckpoint.status == 404)
            #expect(badCheckpoint.code == "checkpoint_not_found")
            let noCheckpoint = try await app.send(.post, "/ai/runs/\(id)/replay", json: ["patch": [:] as [String: Any]])
            #expect(noCheckpoint.status == 422)
            #expect((noCheckpoint.object["detail"] as? String)?.contains("checkpoint_id") == true)
        }
    }

    @Test func rejectsBadRunRequests() async throws {
        try await withAIDatabase(.sqlite) { database, _ in
            let app = try Self.harness(database)
            let unknown = try await app.send(.post, "/ai/runs", json: ["graph": "nope"])
            #expect(unknown.status == 404)
            #expect(unknown.code == "graph_not_found")
            let defaultGraph = try await app.send(.post, "/ai/runs", json: ["question": "hi"])
            #expect(defaultGraph.status == 404, "the default graph is `assistant`, not registered here")
            #expect((defaultGraph.object["detail"] as? String)?.contains("'assistant'") == true)
            let wrongType = try await app.send(.post, "/ai/runs", json: ["graph": "linear", "input": ["not", "an", "object"]])
            #expect(wrongType.status == 422)
            #expect((wrongType.object["detail"] as? String)?.hasPrefix("input") == true)
            let empty = try await app.send(.post, "/ai/runs", json: ["graph": "linear", "question": "  "])
            #expect(empty.status == 422)
            let xml = try await app.send(.post, "/ai/runs", raw: "<run/>", contentType: "application/xml")
            #expect(xml.status == 415)
            let viewer = try await app.send(.post, "/ai/runs", token: "viewer", json: ["graph": "linear"])
            #expect(viewer.status == 403)
            let anonymous = try await app.send(.post, "/ai/runs", token: nil, json: ["graph": "linear"])
            #expect(anonymous.status == 401)
        }
    }

    @Test func listsGraphsWithMermaid() async throws {
        try await withAIDatabase(.sqlite) { database, _ in
            let app = try Self.harness(database)
            let list = try await app.send(.get, "/ai/graphs", token: "viewer")
            #expect(list.status == 200)
            let graphs = try #require(list.object["graphs"] as? [[String: Any]])
            #expect(graphs.compactMap { $0["name"] as? String } == ["gated", "linear", "reviewed"])
            let one = try await app.send(.get, "/ai/graphs/reviewed", token: "viewer")
            #expect(one.status == 200)
            #expect(one.object["nodes"] as? [String] == ["a", "b", "c"])
            #expect(one.object["interrupt_before"] as? [String] == ["b"])
            #expect(one.object["recursion_limit"] as? Int == 25)
            #expect((one.object["channels"] as? [String: String])?["visited"] == "append")
            #expect((one.object["mermaid"] as? String)?.hasPrefix("graph TD\n") == true)
            #expect((one.object["mermaid"] as? String)?.contains("n_a --> n_b") == true)
            let missing = try await app.send(.get, "/ai/graphs/nope")
            #expect(missing.status == 404)
        }
    }

    // MARK: Server-Sent Events over a socket

    @Test(arguments: Backend.all)
    func eventsReplayRecordedStepsThenFollowLiveOnesUntilTheRunEnds(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let gate = Gate()
            let app = try Self.harness(database, gate: gate)
            let created = try await app.send(.post, "/ai/runs", json: ["graph": "gated"])
            let id = try #require(created.object["id"] as? String)
            // Wait until `a` is recorded, so the stream has history to replay before it goes live.
            for _ in 0..<400 {
                let checkpoints = try await app.send(.get, "/ai/runs/\(id)/checkpoints")
                if (checkpoints.object["checkpoints"] as? [Any])?.count == 2 { break }
                try await Task.sleep(for: .milliseconds(25))
            }

            var logger = Logger(label: "ai-test-sse")
            logger.logLevel = .critical
            let server = HTTPServer(router: app.router,
                                    configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0, eventLoops: 1, workerThreads: 2),
                                    logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                defer {
                    server.shutdownGracefully()
                    group.cancelAll()
                }
                let port = try await server.listeningPort
                let client = try RawClient(port: port)
                defer { client.close() }
                try client.send("GET /ai/runs/\(id)/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer viewer\r\n"
                                + "Accept: text/event-stream\r\nConnection: close\r\n\r\n")
                let head = try client.read(until: "id: 2\n")
                #expect(head.hasPrefix("HTTP/1.1 200"))
                #expect(head.lowercased().contains("content-type: text/event-stream"))
                #expect(head.contains("event: step\nid: 1\n"), "the input checkpoint is replayed")
                #expect(head.contains("id: 2\n"), "so is the step that ran a")
                #expect(!head.contains("event: completed"))

                gate.release()
                let rest = try client.readToEnd()
                #expect(rest.contains("id: 3\n"), "the live step arrives")
                #expect(rest.contains("event: completed\n"))
                let finalData = try #require(rest.components(separatedBy: "event: completed\n").last?
                    .split(separator: "\n").first { $0.hasPrefix("data: ") })
                let run = try #require(JSONValue(jsonText: String(finalData.dropFirst(6))))
                #expect(run["status"] == str("completed"))
                #expect(run["state"]?["visited"] == list("a", "b"))
            }

            // A finished run's stream replays everything and ends; Last-Event-ID skips what was seen.
            try await withThrowingTaskGroup(of: Void.self) { group in
                let again = HTTPServer(router: app.router,
                                       configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0, eventLoops: 1, workerThreads: 2),
                                       logger: logger)
                group.addTask { try await again.run() }
                defer {
                    again.shutdownGracefully()
                    group.cancelAll()
                }
                let client = try RawClient(port: try await again.listeningPort)
                defer { client.close() }
                try client.send("GET /ai/runs/\(id)/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer viewer\r\n"
                                + "Last-Event-ID: 2\r\nConnection: close\r\n\r\n")
                let all = try client.readToEnd()
                #expect(!all.contains("id: 1\n") && !all.contains("id: 2\n"))
                #expect(all.contains("id: 3\n"))
                #expect(all.contains("event: completed\n"))
            }
        }
    }
}

/// A blocking TCP client for reading a streamed response as it arrives.
final class RawClient: @unchecked Sendable {
    // @unchecked: used by one test task at a time.
    let fd: Int32
    private var buffer: [UInt8] = []

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect() failed: errno \(errno)") }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw Failure(description: "send() failed") }
    }

    /// Reads until `marker` has arrived (chunk framing included); returns everything read so far.
    func read(until marker: String) throws -> String {
        while !String(decoding: buffer, as: UTF8.self).contains(marker) {
            guard try fill() else { throw Failure(description: "connection closed before \(marker.debugDescription)") }
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Reads until the server closes the connection; returns what arrived since the last read.
    func readToEnd() throws -> String {
        let start = buffer.count
        while try fill() {}
        return String(decoding: buffer[start...], as: UTF8.self)
    }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count < 0 { throw Failure(description: "recv() failed or timed out: errno \(errno)") }
        if count == 0 { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    func close() { _ = Glibc.close(fd) }
}
