// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import Logging
import Storage
import Testing

/// A gate a node waits at until the test opens it.
final class Gate: @unchecked Sendable {
    // @unchecked: `open` and `waiters` are only touched while `lock` is held.
    private let lock = NSLock()
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        await withCheckedContinuation { continuation in
            let ready = lock.withLock {
                if open { return true }
                waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func release() {
        let waiting = lock.withLock {
            open = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiting { waiter.resume() }
    }
}

extension RunService {
    static func make(_ database: any Database, graphs: [CompiledGraph], lease: Duration = .seconds(30)) -> RunService {
        let registry = GraphRegistry()
        for graph in graphs { registry.register(graph) }
        return RunService(database: database, graphs: registry, configuration: RunServiceConfiguration(lease: lease),
                          logger: AITestDatabase.quiet)
    }
}

@Suite(.timeLimit(.minutes(2))) struct RunServiceTests {
    let tenant = uniqueTenant("acme")

    @Test(arguments: Backend.all)
    func aRunCompletesInTheBackgroundAndIsStored(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let journal = Journal()
            let runs = RunService.make(database, graphs: [try linearGraph(journal: journal)])
            let started = try await runs.start(graph: "linear", input: ["question": str("hi")], tenant: tenant)
            #expect(started.status == .running)
            #expect(started.threadID == started.id)
            let done = try await runs.wait(for: started.id, tenant: tenant)
            #expect(done.status == .completed)
            #expect(done.state?.visited == ["a", "b", "c"])
            #expect(done.state?["question"] == str("hi"))
            #expect(done.step == 3)
            #expect(done.finishedAt != nil)
            #expect(try await runs.checkpoints(of: started.id, tenant: tenant).map(\.step) == [0, 1, 2, 3])
            #expect(try await runs.run(started.id, tenant: uniqueTenant("rival")) == nil, "another tenant does not see it")
            await #expect(throws: GraphError.self) { try await runs.checkpoints(of: started.id, tenant: uniqueTenant("rival")) }

            let unknown = await #expect(throws: GraphError.self) { try await runs.start(graph: "nope", input: [:], tenant: tenant) }
            #expect(unknown?.status == 404)
            #expect(unknown?.code == "graph_not_found")
        }
    }

    @Test(arguments: Backend.all)
    func aFailingNodeFailsTheRunWithItsDetail(backend: Backend) async throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "provider unavailable" } }
        var graph = StateGraph(name: "fails")
        graph.addNode("call") { _, _ in throw Boom() }
        graph.addEdge(StateGraph.start, "call")
        graph.addEdge("call", StateGraph.end)
        let compiled = try graph.compile()
        try await withAIDatabase(backend) { database, _ in
            let runs = RunService.make(database, graphs: [compiled])
            let done = try await runs.invoke(graph: "fails", input: [:], tenant: tenant)
            #expect(done.status == .failed)
            #expect(done.error == "node 'call' failed: provider unavailable")
        }
    }

    @Test(arguments: Backend.all)
    func interruptedRunsResumeWithADecision(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let journal = Journal()
            let runs = RunService.make(database, graphs: [try GraphInterruptTests().reviewGraph(journal: journal)])
            let run = try await runs.invoke(graph: "review", input: [:], tenant: tenant)
            #expect(run.status == .interrupted)
            #expect(run.interrupt?.node == "review")
            #expect(run.interrupt?.payload["question"] == str("send this?"))

            let badEdit = await #expect(throws: GraphError.self) {
                try await runs.resume(run.id, tenant: uniqueTenant("rival"), command: .approve())
            }
            #expect(badEdit?.status == 404)

            let resumed = try await runs.resume(run.id, tenant: tenant, command: .edit(str("Refunds take 3 days.")))
            #expect(resumed.status == .running)
            let done = try await runs.wait(for: run.id, tenant: tenant)
            #expect(done.status == .completed)
            #expect(done.state?["final"] == str("Refunds take 3 days."))
            #expect(done.interrupt == nil)
            #expect(journal.count("audit") == 1)

            let twice = await #expect(throws: GraphError.self) { try await runs.resume(run.id, tenant: tenant, command: .approve()) }
            #expect(twice?.status == 409)
        }
    }

    @Test(arguments: Backend.all)
    func threadsContinueFromTheLastCompletedState(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let runs = RunService.make(database, graphs: [try linearGraph(journal: Journal())])
            let first = try await runs.invoke(graph: "linear", input: [:], tenant: tenant, threadID: "conversation-1")
            let second = try await runs.invoke(graph: "linear", input: ["turn": .number(2)], tenant: tenant, threadID: "conversation-1")
            #expect(first.threadID == "conversation-1")
            #expect(second.state?.visited == ["a", "b", "c", "a", "b", "c"])
            #expect(second.state?["turn"] == .number(2))
        }
    }

    @Test(arguments: Backend.all)
    func replayForksANewRunFromACheckpoint(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let journal = Journal()
            let runs = RunService.make(database, graphs: [try linearGraph(journal: journal)])
            let original = try await runs.invoke(graph: "linear", input: [:], tenant: tenant)
            let afterA = try #require(try await runs.checkpoints(of: original.id, tenant: tenant).first { $0.step == 1 })
            let fork = try await runs.replay(original.id, tenant: tenant, from: afterA.id, patch: ["visited": list("patched")])
            #expect(fork.parentRunID == original.id)
            #expect(fork.parentCheckpointID == afterA.id)
            #expect(fork.threadID == original.threadID)
            let done = try await runs.wait(for: fork.id, tenant: tenant)
            #expect(done.state?.visited == ["a", "patched", "b", "c"])
            #expect(journal.all == ["a", "b", "c", "b", "c"], "a is not run again")

            let missing = await #expect(throws: GraphError.self) { try await runs.replay(original.id, tenant: tenant, from: "ckpt_nope") }
            #expect(missing?.code == "checkpoint_not_found")
        }
    }

    /// A run whose process stopped mid-run is continued by another process from its newest
    /// checkpoint: the finished node does not run again, and of two processes recovering at once
    /// only one continues it.
    @Test(arguments: Backend.all)
    func recoveryContinuesAnOrphanedRunOnceWithoutRepeatingFinishedNodes(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let journal = Journal()
            let gate = Gate()
            var graph = StateGraph(name: "gated")
            graph.addChannel("visited", reducer: .append, default: .array([]))
            graph.addNode("a") { _, _ in
                journal.record("a")
                return ["visited": list("a")]
            }
            graph.addNode("b") { _, _ in
                journal.record("b:start")
                await gate.wait()
                try Task.checkCancellation()
                journal.record("b")
                return ["visited": list("b")]
            }
            graph.addNode("c") { _, _ in
                journal.record("c")
                return ["visited": list("c")]
            }
            graph.addEdge(StateGraph.start, "a")
            graph.addEdge("a", "b")
            graph.addEdge("b", "c")
            graph.addEdge("c", StateGraph.end)
            let compiled = try graph.compile()

            let first = RunService.make(database, graphs: [compiled], lease: .seconds(1))
            let run = try await first.start(graph: "gated", input: [:], tenant: tenant)
            while journal.count("b:start") == 0 { try await Task.sleep(for: .milliseconds(20)) }
            // The process stops: its task is cancelled and its lease released.
            async let stopped: Void = first.shutdown()
            gate.release()
            await stopped
            #expect(try await first.run(run.id, tenant: tenant)?.status == .running)

            let second = RunService.make(database, graphs: [compiled], lease: .seconds(1))
            let third = RunService.make(database, graphs: [compiled], lease: .seconds(1))
            async let recoveredBySecond: Void = second.recoverInterruptedWork()
            async let recoveredByThird: Void = third.recoverInterruptedWork()
            _ = await (recoveredBySecond, recoveredByThird)
            let done = try await second.wait(for: run.id, tenant: tenant)
            #expect(done.status == .completed)
            #expect(done.state?.visited == ["a", "b", "c"])
            #expect(journal.count("a") == 1, "a finished before the stop and is not run again")
            #expect(journal.count("c") == 1, "exactly one process continued the run")
            await second.shutdown()
            await third.shutdown()
        }
    }

    @Test(arguments: Backend.all)
    func aLiveLeaseIsNotTakenOver(backend: Backend) async throws {
        try await withAIDatabase(backend) { database, _ in
            let gate = Gate()
            let journal = Journal()
            var graph = StateGraph(name: "held")
            graph.addNode("wait") { _, _ in
                journal.record("wait")
                await gate.wait()
                return ["done": .bool(true)]
            }
            graph.addEdge(StateGraph.start, "wait")
            graph.addEdge("wait", StateGraph.end)
            let compiled = try graph.compile()
            let owner = RunService.make(database, graphs: [compiled], lease: .seconds(3))
            let run = try await owner.start(graph: "held", input: [:], tenant: tenant)
            while journal.count("wait") == 0 { try await Task.sleep(for: .milliseconds(20)) }
            let other = RunService.make(database, graphs: [compiled], lease: .seconds(3))
            // The lease the run was claimed with has run out, and the owner renewed it while the
            // node works: the recovery that follows sees a live lease. (Observed rather than slept
            // for, so a busy machine delaying a renewal cannot turn this into a real takeover.)
            let leaseExpiry = { () async throws -> Int64 in
                try await database.read(tenant: tenant.rawValue) { conn in
                    try conn.queryScalar("SELECT lease_expires_at FROM ai_runs WHERE id = \(run.id)", as: Int64.self) ?? 0
                }
            }
            let claimedUntil = try await leaseExpiry()
            var renewedUntil = claimedUntil
            let deadline = RunStore.now() + 60_000
            while RunStore.now() <= claimedUntil || renewedUntil <= claimedUntil || renewedUntil - RunStore.now() < 1_500 {
                try #require(RunStore.now() < deadline, "the owner never renewed its lease")
                try await Task.sleep(for: .milliseconds(50))
                renewedUntil = try await leaseExpiry()
            }
            await other.recoverInterruptedWork()
            gate.release()
            let done = try await owner.wait(for: run.id, tenant: tenant)
            #expect(done.status == .completed)
            #expect(journal.count("wait") == 1, "nobody else started the run")
            await owner.shutdown()
        }
    }
}
