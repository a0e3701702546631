// Atlas — HTTP
// SPDX-License-Identifier: Apache-2.0

import Foundation
@testable import HTTP
import Synchronization
import Testing

/// The calling thread's name as the server set it (`atlas-loop-0`, `atlas-worker-1`, …).
private func threadName() -> String { Thread.current.name ?? "" }

/// Records where a handler started and where it finished.
private final class ThreadLog: Sendable {
    private let entries = Mutex<[(started: String, finished: String)]>([])
    func add(_ started: String, _ finished: String) { entries.withLock { $0.append((started, finished)) } }
    var all: [(started: String, finished: String)] { entries.withLock { $0 } }
}

@Suite struct HandlerPlacementTests {
    @Test func aQuietLoopKeepsEveryHandler() {
        var placement = HandlerPlacement()
        let decisions = (0..<100).map { _ in placement.handOff(busy: false) }
        #expect(!decisions.contains(true))
    }

    @Test func loopsOnEveryCoreKeepEveryHandler() {
        var placement = HandlerPlacement(sharing: false)
        let decisions = (0..<100).map { _ in placement.handOff(busy: true) }
        #expect(!decisions.contains(true))
    }

    @Test func aBusyLoopHandsEveryReadOver_UntilTheWorkersFallBehind() {
        var placement = HandlerPlacement()
        #expect(placement.share == HandlerPlacement.scale)
        #expect(!(0..<8).map { _ in placement.handOff(busy: true) }.contains(false))
        placement.endRound(idleWorkers: 0, queuedJobs: 0)
        // Four handed over last round, more than four still queued: they fell behind.
        for _ in 0..<8 {
            for _ in 0..<4 { _ = placement.handOff(busy: true) }
            placement.endRound(idleWorkers: 0, queuedJobs: 9)
        }
        #expect(placement.share == HandlerPlacement.scale / 2)
        let decisions = (0..<8).map { _ in placement.handOff(busy: true) }
        #expect(decisions == [false, true, false, true, false, true, false, true])
    }

    @Test func theShareFollowsWhatTheWorkersDid() {
        var placement = HandlerPlacement()
        // Workers behind by more than a round: they take fewer, down to none.
        for _ in 0..<40 {
            for _ in 0..<4 { _ = placement.handOff(busy: true) }
            placement.endRound(idleWorkers: 0, queuedJobs: 50)
        }
        #expect(placement.share == 0)
        let handed = placement.handOff(busy: true)
        #expect(!handed)
        // At zero it still learns that the workers keep up.
        placement.endRound(idleWorkers: 0, queuedJobs: 0)
        #expect(placement.share == 1)
        // Workers asleep or the queue empty after each round: up to every handler again.
        for round in 0..<40 {
            for _ in 0..<16 { _ = placement.handOff(busy: true) }
            placement.endRound(idleWorkers: round % 2, queuedJobs: round % 2 == 0 ? 0 : 1)
        }
        #expect(placement.share == HandlerPlacement.scale)
        // Only part of the last round's jobs still queued: no sign of overload, the share holds.
        for _ in 0..<10 {
            for _ in 0..<16 { _ = placement.handOff(busy: true) }
            placement.endRound(idleWorkers: 0, queuedJobs: 12)
        }
        #expect(placement.share == HandlerPlacement.scale)
    }

    @Test func readsStartOnTheLoop_WritesOnAWorker_AndASuspendedReadResumesOnAWorker() async throws {
        let log = ThreadLog()
        let router = Router()
        router.get("/read") { _, _ in
            let started = threadName()
            log.add(started, threadName())
            return .text(started)
        }
        router.get("/read-then-wait") { _, _ in
            let started = threadName()
            try await Task.sleep(for: .milliseconds(5))
            log.add(started, threadName())
            return .text(started)
        }
        router.post("/write") { _, _ in
            let started = threadName()
            log.add(started, threadName())
            return .text(started)
        }
        try await withServer(router) { port, _ in
            try await offload {
                let client = try TestClient(port: port)
                for _ in 0..<5 {
                    try client.send("GET /read HTTP/1.1\r\nHost: t\r\n\r\n")
                    #expect(try client.readResponse().text == "atlas-loop-0")
                }
                try client.send("GET /read-then-wait HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(try client.readResponse().text == "atlas-loop-0")
                try client.send("POST /write HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
                let writer = try client.readResponse().text
                #expect(writer.hasPrefix("atlas-worker-"))
            }
        }
        let entries = log.all
        #expect(entries.count == 7)
        for entry in entries.prefix(5) {
            #expect(entry.started == "atlas-loop-0" && entry.finished == "atlas-loop-0")
        }
        let (waitStarted, waitFinished) = entries[5]
        let writeStarted = entries[6].started
        #expect(waitStarted == "atlas-loop-0")
        #expect(waitFinished.hasPrefix("atlas-worker-"))
        #expect(writeStarted.hasPrefix("atlas-worker-"))
    }

    @Test func aBusyLoopHandsReadsToWorkers_AndEveryAnswerArrivesInOrder() async throws {
        let log = ThreadLog()
        let router = Router()
        router.get("/read/{n}") { _, context in
            let started = threadName()
            log.add(started, started)
            return .text(try context.parameters.require("n"))
        }
        try await withServer(router) { port, _ in
            // Sixteen connections with pipelined requests: rounds see many ready connections.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for connection in 0..<16 {
                    group.addTask {
                        try await offload {
                            let client = try TestClient(port: port)
                            for round in 0..<20 {
                                var batch = ""
                                for n in 0..<8 { batch += "GET /read/\(connection)-\(round)-\(n) HTTP/1.1\r\nHost: t\r\n\r\n" }
                                try client.send(batch)
                                for n in 0..<8 {
                                    #expect(try client.readResponse().text == "\(connection)-\(round)-\(n)")
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let entries = log.all
        #expect(entries.count == 16 * 20 * 8)
        let onLoop = entries.filter { $0.started == "atlas-loop-0" }.count
        let onWorkers = entries.filter { $0.started.hasPrefix("atlas-worker-") }.count
        #expect(onLoop > 0)
        // With one loop and a second core, a busy loop shares; on one core it keeps them all.
        if HTTPServer.Configuration.processorCount > 1 { #expect(onWorkers > 0) }
        #expect(onLoop + onWorkers == entries.count)
    }
}
