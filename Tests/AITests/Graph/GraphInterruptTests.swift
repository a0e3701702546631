// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import Storage
import Testing

@Suite struct GraphInterruptTests {
    let tenant = TenantID("acme")!

    // MARK: Static interrupts

    @Test(arguments: CheckpointStore.all)
    func interruptBeforeStopsThenApproveRunsTheNode(store: CheckpointStore) async throws {
        let journal = Journal()
        let compiled = try linearGraph(journal: journal, options: CompileOptions(interruptBefore: ["b"]))
        try await store.with { checkpointer in
            let config = RunConfig(tenant: tenant, checkpointer: checkpointer)
            let stopped = try await compiled.invoke([:], config: config)
            #expect(stopped.status == .interrupted)
            #expect(stopped.interrupt?.kind == .before)
            #expect(stopped.interrupt?.node == "b")
            #expect(stopped.interrupt?.payload["state"]?["visited"] == list("a"))
            #expect(journal.all == ["a"], "b has not run")

            let done = try await compiled.resume(.approve(), config: config)
            #expect(done.status == .completed)
            #expect(done.state.visited == ["a", "b", "c"])
            #expect(journal.all == ["a", "b", "c"], "a ran once")

            let again = await #expect(throws: GraphError.self) { try await compiled.resume(.approve(), config: config) }
            #expect(again?.status == 409)
            #expect(again?.code == "run_not_interrupted")
        }
    }

    @Test(arguments: CheckpointStore.all)
    func interruptBeforeEditPatchesTheStateAndRejectEndsTheRun(store: CheckpointStore) async throws {
        let journal = Journal()
        var graph = StateGraph(name: "send")
        graph.addNode("draft") { _, _ in ["email": str("Dear customer")] }
        graph.addNode("send") { state, _ in
            journal.record("send")
            return ["sent": state["email"] ?? .null]
        }
        graph.addEdge(StateGraph.start, "draft")
        graph.addEdge("draft", "send")
        graph.addEdge("send", StateGraph.end)
        let compiled = try graph.compile(CompileOptions(interruptBefore: ["send"]))
        try await store.with { checkpointer in
            let edited = RunConfig(tenant: tenant, checkpointer: checkpointer)
            _ = try await compiled.invoke([:], config: edited)
            let badEdit = await #expect(throws: GraphError.self) { try await compiled.resume(.edit(str("not an object")), config: edited) }
            #expect(badEdit?.status == 422)
            let sent = try await compiled.resume(.edit(.object(["email": str("Dear Ada")])), config: edited)
            #expect(sent.status == .completed)
            #expect(sent.state["sent"] == str("Dear Ada"), "the node saw the edited state")

            let rejected = RunConfig(tenant: tenant, checkpointer: checkpointer)
            _ = try await compiled.invoke([:], config: rejected)
            let ended = try await compiled.resume(.reject(comment: "no"), config: rejected)
            #expect(ended.status == .completed)
            #expect(ended.state["sent"] == nil)
            #expect(journal.count("send") == 1, "a rejected node never runs")
            let history = try await checkpointer.history(runID: rejected.runID, tenant: tenant)
            #expect(history.map(\.source) == [.input, .loop, .interrupt, .update])
            #expect(history.last?.command == .reject(comment: "no"), "the answer is kept in the history")
        }
    }

    @Test(arguments: CheckpointStore.all)
    func interruptAfterShowsTheNodesResultThenContinues(store: CheckpointStore) async throws {
        let journal = Journal()
        let compiled = try linearGraph(journal: journal, options: CompileOptions(interruptAfter: ["b"]))
        try await store.with { checkpointer in
            let config = RunConfig(tenant: tenant, checkpointer: checkpointer)
            let stopped = try await compiled.invoke([:], config: config)
            #expect(stopped.interrupt?.kind == .after)
            #expect(stopped.state.visited == ["a", "b"])
            #expect(stopped.checkpoint.next == ["c"])
            let done = try await compiled.resume(.edit(.object(["note": str("checked")])), config: config)
            #expect(done.state.visited == ["a", "b", "c"])
            #expect(done.state["note"] == str("checked"))
            #expect(journal.all == ["a", "b", "c"])

            let rejected = RunConfig(tenant: tenant, checkpointer: checkpointer)
            _ = try await compiled.invoke([:], config: rejected)
            let ended = try await compiled.resume(.reject(), config: rejected)
            #expect(ended.state.visited == ["a", "b"], "reject goes to END")
        }
    }

    @Test func rejectRouteSendsTheRunToANode() async throws {
        var graph = StateGraph(name: "reroute")
        graph.addChannel("visited", reducer: .append)
        for node in ["a", "b", "apologise"] {
            graph.addNode(node) { _, _ in ["visited": list(node)] }
        }
        graph.addEdge(StateGraph.start, "a")
        graph.addEdge("a", "b")
        graph.addEdge("b", StateGraph.end)
        graph.addEdge("apologise", StateGraph.end)
        let compiled = try graph.compile(CompileOptions(interruptBefore: ["b"], rejectRoute: "apologise"))
        let config = RunConfig(tenant: tenant)
        _ = try await compiled.invoke([:], config: config)
        let done = try await compiled.resume(.reject(), config: config)
        #expect(done.state.visited == ["a", "apologise"])
    }

    // MARK: Interrupts inside a node

