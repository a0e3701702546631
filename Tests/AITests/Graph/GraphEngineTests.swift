// Atlas — AITests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
@testable import AI
import Core
import Foundation
import Storage
import Testing

@Suite struct GraphEngineTests {
    let tenant = TenantID("acme")!

    // MARK: Edges

    @Test(arguments: CheckpointStore.all)
    func conditionalEdgesRouteOnTheUpdatedState(store: CheckpointStore) async throws {
        var graph = StateGraph(name: "triage")
        graph.addChannel("visited", reducer: .append)
        graph.addNode("classify") { state, _ in
            let question = state["question"]?.string ?? ""
            return ["kind": str(question.contains("refund") ? "refund" : "other"), "visited": list("classify")]
        }
        graph.addNode("refund") { _, _ in ["answer": str("refunds take 5 days"), "visited": list("refund")] }
        graph.addNode("other") { _, _ in ["answer": str("ask support"), "visited": list("other")] }
        graph.addEdge(StateGraph.start, "classify")
        graph.addConditionalEdges(from: "classify", to: ["refund", "other"]) { state in
            state["kind"] == str("refund") ? "refund" : "other"
        }
        graph.addEdge("refund", StateGraph.end)
        graph.addEdge("other", StateGraph.end)
        let compiled = try graph.compile()
        try await store.with { checkpointer in
            let refund = try await compiled.invoke(["question": str("where is my refund?")],
                                                   config: RunConfig(tenant: tenant, checkpointer: checkpointer))
            #expect(refund.status == .completed)
            #expect(refund.state.visited == ["classify", "refund"])
            #expect(refund.state["answer"] == str("refunds take 5 days"))
            let other = try await compiled.invoke(["question": str("hello")], config: RunConfig(tenant: tenant, checkpointer: checkpointer))
            #expect(other.state.visited == ["classify", "other"])

            let history = try await checkpointer.history(runID: refund.runID, tenant: tenant)
            #expect(history.map(\.step) == [0, 1, 2])
            #expect(history.map(\.next) == [["classify"], ["refund"], []])
            #expect(history[1].writes.map(\.node) == ["classify"])
            #expect(history[2].parentID == history[1].id)
            #expect(try await checkpointer.history(runID: refund.runID, tenant: TenantID("globex")!).isEmpty,
                    "checkpoints are per tenant")
        }
    }

    @Test func aRouterChoosingAnUndeclaredTargetFailsClearly() async throws {
        var graph = StateGraph(name: "bad-router")
        graph.addNode("a") { _, _ in [:] }
        graph.addNode("b") { _, _ in [:] }
        graph.addEdge(StateGraph.start, "a")
        graph.addConditionalEdges(from: "a", to: ["b"]) { _ in "nowhere" }
        graph.addEdge("b", StateGraph.end)
        let error = await #expect(throws: GraphError.self) {
            try await graph.compile().invoke([:], config: RunConfig(tenant: tenant))
        }
        #expect(error?.code == "invalid_update")
        #expect(error?.detail.contains("'nowhere'") == true)
    }

    @Test func compileRejectsInconsistentGraphs() {
        var unknown = StateGraph(name: "g")
        unknown.addNode("a") { _, _ in [:] }
        unknown.addEdge(StateGraph.start, "a")
        unknown.addEdge("a", "missing")
        #expect { try unknown.compile() } throws: { ($0 as? GraphError)?.detail.contains("unknown node 'missing'") == true }

        var noEntry = StateGraph(name: "g")
        noEntry.addNode("a") { _, _ in [:] }
        noEntry.addEdge("a", StateGraph.end)
        #expect { try noEntry.compile() } throws: { ($0 as? GraphError)?.detail.contains("no edge from START") == true }

        var deadEnd = StateGraph(name: "g")
        deadEnd.addNode("a") { _, _ in [:] }
        deadEnd.addEdge(StateGraph.start, "a")
        #expect { try deadEnd.compile() } throws: { ($0 as? GraphError)?.detail.contains("'a' has no outgoing edge") == true }

        var twice = StateGraph(name: "g")
        twice.addNode("a") { _, _ in [:] }
        twice.addNode("a") { _, _ in [:] }
        #expect { try twice.compile() } throws: { ($0 as? GraphError)?.detail.contains("declared twice") == true }

        var interrupt = StateGraph(name: "g")
        interrupt.addNode("a") { _, _ in [:] }
        interrupt.addEdge(StateGraph.start, "a")
        interrupt.addEdge("a", StateGraph.end)
        #expect { try interrupt.compile(CompileOptions(interruptBefore: ["zzz"])) } throws: {
            ($0 as? GraphError)?.detail.contains("'zzz'") == true
        }
    }

    // MARK: Reducers

    @Test func reducersCombineUpdates() throws {
        #expect(try Reducer.replace.combine(str("old"), str("new")) == str("new"))

        #expect(try Reducer.append.combine(nil, str("a")) == list("a"))
        #expect(try Reducer.append.combine(list("a"), list("b", "c")) == list("a", "b", "c"))
        #expect(try Reducer.append.combine(.null, list("x")) == list("x"))

        let merged = try Reducer.merge.combine(.object(["a": .number(1), "b": .number(2)]), .object(["b": .number(3), "a": .null, "c": .bool(true)]))
        #expect(merged == .object(["b": .number(3), "c": .bool(true)]))
        #expect(throws: GraphError.self) { try Reducer.merge.combine(nil, str("not an object")) }

        let byID = Reducer.mergeByKey("id")
        let messages = try byID.combine(
            .array([.object(["id": str("1"), "text": str("hi")]), .object(["id": str("2"), "text": str("yo")])]),
            .array([.object(["id": str("2"), "text": str("edited")]), .object(["id": str("3"), "text": str("new")])]))
        #expect(messages == .array([.object(["id": str("1"), "text": str("hi")]), .object(["id": str("2"), "text": str("edited")]),
                                    .object(["id": str("3"), "text": str("new")])]))
        #expect(throws: GraphError.self) { try byID.combine(nil, .array([.number(1)])) }

        let sum = Reducer.custom("sum") { current, update in
            guard case .number(let added) = update else { throw GraphError.invalidUpdate("sum takes numbers") }
            if case .number(let total)? = current { return .number(total + added) }
            return update
        }
        #expect(try sum.combine(.number(2), .number(3)) == .number(5))
        #expect(sum.name == "sum")
    }

    @Test(arguments: CheckpointStore.all)
    func reducersApplyToNodeUpdatesAndInput(store: CheckpointStore) async throws {
        var graph = StateGraph(name: "reducers")
        graph.addChannel("log", reducer: .append, default: .array([]))
        graph.addChannel("profile", reducer: .merge, default: .object(["plan": str("trial")]))
        graph.addChannel("items", reducer: .mergeByKey("id"))
        graph.addChannel("count", reducer: .custom("sum") { current, update in
            guard case .number(let added) = update else { throw GraphError.invalidUpdate("count takes numbers") }
            if case .number(let total)? = current { return .number(total + added) }
            return update
        })
        graph.addNode("one") { _, _ in
            ["log": str("one"), "profile": .object(["name": str("Ada")]), "items": .object(["id": str("x"), "v": .number(1)]),
             "count": .number(1), "title": str("first")]
        }
        graph.addNode("two") { _, _ in
            ["log": list("two", "again"), "profile": .object(["plan": str("scale")]), "items": .object(["id": str("x"), "v": .number(2)]),
             "count": .number(10), "title": str("second")]
        }
        graph.addEdge(StateGraph.start, "one")
        graph.addEdge("one", "two")
        graph.addEdge("two", StateGraph.end)
        let compiled = try graph.compile()
        try await store.with { checkpointer in
            let result = try await compiled.invoke(["log": str("input"), "count": .number(100)],
                                                   config: RunConfig(tenant: tenant, checkpointer: checkpointer))
            #expect(result.state["log"] == list("input", "one", "two", "again"))
            #expect(result.state["profile"] == .object(["name": str("Ada"), "plan": str("scale")]))
            #expect(result.state["items"] == .array([.object(["id": str("x"), "v": .number(2)])]))
            #expect(result.state["count"] == .number(111))
            #expect(result.state["title"] == str("second"), "keys without a channel are replaced")
            let stored = try await checkpointer.latest(runID: result.runID, tenant: tenant)
            #expect(stored?.state == result.state, "the stored checkpoint holds the same state")
        }
    }

    @Test func aRefusedUpdateFailsTheRunNamingTheNode() async throws {
        var graph = StateGraph(name: "refused")
        graph.addChannel("profile", reducer: .merge)
        graph.addNode("writer") { _, _ in ["profile": str("oops")] }
        graph.addEdge(StateGraph.start, "writer")
        graph.addEdge("writer", StateGraph.end)
        let error = await #expect(throws: GraphError.self) { try await graph.compile().invoke([:], config: RunConfig(tenant: tenant)) }
        #expect(error?.code == "invalid_update")
        #expect(error?.detail.contains("node 'writer'") == true)
    }

    // MARK: Parallel branches

    @Test(.timeLimit(.minutes(1)), arguments: CheckpointStore.all)
    func parallelBranchesRunConcurrentlyAndFanIn(store: CheckpointStore) async throws {
        let journal = Journal()
        var graph = StateGraph(name: "fan")
        graph.addChannel("visited", reducer: .append, default: .array([]))
        graph.addNode("plan") { _, _ in ["visited": list("plan")] }
        // `fast` and `slow` start in the same superstep; `slow` waits until `fast` has started,
        // which only ends when both run concurrently.
        let started = AsyncStream<Void>.makeStream()
        graph.addNode("fast") { _, _ in
            journal.record("fast")
            started.continuation.yield()
            return ["visited": list("fast")]
        }
        graph.addNode("slow") { _, _ in
            for await _ in started.stream { break }
            journal.record("slow")
            return ["visited": list("slow")]
        }
        graph.addNode("slower") { _, _ in
            journal.record("slower")
            return ["visited": list("slower")]
        }
        graph.addNode("join") { state, _ in
            journal.record("join")
            return ["visited": list("join"), "seen_by_join": state["visited"] ?? .null]
        }
        graph.addEdge(StateGraph.start, "plan")
        graph.addConditionalEdges(from: "plan", to: ["fast", "slow", StateGraph.end], fanOut: { _ in ["slow", "fast"] })
        graph.addEdge("slow", "slower")
        graph.addEdge(from: ["fast", "slower"], to: "join")
        graph.addEdge("join", StateGraph.end)
        let compiled = try graph.compile()
        try await store.with { checkpointer in
            let result = try await compiled.invoke([:], config: RunConfig(tenant: tenant, checkpointer: checkpointer))
            #expect(result.status == .completed)
            // Updates of one superstep fold in declaration order, whatever order the tasks finished in.
            #expect(result.state.visited == ["plan", "fast", "slow", "slower", "join"])
            #expect(journal.count("join") == 1, "the fan-in node runs once, after both branches")
            #expect(result.state["seen_by_join"] == list("plan", "fast", "slow", "slower"))
            let history = try await checkpointer.history(runID: result.runID, tenant: tenant)
            #expect(history.map(\.next) == [["plan"], ["fast", "slow"], ["slower"], ["join"], []])
            #expect(history[2].joins.values.first == ["fast"], "the join remembers the finished branch between supersteps")
        }
    }

    // MARK: Cycles

    @Test func cyclesStopAtTheRecursionLimitWithAClearError() async throws {
        func looping(limit: Int?) throws -> CompiledGraph {
            var graph = StateGraph(name: "loop")
            graph.addChannel("n", reducer: .custom("sum") { current, update in
                .number(Double(current?.int64 ?? 0) + Double(update.int64 ?? 0))
            })
            graph.addNode("again") { _, _ in ["n": .number(1)] }
            graph.addEdge(StateGraph.start, "again")
            graph.addConditionalEdges(from: "again", to: ["again", StateGraph.end]) { state in
                (state["n"]?.int64 ?? 0) >= 10 ? StateGraph.end : "again"
            }
            return try graph.compile(limit.map { CompileOptions(recursionLimit: $0) } ?? CompileOptions())
        }
        let bounded = try await looping(limit: nil).invoke([:], config: RunConfig(tenant: tenant))
        #expect(bounded.status == .completed)
        #expect(bounded.checkpoint.step == 10, "a cycle that ends within the limit completes")

        let error = await #expect(throws: GraphError.self) { try await looping(limit: 5).invoke([:], config: RunConfig(tenant: tenant)) }
        #expect(error?.code == "recursion_limit")
        #expect(error?.detail.contains("recursion limit of 5") == true)
        #expect(error?.detail.contains("'loop'") == true)

        var endless = StateGraph(name: "endless")
        endless.addNode("spin") { _, _ in [:] }
        endless.addEdge(StateGraph.start, "spin")
        endless.addEdge("spin", "spin")
        let checkpointer = InMemoryCheckpointer()
        let config = RunConfig(tenant: tenant, checkpointer: checkpointer)
        let defaultLimit = await #expect(throws: GraphError.self) { try await endless.compile().invoke([:], config: config) }
        #expect(defaultLimit?.detail.contains("recursion limit of 25 supersteps") == true)
        #expect(await checkpointer.latest(runID: config.runID, tenant: tenant)?.step == 25)
    }

    @Test func aFailingNodeFailsTheRunNamingIt() async throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        var graph = StateGraph(name: "fails")
        graph.addNode("explode") { _, _ in throw Boom() }
        graph.addEdge(StateGraph.start, "explode")
        graph.addEdge("explode", StateGraph.end)
        let error = await #expect(throws: GraphError.self) { try await graph.compile().invoke([:], config: RunConfig(tenant: tenant)) }
        #expect(error?.code == "node_failed")
        #expect(error?.detail == "node 'explode' failed: boom")
    }

    // MARK: Mermaid

    @Test func mermaidDrawsEdgesWithConditionalOnesDashed() throws {
        var graph = StateGraph(name: "drawn")
        graph.addNode("retrieve") { _, _ in [:] }
        graph.addNode("llm") { _, _ in [:] }
        graph.addNode("hitl") { _, _ in [:] }
        graph.addEdge(StateGraph.start, "retrieve")
        graph.addEdge("retrieve", "llm")
        graph.addConditionalEdges(from: "llm", to: ["hitl", StateGraph.end]) { _ in StateGraph.end }
        graph.addEdge("hitl", StateGraph.end)
        let text = try graph.compile(CompileOptions(interruptBefore: ["hitl"])).mermaid()
        #expect(text == """
            graph TD
                __start__([START])
                n_retrieve["retrieve"]
                n_llm["llm"]
                n_hitl["⏸ hitl"]
                __end__([END])
                __start__ --> n_retrieve
                n_retrieve --> n_llm
                n_hitl --> __end__
                n_llm -.-> n_hitl
                n_llm -.-> __end__

            """)
    }
}
