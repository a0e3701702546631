// Atlas — AI
// SPDX-License-Identifier: Apache-2.0

import Core

extension Assistant {
    /// The `assistant` graph over this assistant's nodes, ready to register.
    public func makeGraph() throws -> CompiledGraph {
        var graph = StateGraph(name: Self.graphName,
                               description: "retrieve → safety → semantic cache → llm → evaluate → route (auto | hitl)")
        // Each node adds its own findings under `safety`.
        graph.addChannel("safety", reducer: .merge, default: .object([:]))
        graph.addChannel("cached", default: .bool(false))
        graph.addNode("retrieve") { [self] state, context in try await retrieve(state, context) }
        graph.addNode("safety") { [self] state, context in try await screen(state, context) }
        graph.addNode("cache") { [self] state, context in try await lookUpCache(state, context) }
        graph.addNode("llm") { [self] state, context in try await generate(state, context) }
        graph.addNode("evaluate") { [self] state, context in try await evaluate(state, context) }
        graph.addNode("auto") { [self] state, context in try await finishAutomatically(state, context) }
        graph.addNode("hitl") { [self] state, context in try await review(state, context) }

        graph.addEdge(StateGraph.start, "retrieve")
        graph.addEdge("retrieve", "safety")
        graph.addEdge("safety", "cache")
        graph.addConditionalEdges(from: "cache", to: ["llm", "evaluate"]) { state in
            state["cached"] == .bool(true) ? "evaluate" : "llm"
        }
        graph.addEdge("llm", "evaluate")
        graph.addConditionalEdges(from: "evaluate", to: ["auto", "hitl"]) { state in Self.route(state) }
        graph.addEdge("auto", StateGraph.end)
        graph.addEdge("hitl", StateGraph.end)
        return try graph.compile(CompileOptions(recursionLimit: 16))
    }
}