    func reviewGraph(journal: Journal) throws -> CompiledGraph {
        var graph = StateGraph(name: "review")
        graph.addChannel("visited", reducer: .append, default: .array([]))
        graph.addNode("draft") { _, _ in ["draft": str("Refunds take 5 days."), "visited": list("draft")] }
        graph.addNode("review") { state, context in
            journal.record("review")
            let answer = try context.interrupt(.object(["draft": state["draft"] ?? .null, "question": str("send this?")]))
            journal.record("review:\(answer.decision.rawValue)")
            switch answer.decision {
            case .approve: return ["final": state["draft"] ?? .null, "visited": list("review")]
            case .edit: return ["final": answer.value ?? .null, "visited": list("review")]
            case .reject: return ["final": .null, "rejected_because": str(answer.comment ?? ""), "visited": list("review")]
            }
        }
        // Runs in the same superstep as `review`: its update is kept, and it does not run again on resume.
        graph.addNode("audit") { _, _ in
            journal.record("audit")
            return ["audited": .bool(true), "visited": list("audit")]
        }
        graph.addEdge(StateGraph.start, "draft")
        graph.addEdge("draft", "review")
        graph.addEdge("draft", "audit")
        graph.addEdge("review", StateGraph.end)
        graph.addEdge("audit", StateGraph.end)
        return try graph.compile()
    }

    @Test(arguments: CheckpointStore.all)
    func aNodeInterruptReturnsTheResumeValueToTheNode(store: CheckpointStore) async throws {
        try await store.with { checkpointer in
            for decision in ResumeCommand.Decision.allCases {
                let journal = Journal()
                let compiled = try reviewGraph(journal: journal)
                let config = RunConfig(tenant: tenant, checkpointer: checkpointer)
                let stopped = try await compiled.invoke([:], config: config)
                #expect(stopped.status == .interrupted)
                #expect(stopped.interrupt?.kind == .node)
                #expect(stopped.interrupt?.node == "review")
                #expect(stopped.interrupt?.payload == .object(["draft": str("Refunds take 5 days."), "question": str("send this?")]))
                #expect(stopped.checkpoint.pendingWrites.map(\.node) == ["audit"])

                let command = switch decision {
                case .approve: ResumeCommand.approve()
                case .edit: ResumeCommand.edit(str("Refunds take 3 days."))
                case .reject: ResumeCommand.reject(comment: "wrong policy")
                }
                let done = try await compiled.resume(command, config: config)
                #expect(done.status == .completed)
                #expect(journal.all.filter { $0 == "review" }.count == 2, "the node re-runs from its start on resume")
                #expect(journal.count("audit") == 1, "the finished sibling is not run again")
                #expect(journal.count("review:\(decision.rawValue)") == 1)
                #expect(done.state.visited == ["draft", "review", "audit"])
                #expect(done.state["audited"] == .bool(true))
                switch decision {
                case .approve: #expect(done.state["final"] == str("Refunds take 5 days."))
                case .edit: #expect(done.state["final"] == str("Refunds take 3 days."))
                case .reject:
                    #expect(done.state["final"] == .null)
                    #expect(done.state["rejected_because"] == str("wrong policy"))
                }
            }
        }
    }

    @Test func aNodeMayAskSeveralTimes() async throws {
        var graph = StateGraph(name: "twice")
        graph.addNode("ask") { _, context in
            let first = try context.interrupt(str("first?"))
            let second = try context.interrupt(str("second?"))
            return ["answers": .array([first.value ?? .null, second.value ?? .null])]
        }
        graph.addEdge(StateGraph.start, "ask")
        graph.addEdge("ask", StateGraph.end)
        let compiled = try graph.compile()
        let config = RunConfig(tenant: tenant)
        let one = try await compiled.invoke([:], config: config)
        #expect(one.interrupt?.payload == str("first?"))
        let two = try await compiled.resume(.edit(str("A")), config: config)
        #expect(two.interrupt?.payload == str("second?"))
        let done = try await compiled.resume(.edit(str("B")), config: config)
        #expect(done.state["answers"] == list("A", "B"))
    }

    // MARK: Replay and fork

    @Test(arguments: CheckpointStore.all)
    func forkFromAnEarlierCheckpointWithAPatch(store: CheckpointStore) async throws {
        let journal = Journal()
        var graph = StateGraph(name: "fork")
        graph.addChannel("visited", reducer: .append, default: .array([]))
        graph.addNode("pick") { state, _ in ["visited": list("pick"), "choice": state["choice"] ?? str("default")] }
        graph.addNode("answer") { state, _ in
            journal.record("answer")
            return ["visited": list("answer"), "answer": str("you chose \(state["choice"]?.string ?? "?")")]
        }
        graph.addEdge(StateGraph.start, "pick")
        graph.addEdge("pick", "answer")
        graph.addEdge("answer", StateGraph.end)
        let compiled = try graph.compile()
        try await store.with { checkpointer in
            let original = try await compiled.invoke(["choice": str("tea")], config: RunConfig(tenant: tenant, checkpointer: checkpointer))
            #expect(original.state["answer"] == str("you chose tea"))
            let history = try await checkpointer.history(runID: original.runID, tenant: tenant)
            let afterPick = try #require(history.first { $0.step == 1 })

            let replay = try await compiled.fork(from: afterPick, config: RunConfig(tenant: tenant, checkpointer: checkpointer))
            #expect(replay.runID != original.runID)
            #expect(replay.state == original.state, "a replay without a patch reaches the same state")

            let fork = try await compiled.fork(from: afterPick, patch: ["choice": str("coffee")],
                                               config: RunConfig(tenant: tenant, checkpointer: checkpointer))
            #expect(fork.state["answer"] == str("you chose coffee"))
            #expect(fork.state.visited == ["pick", "answer"], "pick is not run again")
            let forked = try await checkpointer.history(runID: fork.runID, tenant: tenant)
            #expect(forked.first?.source == .fork)
            #expect(forked.first?.parentID == afterPick.id)
            #expect(forked.first?.step == 1)
            #expect(try await checkpointer.history(runID: original.runID, tenant: tenant).count == history.count, "the source is unchanged")
            #expect(journal.count("answer") == 3)
        }
    }
}
